//! Layout of `Relu`: one row per element, the gap `d` range-checked in the row's limbs.

use crate::chips::range::RangeConfig;
use crate::chips::relu::{ReluCells, ReluConfig, ReluWitness};
use crate::error::LayoutFault;
use crate::field::bits;
use crate::lay::ctx::{NodeCtx, Src, Walk};
use crate::lay::{tamper, NodeRows, RowsCtx};

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
    (0..ctx.numel())
        .map(|i| Ok(Src::Cell(relu_row(relu, range, walk, ctx, i)?.0.out)))
        .collect()
}

/// One ReLU row for element `i` of operand 0, its gap `d` range-checked in the row's limbs:
/// the row's cells (`x` already copied from its source) and its witness, when known.
pub(crate) fn relu_row(
    relu: &ReluConfig,
    range: &RangeConfig,
    walk: &mut Walk<'_, '_>,
    ctx: &NodeCtx<'_>,
    i: usize,
) -> Result<(ReluCells, Option<ReluWitness>), LayoutFault> {
    let x = ctx.operand(0)?;
    let d_bits = bits(x.desc.bound);
    let mut w = x.at(i)?.map(ReluWitness::new);
    tamper!(ctx, i, relu(&mut w));
    let row = walk.take(1);
    let cells = relu.assign(walk.region, row, w)?;
    walk.bind(x.src(i)?, cells.x);
    let mut d = w.map(|w| i128::from(w.d));
    tamper!(ctx, i, inline_limbs(&mut d));
    range.assign_limbs(walk.region, row, d, d_bits)?;
    Ok((cells, w))
}
