//! Layout of `Div`: per element, the division row, then the range rows of `t` (read by the
//! division gate at the next row), `r` and `y` (two rows for `y`, `y + B` and `B - y` on
//! one cell: the quotient's bound is calibrated, not implied by the operands, so the
//! circuit enforces exactly the `|y| <= B` later nodes assume).

use crate::chips::div::{DivConfig, DivWitness};
use crate::chips::range::RangeConfig;
use crate::error::LayoutFault;
use crate::field::{bits, signed_bits};
use crate::lay::ctx::{NodeCtx, Src, Walk};
use crate::lay::range_row::{range_row, range_row_i128, upper_row};
use crate::lay::{tamper, NodeRows, RowsCtx};

/// Rows per element: the division row and four range rows.
pub(crate) const ROWS_PER_ELEMENT: usize = 5;

/// Largest shift the reference semantics accepts.
pub(crate) const MAX_SHIFT: u32 = 62;

/// Rows: five per element; checks of the remainder's bits and of the output's bound.
pub(crate) fn rows(rc: &RowsCtx<'_>) -> NodeRows {
    NodeRows {
        rows: rc.numel() * ROWS_PER_ELEMENT,
        range_bits: remainder_bits(rc.operand_bound(1)).max(signed_bits(rc.node.out.bound)),
    }
}

/// Bits of the range checks on `r` and `t` for a divisor bounded by `bound`: both lie in
/// `[0, 2b - 1]`, and `2^c > 2·bound`.
pub(crate) fn remainder_bits(bound: u64) -> u32 {
    bits(bound.saturating_mul(2))
}

/// Lays out `y[i] = floor((a[i]·2^(shift+1) + b[i]) / (2·b[i]))`.
pub(crate) fn lay(
    div: &DivConfig,
    range: &RangeConfig,
    walk: &mut Walk<'_, '_>,
    ctx: &NodeCtx<'_>,
    shift: u32,
) -> Result<Vec<Src>, LayoutFault> {
    // The gate reads `t` from the next row's range value: they must be one column.
    if div.t != range.value {
        return Err(LayoutFault::MissingChip("division (t in the range column)"));
    }
    if shift > MAX_SHIFT {
        return Err(LayoutFault::Parameter("a Div shift above 62"));
    }
    let (a, b) = (ctx.operand(0)?, ctx.operand(1)?);
    let numel = ctx.numel();
    a.expect_len(numel)?;
    b.expect_len(numel)?;
    let c = remainder_bits(b.desc.bound);
    let y_bits = signed_bits(ctx.node.out.bound);
    let y_off = i128::from(ctx.node.out.bound);
    let mut out = Vec::with_capacity(numel);
    for i in 0..numel {
        let mut w = match (a.at(i)?, b.at(i)?, ctx.out_at(i)?) {
            (Some(av), Some(bv), Some(y)) => Some(DivWitness::with_quotient(av, bv, y, shift)),
            _ => None,
        };
        tamper!(ctx, i, div(&mut w));
        let row = walk.take(1);
        let cells = div.assign(walk.region, row, shift, w)?;
        // This row holds `t`: the division gate on the row above reads it by rotation.
        range_row_i128(range, walk, w.map(|w| w.t()), 0, c)?;
        let r_cell = range_row_i128(range, walk, w.map(|w| w.r), 0, c)?;
        walk.region.constrain_equal(cells.r, r_cell);
        let y_cell = range_row(range, walk, w.map(|w| w.y), y_off, y_bits)?;
        walk.region.constrain_equal(cells.y, y_cell);
        let upper = upper_row(range, walk, w.map(|w| w.y), y_off, y_bits)?;
        walk.region.constrain_equal(cells.y, upper);
        walk.bind(a.src(i)?, cells.a);
        walk.bind(b.src(i)?, cells.b);
        out.push(Src::Cell(cells.y));
    }
    Ok(out)
}
