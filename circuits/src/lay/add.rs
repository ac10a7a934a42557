//! Layout of `Add`: one arithmetic row per element, `out = ca·a + cb·b + c`.
//!
//! With advice parameters the constant `c` is a checked parameter cell instead of a fixed
//! one: with one operand it takes the `b` cell (`out = ca·a + 1·c`); with two, a first row
//! computes `t = ca·a + cb·b` and a second `out = t + c`.

use halo2_proofs::circuit::Cell;

use crate::chips::add::{AddCoefs, AddConfig};
use crate::error::LayoutFault;
use crate::lay::ctx::{expect_len, NodeCtx, Src, Walk};
use crate::lay::{tamper, NodeRows, RowsCtx};

/// Rows: one per element, two for a two-operand add of an advice constant.
pub(crate) fn rows(rc: &RowsCtx<'_>) -> NodeRows {
    NodeRows::plain(rc.numel() * rows_per_element(rc.graph, rc.node))
}

fn rows_per_element(graph: &zkinfer_ir::QGraph, node: &zkinfer_ir::QNode) -> usize {
    match &node.op {
        zkinfer_ir::QOp::Add { constant, .. }
            if graph.advice_params() && !constant.is_empty() && node.inputs.len() > 1 =>
        {
            2
        }
        _ => 1,
    }
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
    let params: Option<&[Cell]> = match &ctx.params {
        Some(p) if !constant.is_empty() => Some(p.tensor(0)?),
        _ => None,
    };
    // Without a second operand `b` is 0 by definition: its coefficient is 0 too, so the
    // (otherwise unconstrained) `b` cell cannot reach `out`.
    let cb = if b.is_some() { coef_b } else { 0 };
    let mut out = Vec::with_capacity(numel);
    for i in 0..numel {
        let c = constant.get(i).copied().unwrap_or(0);
        let param = match params {
            Some(p) => Some(p.get(i).copied().ok_or(LayoutFault::Parameter(
                "parameter cells of the wrong length",
            ))?),
            None => None,
        };
        let bv = match b {
            Some(b) => b.at(i)?,
            None => a.at(i)?.map(|_| 0),
        };
        let y = ctx.out_at(i)?;
        let cell = match (param, b) {
            (None, _) => {
                let mut w = match (a.at(i)?, bv, y) {
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
                cells.out
            }
            // `out = ca·a + 1·c`, the constant in the `b` cell.
            (Some(param), None) => {
                let mut w = match (a.at(i)?, y) {
                    (Some(av), Some(y)) => Some((av, c, y)),
                    _ => None,
                };
                tamper!(ctx, i, add(&mut w));
                let coefs = AddCoefs {
                    ca: coef_a,
                    cb: 1,
                    c: 0,
                };
                let row = walk.take(1);
                let cells = add.assign(walk.region, row, coefs, w)?;
                walk.bind(a.src(i)?, cells.a);
                walk.region.constrain_equal(cells.b, param);
                cells.out
            }
            // `t = ca·a + cb·b`, then `out = t + 1·c`.
            (Some(param), Some(b)) => {
                let t = match (a.at(i)?, bv) {
                    (Some(av), Some(bv)) => Some(
                        (i128::from(coef_a) * i128::from(av) + i128::from(cb) * i128::from(bv))
                            as i64,
                    ),
                    _ => None,
                };
                let first = match (a.at(i)?, bv, t) {
                    (Some(av), Some(bv), Some(t)) => Some((av, bv, t)),
                    _ => None,
                };
                let row = walk.take(1);
                let coefs = AddCoefs {
                    ca: coef_a,
                    cb,
                    c: 0,
                };
                let sum = add.assign(walk.region, row, coefs, first)?;
                walk.bind(a.src(i)?, sum.a);
                walk.bind(b.src(i)?, sum.b);
                let mut w = match (t, y) {
                    (Some(t), Some(y)) => Some((t, c, y)),
                    _ => None,
                };
                tamper!(ctx, i, add(&mut w));
                let row = walk.take(1);
                let coefs = AddCoefs { ca: 1, cb: 1, c: 0 };
                let cells = add.assign(walk.region, row, coefs, w)?;
                walk.region.constrain_equal(cells.a, sum.out);
                walk.region.constrain_equal(cells.b, param);
                cells.out
            }
        };
        out.push(Src::Cell(cell));
    }
    Ok(out)
}
