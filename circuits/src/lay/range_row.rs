//! Standalone range-check rows, shared by the ops that check a value on a row of its own.

use halo2_proofs::circuit::Cell;

use crate::chips::range::RangeConfig;
use crate::error::LayoutFault;
use crate::lay::ctx::{value_i128, Walk};

/// Assigns one range-check row for `value + offset ∈ [0, 2^bits)` and advances.
pub(crate) fn range_row(
    range: &RangeConfig,
    walk: &mut Walk<'_, '_>,
    v: Option<i64>,
    offset: i128,
    bits: u32,
) -> Result<Cell, LayoutFault> {
    range_row_i128(range, walk, v.map(i128::from), offset, bits)
}

/// [`range_row`] for a value that may not fit in i64 (a dishonest remainder).
pub(crate) fn range_row_i128(
    range: &RangeConfig,
    walk: &mut Walk<'_, '_>,
    v: Option<i128>,
    offset: i128,
    bits: u32,
) -> Result<Cell, LayoutFault> {
    one_row(range, walk, v, offset, bits, false)
}

/// Assigns one upper-bound row for `offset - value ∈ [0, 2^bits)` and advances; with
/// [`range_row`] on the same cell it bounds the value on both sides.
pub(crate) fn upper_row(
    range: &RangeConfig,
    walk: &mut Walk<'_, '_>,
    v: Option<i64>,
    offset: i128,
    bits: u32,
) -> Result<Cell, LayoutFault> {
    one_row(range, walk, v.map(i128::from), offset, bits, true)
}

/// `|v| <= bound` on one cell: a [`range_row`] and an [`upper_row`] (offset `bound`, `bits`
/// wide), their value cells copy-constrained to each other; returns (lower, upper) cells.
pub(crate) fn both_sides(
    range: &RangeConfig,
    walk: &mut Walk<'_, '_>,
    v: Option<i64>,
    bound: i128,
    bits: u32,
) -> Result<(Cell, Cell), LayoutFault> {
    let lower = range_row(range, walk, v, bound, bits)?;
    let upper = upper_row(range, walk, v, bound, bits)?;
    walk.region.constrain_equal(lower, upper);
    Ok((lower, upper))
}

/// One lower (`v + offset`) or upper (`offset - v`) row, its limbs split from that number.
fn one_row(
    range: &RangeConfig,
    walk: &mut Walk<'_, '_>,
    v: Option<i128>,
    offset: i128,
    bits: u32,
    upper: bool,
) -> Result<Cell, LayoutFault> {
    let at = walk.take_range_row();
    let shifted = |v: i128| if upper { offset - v } else { v + offset };
    let witness = v.map(|v| range.witness(shifted(v), bits));
    let value = value_i128(v);
    Ok(if upper {
        range.assign_upper(walk.region, at, value, offset, bits, witness.as_ref())?
    } else {
        range.assign(walk.region, at, value, offset, bits, witness.as_ref())?
    })
}
