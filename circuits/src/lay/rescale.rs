//! Layout of `Rescale`: per element, the rescale row (its remainder range-checked in the
//! same row's limbs), then a range row for the output.

use zkinfer_ir::semantics::rescale_remainder;

use crate::chips::range::RangeConfig;
use crate::chips::rescale::RescaleConfig;
use crate::error::LayoutFault;
use crate::lay::ctx::{NodeCtx, Src, Walk};
use crate::lay::range_row::range_row;
use crate::lay::{tamper, NodeRows, RowsCtx};
use crate::plan::signed_bits;

/// Rows: two per element; checks of `shift` bits (remainder) and of the output's bound.
pub(crate) fn rows(rc: &RowsCtx<'_>, shift: u32) -> NodeRows {
    NodeRows {
        rows: 2 * rc.numel(),
        range_bits: shift.max(signed_bits(rc.node.out.bound)),
    }
}

/// `y = round_half_up(v / 2^shift)`, with `v = y·2^shift - 2^(shift-1) + r`, `r ∈ [0, 2^shift)`.
pub(crate) fn lay(
    rescale: &RescaleConfig,
    range: &RangeConfig,
    walk: &mut Walk<'_, '_>,
    ctx: &NodeCtx<'_>,
    shift: u32,
) -> Result<Vec<Src>, LayoutFault> {
    let x = ctx.operand(0)?;
    x.expect_len(ctx.numel())?;
    let y_bits = signed_bits(ctx.node.out.bound);
    let y_off = i128::from(ctx.node.out.bound);
    let mut out = Vec::with_capacity(ctx.numel());
    for (i, src) in x.src.iter().enumerate() {
        let mut w = match (x.at(i)?, ctx.out_at(i)?) {
            (Some(v), Some(y)) => Some((v, y, rescale_remainder(v, shift))),
            _ => None,
        };
        tamper!(ctx, i, rescale(&mut w, shift));
        let row = walk.take(1);
        let cells = rescale.assign(walk.region, row, shift, w)?;
        walk.bind(*src, cells.v);
        let mut r = w.map(|w| i128::from(w.2));
        tamper!(ctx, i, inline_limbs(&mut r));
        range.assign_limbs(walk.region, row, r, shift)?;
        let y_cell = range_row(range, walk, w.map(|w| w.1), y_off, y_bits)?;
        walk.region.constrain_equal(cells.y, y_cell);
        out.push(Src::Cell(cells.y));
    }
    Ok(out)
}
