//! Layout of `Relu`: one row per element, the gap `d` range-checked in the row's limbs.

use crate::chips::range::RangeConfig;
use crate::chips::relu::{ReluConfig, ReluWitness};
use crate::error::LayoutFault;
use crate::lay::ctx::{NodeCtx, Src, Walk};
use crate::lay::{tamper, NodeRows, RowsCtx};
use crate::plan::bits;

/// Rows: one per element; `d` is checked to the bits of the input's bound.
pub(crate) fn rows(rc: &RowsCtx<'_>) -> NodeRows {
    NodeRows {
        rows: rc.numel(),
        range_bits: bits(rc.operand_bound(0)),
    }
}

/// `y = max(x, 0)`.
pub(crate) fn lay(
    relu: &ReluConfig,
    range: &RangeConfig,
    walk: &mut Walk<'_, '_>,
    ctx: &NodeCtx<'_>,
) -> Result<Vec<Src>, LayoutFault> {
    let x = ctx.operand(0)?;
    x.expect_len(ctx.numel())?;
    let d_bits = bits(x.desc.bound);
    let mut out = Vec::with_capacity(ctx.numel());
    for (i, src) in x.src.iter().enumerate() {
        let mut w = x.at(i)?.map(ReluWitness::new);
        tamper!(ctx, i, relu(&mut w));
        let row = walk.take(1);
        let cells = relu.assign(walk.region, row, w)?;
        walk.bind(*src, cells.x);
        let mut d = w.map(|w| i128::from(w.d));
        tamper!(ctx, i, inline_limbs(&mut d));
        range.assign_limbs(walk.region, row, d, d_bits)?;
        out.push(Src::Cell(cells.out));
    }
    Ok(out)
}
