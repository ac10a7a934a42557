//! Layout of the salt row and of a salted commitment to a list of cells (a hashed input
//! part, a hashed output, the parameters).

use halo2_proofs::circuit::{Cell, Value};
use halo2_proofs::halo2curves::bn256::Fr;

use crate::chips::commit;
use crate::config::ModelConfig;
use crate::error::LayoutFault;
use crate::lay::ctx::Walk;
use crate::poseidon::value_bits;

/// The salt row: the salt in pool column 0, free advice the prover chooses (only the
/// commitments bind it). Unknown when not proving.
pub(crate) fn lay_salt(
    config: &ModelConfig,
    walk: &mut Walk<'_, '_>,
    salt: Option<Fr>,
) -> (Cell, Option<Fr>) {
    let row = walk.take(1);
    let value = salt.map_or(Value::unknown(), Value::known);
    let cell = walk.region.assign_advice(config.pool[0], row, value).cell();
    (cell, salt)
}

/// The salted commitment to `cells` (bounded by `bound`): [`commit::rows`] rows; returns the
/// cell holding it.
pub(crate) fn lay_commitment(
    config: &ModelConfig,
    walk: &mut Walk<'_, '_>,
    cells: &[Cell],
    bound: u64,
    values: Option<&[i64]>,
    salt: Option<(Cell, Option<Fr>)>,
) -> Result<Cell, LayoutFault> {
    let poseidon = config
        .poseidon
        .clone()
        .ok_or(LayoutFault::MissingChip("poseidon"))?;
    if value_bits(bound) > commit::MAX_VALUE_BITS {
        return Err(LayoutFault::Parameter(
            "the bound is too wide to pack for a commitment",
        ));
    }
    let (salt_cell, salt_value) = match salt {
        Some((cell, value)) => (Some(cell), value),
        None => (None, Some(Fr::zero())),
    };
    let witness = match (values, salt_value) {
        (Some(x), Some(s)) => Some(commit::witness(x, bound, s)),
        _ => None,
    };
    let chips = commit::CommitConfig {
        add: config.add.clone(),
        poseidon,
    };
    let at = walk.take(commit::rows(cells.len(), bound));
    Ok(chips.assign(walk.region, at, cells, bound, salt_cell, witness.as_ref())?)
}
