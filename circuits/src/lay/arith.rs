//! Mul and MulConst on the arithmetic gate, one row per element.
//!
//! `Mul`: `out = a·b` (`cm = 1`), both operands copied from their sources.
//! `MulConst`: `out = factor·x` (`ca = factor`); the `b` cell is copied from the same
//! source as `a`, so no cell of the row is left free. With advice parameters it is a `Mul`
//! whose `b` cell is copied from the factor's checked parameter cell.

use crate::chips::add::{AddConfig, ArithCoefs};
use crate::error::LayoutFault;
use crate::lay::ctx::{expect_len, NodeCtx, Src, Walk};
use crate::lay::{tamper, NodeRows, RowsCtx};

/// Rows of an elementwise op: one per element.
pub(crate) fn rows(rc: &RowsCtx<'_>) -> NodeRows {
    NodeRows::plain(rc.numel())
}

/// `y[i] = a[i] * b[i]`.
pub(crate) fn mul(
    arith: &AddConfig,
    walk: &mut Walk<'_, '_>,
    ctx: &NodeCtx<'_>,
) -> Result<Vec<Src>, LayoutFault> {
    let (a, b) = (ctx.operand(0)?, ctx.operand(1)?);
    a.expect_len(ctx.numel())?;
    b.expect_len(ctx.numel())?;
    let coefs = ArithCoefs {
        cm: 1,
        ..ArithCoefs::default()
    };
    let mut out = Vec::with_capacity(ctx.numel());
    for i in 0..ctx.numel() {
        let mut w = match (a.at(i)?, b.at(i)?, ctx.out_at(i)?) {
            (Some(a), Some(b), Some(y)) => Some((a, b, y)),
            _ => None,
        };
        tamper!(ctx, i, mul(&mut w));
        let row = walk.take(1);
        let cells = arith.assign_arith(walk.region, row, coefs, w)?;
        walk.bind(a.src(i)?, cells.a);
        walk.bind(b.src(i)?, cells.b);
        out.push(Src::Cell(cells.out));
    }
    Ok(out)
}

/// `y[i] = factor[i] * x[i]`.
pub(crate) fn mul_const(
    arith: &AddConfig,
    walk: &mut Walk<'_, '_>,
    ctx: &NodeCtx<'_>,
    factor: &[i64],
) -> Result<Vec<Src>, LayoutFault> {
    let x = ctx.operand(0)?;
    x.expect_len(ctx.numel())?;
    expect_len("factor", ctx.numel(), factor.len())?;
    let mut out = Vec::with_capacity(ctx.numel());
    let params = match &ctx.params {
        Some(p) => Some(p.tensor(0)?),
        None => None,
    };
    for (i, f) in factor.iter().enumerate() {
        // With advice parameters the row is `out = x·f`, `f` in the `b` cell.
        let b_value = |xv| if params.is_some() { *f } else { xv };
        let mut w = match (x.at(i)?, ctx.out_at(i)?) {
            (Some(xv), Some(y)) => Some((xv, b_value(xv), y)),
            _ => None,
        };
        tamper!(ctx, i, mul(&mut w));
        let coefs = match params {
            Some(_) => ArithCoefs {
                cm: 1,
                ..ArithCoefs::default()
            },
            None => ArithCoefs {
                ca: *f,
                ..ArithCoefs::default()
            },
        };
        let row = walk.take(1);
        let cells = arith.assign_arith(walk.region, row, coefs, w)?;
        let src = x.src(i)?;
        walk.bind(src, cells.a);
        match params {
            Some(p) => {
                let cell = p.get(i).copied().ok_or(LayoutFault::Parameter(
                    "parameter cells of the wrong length",
                ))?;
                walk.region.constrain_equal(cells.b, cell);
            }
            None => walk.bind(src, cells.b),
        }
        out.push(Src::Cell(cells.out));
    }
    Ok(out)
}
