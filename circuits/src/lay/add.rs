//! Layout of `Add`: one arithmetic row per element, `out = ca·a + cb·b + c`.

use crate::chips::add::{AddCoefs, AddConfig};
use crate::error::LayoutFault;
use crate::lay::ctx::{expect_len, NodeCtx, Src, Walk};
use crate::lay::{tamper, NodeRows, RowsCtx};

/// Rows: one per element.
pub(crate) fn rows(rc: &RowsCtx<'_>) -> NodeRows {
    NodeRows::plain(rc.numel())
}

/// `y[i] = coef_a·a[i] + coef_b·b[i] + constant[i]` (`b` only with a second operand).
pub(crate) fn lay(
    add: &AddConfig,
    walk: &mut Walk<'_, '_>,
    ctx: &NodeCtx<'_>,
    [coef_a, coef_b]: [i64; 2],
    constant: &[i64],
) -> Result<Vec<Src>, LayoutFault> {
    let a = ctx.operand(0)?;
    let numel = ctx.numel();
    a.expect_len(numel)?;
    let b = ctx.operands.get(1);
    if let Some(b) = b {
        b.expect_len(numel)?;
    }
    if !constant.is_empty() {
        expect_len("constant", numel, constant.len())?;
    }
    // Without a second operand `b` is 0 by definition: its coefficient is 0 too, so the
    // (otherwise unconstrained) `b` cell cannot reach `out`.
    let cb = if b.is_some() { coef_b } else { 0 };
    let mut out = Vec::with_capacity(numel);
    for i in 0..numel {
        let c = constant.get(i).copied().unwrap_or(0);
        let bv = match b {
            Some(b) => b.at(i)?,
            None => a.at(i)?.map(|_| 0),
        };
        let mut w = match (a.at(i)?, bv, ctx.out_at(i)?) {
            (Some(av), Some(bv), Some(y)) => Some((av, bv, y)),
            _ => None,
        };
        tamper!(ctx, i, add(&mut w));
        let coefs = AddCoefs { ca: coef_a, cb, c };
        let row = walk.take(1);
        let cells = add.assign(walk.region, row, coefs, w)?;
        walk.bind(a.src(i)?, cells.a);
        if let Some(b) = b {
            walk.bind(b.src(i)?, cells.b);
        }
        out.push(Src::Cell(cells.out));
    }
    Ok(out)
}
