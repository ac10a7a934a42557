//! Range check: proves `value + offset ∈ [0, 2^bits)` (or, on an upper-bound row,
//! `offset - value ∈ [0, 2^bits)`) by decomposing it into limbs.
//!
//! Each limb column `l_i` is looked up, together with its per-row fixed tag `τ_i`, in a
//! table of pairs `(t, v)` with `0 ≤ v < 2^t`, `t ∈ 0..=L`. A row checking `bits` bits sets
//! the tags to `L, L, …, top, 0, …`, so unused limbs are forced to 0 and the top limb to
//! its exact width. Limb columns are dedicated (never shared), so the lookups need no
//! selector: on rows without a check every tag is 0 and every limb 0.

use halo2_proofs::circuit::{Cell, Layouter, Region, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{
    Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector, TableColumn,
};
use halo2_proofs::poly::Rotation;

use crate::field::{fr_from_i128, pow2};

/// Name of the range-check gate.
pub const GATE: &str = "range decomposition";
/// Name of its constraint.
pub const CONSTRAINT: &str = "value + offset = sum of limbs";
/// Name of the upper-bound gate.
pub const UPPER_GATE: &str = "upper bound decomposition";
/// Name of its constraint.
pub const UPPER_CONSTRAINT: &str = "offset - value = sum of limbs";

/// Columns of the range-check chip.
#[derive(Debug, Clone)]
pub struct RangeConfig {
    /// Enables `value + offset = Σ 2^(iL) · l_i` on a row.
    pub q_range: Selector,
    /// Enables `offset - value = Σ 2^(iL) · l_i` on a row (an upper bound on `value`).
    pub q_upper: Selector,
    /// Advice: the value being checked (shared pool column 0, equality enabled).
    pub value: Column<Advice>,
    /// Fixed: per-row offset added before the check (e.g. the bound for signed values).
    pub offset: Column<Fixed>,
    /// Advice: the limbs, little-endian, `limb_bits` bits each (dedicated columns).
    pub limbs: Vec<Column<Advice>>,
    /// Fixed: per-row, per-limb width tag (0 forces the limb to 0).
    pub tags: Vec<Column<Fixed>>,
    /// Lookup table: width tag `t`.
    pub table_tag: TableColumn,
    /// Lookup table: a value `v < 2^t`.
    pub table_value: TableColumn,
    /// Bits per limb `L`.
    pub limb_bits: u32,
}

/// The limbs and tags for checking `shifted ∈ [0, 2^bits)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeWitness {
    /// `value + offset` split into limbs (may be out of range if the value is).
    pub limbs: Vec<i128>,
    /// Width tag of each limb.
    pub tags: Vec<u32>,
}

