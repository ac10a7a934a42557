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
    let at = walk.take(1);
    let witness = v.map(|v| range.witness(v + offset, bits));
    Ok(range.assign(
        walk.region,
        at,
        value_i128(v),
        offset,
        bits,
        witness.as_ref(),
    )?)
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
    let at = walk.take(1);
    let witness = v.map(|v| range.witness(offset - i128::from(v), bits));
    Ok(range.assign_upper(
        walk.region,
        at,
        value_i128(v.map(i128::from)),
        offset,
        bits,
        witness.as_ref(),
    )?)
}
