//! Gemm: a `Linear` (plus an `AddConst` for a bias that varies across rows).

use super::error::ImportError;
use super::import::{Importer, Value};
use super::node::NodeCtx;
use super::shape::broadcast_to;
use crate::graph::Op;

/// `Gemm`: `alpha * A @ op(B) + beta * C`, with `A` the activation and `B`, `C` constants.
pub(crate) fn gemm<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    if ctx.attr_int("transA", 0)? != 0 {
        return Err(ctx.bad_attr(
            "transA",
            "must be 0 (a transposed activation is not supported)",
        ));
    }
    let trans_b = ctx.attr_int("transB", 0)? != 0;
    let alpha = ctx.attr_float("alpha", 1.0)?;
    let beta = ctx.attr_float("beta", 1.0)?;
    let Value::Tensor(a) = imp.input(ctx, 0)? else {
        return Err(ctx.unsupported("operand A must be computed from the graph input"));
    };
    let b = imp.const_input(ctx, 1)?;
    let c = match imp.input_opt(ctx, 2)? {
        None => None,
        Some(Value::Const(c)) => Some(c),
        Some(Value::Tensor(_)) => return Err(ctx.not_constant(ctx.input_name(2).unwrap_or(""))),
    };
    let &[rows, n_in] = imp.shape(a) else {
        return Err(ctx.shape_err(format!("input A must be 2-D, got {:?}", imp.shape(a))));
    };
    let &[b0, b1] = b.dims.as_slice() else {
        return Err(ctx.shape_err(format!("weight B must be 2-D, got {:?}", b.dims)));
    };
    let (n_out, k) = if trans_b { (b0, b1) } else { (b1, b0) };
    if k != n_in {
        let detail = format!(
            "A is [{rows}, {n_in}] but B (transB={}) is {:?}",
            u8::from(trans_b),
            b.dims
        );
        return Err(ctx.shape_err(detail));
    }
    let mut weight = if trans_b {
        b.to_f32()
    } else {
        transpose(&b.to_f32(), n_in, n_out)
    };
    if alpha != 1.0 {
        weight.iter_mut().for_each(|w| *w *= alpha);
    }
    // C broadcasts to [rows, n_out]: a per-column bias when it does not vary across rows.
    let (bias, extra) = match c {
        None => (vec![0.0; n_out], None),
        Some(c) => {
            let scaled: Vec<f32> = c.to_f32().iter().map(|v| v * beta).collect();
            let err = || ctx.shape_err(c_detail(&c.dims, rows, n_out));
            if c.dims.len() > 2 {
                return Err(err());
            }
            if c.dims.len() < 2 || c.dims.first() == Some(&1) {
                let row_dims: Vec<usize> = c.dims.last().map(|&d| vec![d]).unwrap_or_default();
                (
                    broadcast_to(&scaled, &row_dims, &[n_out]).ok_or_else(err)?,
                    None,
                )
            } else {
                let full = broadcast_to(&scaled, &c.dims, &[rows, n_out]).ok_or_else(err)?;
                (vec![0.0; n_out], Some(full))
            }
        }
    };
    let op = Op::Linear {
        weight,
        bias,
        n_in,
        n_out,
    };
    let lin = imp.push(ctx, ctx.name.clone(), op, vec![a], vec![rows, n_out])?;
    let result = match extra {
        None => lin,
        Some(constant) => {
            let name = format!("{}/bias", ctx.name);
            imp.push(
                ctx,
                name,
                Op::AddConst { constant },
                vec![lin],
                vec![rows, n_out],
            )?
        }
    };
    imp.bind(out, Value::Tensor(result));
    Ok(())
}

fn c_detail(dims: &[usize], rows: usize, n_out: usize) -> String {
    format!("bias C of shape {dims:?} does not broadcast to [{rows}, {n_out}]")
}

/// Transposes a row-major `[r, c]` matrix.
fn transpose(m: &[f32], r: usize, c: usize) -> Vec<f32> {
    (0..c)
        .flat_map(|j| (0..r).map(move |i| m.get(i * c + j).copied().unwrap_or(0.0)))
        .collect()
}