impl RangeConfig {
    /// Creates the gate and the `limbs.len()` lookups.
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        value: Column<Advice>,
        n_limbs: usize,
        limb_bits: u32,
    ) -> Self {
        let q_range = meta.selector();
        let q_upper = meta.selector();
        let offset = meta.fixed_column();
        let limbs: Vec<_> = (0..n_limbs).map(|_| meta.advice_column()).collect();
        let tags: Vec<_> = (0..n_limbs).map(|_| meta.fixed_column()).collect();
        let table_tag = meta.lookup_table_column();
        let table_value = meta.lookup_table_column();
        let limbs_sum = |meta: &mut halo2_proofs::plonk::VirtualCells<'_, Fr>| {
            limbs
                .iter()
                .enumerate()
                .fold(Expression::Constant(Fr::zero()), |acc, (i, l)| {
                    acc + meta.query_advice(*l, Rotation::cur())
                        * Expression::Constant(pow2(limb_bits * i as u32))
                })
        };
        // q_range · (v + offset - Σ 2^(iL)·l_i) = 0
        meta.create_gate(GATE, |meta| {
            let q = meta.query_selector(q_range);
            let v = meta.query_advice(value, Rotation::cur());
            let off = meta.query_fixed(offset, Rotation::cur());
            let sum = limbs_sum(meta);
            vec![(CONSTRAINT, q * (v + off - sum))]
        });
        // q_upper · (offset - v - Σ 2^(iL)·l_i) = 0
        meta.create_gate(UPPER_GATE, |meta| {
            let q = meta.query_selector(q_upper);
            let v = meta.query_advice(value, Rotation::cur());
            let off = meta.query_fixed(offset, Rotation::cur());
            let sum = limbs_sum(meta);
            vec![(UPPER_CONSTRAINT, q * (off - v - sum))]
        });
        for (i, (l, t)) in limbs.iter().zip(&tags).enumerate() {
            // (τ_i, l_i) ∈ {(t, v) : 0 ≤ v < 2^t, t ≤ L}
            meta.lookup(format!("limb {i} in range"), |meta| {
                let l = meta.query_advice(*l, Rotation::cur());
                let t = meta.query_fixed(*t, Rotation::cur());
                vec![(t, table_tag), (l, table_value)]
            });
        }
        RangeConfig {
            q_range,
            q_upper,
            value,
            offset,
            limbs,
            tags,
            table_tag,
            table_value,
            limb_bits,
        }
    }

    /// Fills the `(tag, value)` table: every `v < 2^t` for `t = 0..=L`.
    pub fn load_table(&self, layouter: &mut impl Layouter<Fr>) -> Result<(), Error> {
        layouter.assign_table(
            || "range table",
            |mut table| {
                let mut row = 0;
                for t in 0..=self.limb_bits {
                    for v in 0..(1u64 << t) {
                        table.assign_cell(
                            || "tag",
                            self.table_tag,
                            row,
                            || Value::known(Fr::from(u64::from(t))),
                        )?;
                        table.assign_cell(
                            || "value",
                            self.table_value,
                            row,
                            || Value::known(Fr::from(v)),
                        )?;
                        row += 1;
                    }
                }
                Ok(())
            },
        )
    }

    /// `Σ_i 2^(iL) · l_i` on the current row: the value the limbs spell. A chip that puts
    /// `x - limbs_sum = 0` in its own gate range-checks `x` on its own row (the tags set by
    /// [`RangeConfig::assign_limbs`] fix the width), with no extra row and no copy.
    pub fn limbs_sum(
        &self,
        meta: &mut halo2_proofs::plonk::VirtualCells<'_, Fr>,
    ) -> Expression<Fr> {
        self.limbs
            .iter()
            .enumerate()
            .fold(Expression::Constant(Fr::zero()), |acc, (i, l)| {
                acc + meta.query_advice(*l, Rotation::cur())
                    * Expression::Constant(pow2(self.limb_bits * i as u32))
            })
    }

    /// Assigns the tags and limbs of a `bits`-bit check of `shifted` on `row` (for a chip
    /// whose gate uses [`RangeConfig::limbs_sum`]); `None` during key generation.
    pub fn assign_limbs(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        shifted: Option<i128>,
        bits: u32,
    ) -> Result<(), Error> {
        let witness = shifted.map(|v| self.witness(v, bits));
        self.write_limbs(region, row, bits, witness.as_ref());
        Ok(())
    }

    /// Writes the width tags of a `bits`-bit check and the limbs of `witness` (unknown
    /// during key generation) on `row`.
    fn write_limbs(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        bits: u32,
        witness: Option<&RangeWitness>,
    ) {
        let tags = range_witness(0, bits, self.limb_bits, self.limbs.len()).tags;
        for (i, (col, tag)) in self.limbs.iter().zip(&self.tags).enumerate() {
            region.assign_fixed(
                *tag,
                row,
                Fr::from(u64::from(tags.get(i).copied().unwrap_or(0))),
            );
            let v = match witness {
                Some(w) => Value::known(fr_from_i128(w.limbs.get(i).copied().unwrap_or(0))),
                None => Value::unknown(),
            };
            region.assign_advice(*col, row, v);
        }
    }

    /// Number of table rows for `limb_bits`.
    pub fn table_rows(limb_bits: u32) -> usize {
        (1usize << (limb_bits + 1)) - 1
    }

    /// Splits `shifted` (= value + offset) into limbs and tags for a `bits`-bit check.
    pub fn witness(&self, shifted: i128, bits: u32) -> RangeWitness {
        range_witness(shifted, bits, self.limb_bits, self.limbs.len())
    }

    /// Assigns one range-check row at `row`, and returns the value cell (to be copied).
    pub fn assign(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        value: Value<Fr>,
        offset: i128,
        bits: u32,
        witness: Option<&RangeWitness>,
    ) -> Result<Cell, Error> {
        self.assign_with(self.q_range, region, row, value, offset, bits, witness)
    }

    /// Assigns one upper-bound row at `row` (`offset - value ∈ [0, 2^bits)`, `witness` split
    /// from `offset - value`), and returns the value cell (to be copied).
    pub fn assign_upper(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        value: Value<Fr>,
        offset: i128,
        bits: u32,
        witness: Option<&RangeWitness>,
    ) -> Result<Cell, Error> {
        self.assign_with(self.q_upper, region, row, value, offset, bits, witness)
    }

    #[allow(clippy::too_many_arguments)]
    fn assign_with(
        &self,
        selector: Selector,
        region: &mut Region<'_, Fr>,
        row: usize,
        value: Value<Fr>,
        offset: i128,
        bits: u32,
        witness: Option<&RangeWitness>,
    ) -> Result<Cell, Error> {
        selector.enable(region, row)?;
        region.assign_fixed(self.offset, row, fr_from_i128(offset));
        let cell = region.assign_advice(self.value, row, value).cell();
        self.write_limbs(region, row, bits, witness);
        Ok(cell)
    }
}

/// Limbs and tags for checking `shifted ∈ [0, 2^bits)` with `n` limbs of `limb_bits` bits.
/// Values outside the range are still split (the top limb then overflows its tag), so a
/// dishonest witness reaches the circuit and is rejected there.
pub fn range_witness(shifted: i128, bits: u32, limb_bits: u32, n: usize) -> RangeWitness {
    let mut limbs = Vec::with_capacity(n);
    let mut tags = Vec::with_capacity(n);
    let mut rest = shifted;
    let mut left = bits;
    let mask = (1i128 << limb_bits) - 1;
    for i in 0..n {
        let t = left.min(limb_bits);
        left -= t;
        tags.push(t);
        if i + 1 == n || t < limb_bits {
            limbs.push(rest);
            rest = 0;
        } else {
            limbs.push(rest & mask);
            rest >>= limb_bits;
        }
    }
    RangeWitness { limbs, tags }
}

/// Limbs needed for a `bits`-bit check.
pub fn limbs_needed(bits: u32, limb_bits: u32) -> usize {
    bits.div_ceil(limb_bits.max(1)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn honest_split_fits_every_tag() {
        for (value, bits) in [
            (0i128, 0u32),
            (5, 3),
            (255, 8),
            (256, 9),
            (1 << 20, 21),
            ((1 << 21) - 1, 21),
        ] {
            let w = range_witness(value, bits, 8, 3);
            assert_eq!(w.tags.iter().sum::<u32>(), bits);
            let rebuilt: i128 = w.limbs.iter().enumerate().map(|(i, l)| l << (8 * i)).sum();
            assert_eq!(rebuilt, value);
            assert!(
                w.limbs
                    .iter()
                    .zip(&w.tags)
                    .all(|(l, t)| (0..1i128 << t).contains(l)),
                "{value}: {w:?}"
            );
        }
    }

    #[test]
    fn out_of_range_values_overflow_a_tag() {
        // One bit too many, a negative value, and a value needing an unused limb.
        for (value, bits) in [(8i128, 3u32), (-1, 8), (1 << 16, 16)] {
            let w = range_witness(value, bits, 8, 3);
            let rebuilt: i128 = w.limbs.iter().enumerate().map(|(i, l)| l << (8 * i)).sum();
            assert_eq!(
                rebuilt, value,
                "the split still adds up, so only the lookup can object"
            );
            assert!(
                w.limbs
                    .iter()
                    .zip(&w.tags)
                    .any(|(l, t)| !(0..1i128 << t).contains(l)),
                "{value}: {w:?}"
            );
        }
        assert_eq!(limbs_needed(17, 8), 3);
        assert_eq!(RangeConfig::table_rows(4), 31);
    }
}
