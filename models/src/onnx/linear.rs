//! Gemm, MatMul and Add: the ops that become `Linear`, `AddConst` and `Add`.

use std::rc::Rc;

use super::error::ImportError;
use super::import::{Importer, Value};
use super::node::NodeCtx;
use super::shape::{broadcast_shape, broadcast_to};
use super::tensor::Const;
use crate::graph::{Op, TensorId};

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

/// `MatMul` of an activation `[.., n_in]` by a constant `[n_in, n_out]`.
pub(crate) fn matmul<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let (a, w) = match (imp.input(ctx, 0)?, imp.input(ctx, 1)?) {
        (Value::Tensor(a), Value::Const(w)) => (a, w),
        (Value::Tensor(_), Value::Tensor(_)) => {
            return Err(ctx.unsupported("MatMul between two activations is not supported yet"))
        }
        (Value::Const(_), Value::Tensor(_)) => {
            return Err(
                ctx.unsupported("MatMul of a constant by an activation is not supported yet")
            )
        }
        (Value::Const(_), Value::Const(_)) => {
            return Err(ctx.unsupported("MatMul of two constants is not supported"))
        }
    };
    let &[n_in, n_out] = w.dims.as_slice() else {
        return Err(ctx.shape_err(format!("constant operand must be 2-D, got {:?}", w.dims)));
    };
    let a_shape = imp.shape(a).to_vec();
    if a_shape.last() != Some(&n_in) {
        return Err(ctx.shape_err(format!("{a_shape:?} @ {:?}", w.dims)));
    }
    let mut shape = a_shape;
    if let Some(last) = shape.last_mut() {
        *last = n_out;
    }
    let weight = transpose(&w.to_f32(), n_in, n_out);
    let op = Op::Linear {
        weight,
        bias: vec![0.0; n_out],
        n_in,
        n_out,
    };
    let id = imp.push(ctx, ctx.name.clone(), op, vec![a], shape)?;
    imp.bind(out, Value::Tensor(id));
    Ok(())
}

/// `Add`: folds a per-column constant into a preceding Linear's bias when possible.
pub(crate) fn add<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    match (imp.input(ctx, 0)?, imp.input(ctx, 1)?) {
        (Value::Tensor(a), Value::Tensor(b)) => {
            let (sa, sb) = (imp.shape(a).to_vec(), imp.shape(b).to_vec());
            if sa != sb {
                return Err(ctx.shape_err(format!(
                    "adding two tensors of different shapes {sa:?} + {sb:?} is not supported"
                )));
            }
            let id = imp.push(ctx, ctx.name.clone(), Op::Add, vec![a, b], sa)?;
            imp.bind(out, Value::Tensor(id));
        }
        (Value::Tensor(t), Value::Const(c)) | (Value::Const(c), Value::Tensor(t)) => {
            add_const(imp, ctx, out, t, &c)?;
        }
        (Value::Const(a), Value::Const(b)) => {
            let dims = broadcast_shape(&a.dims, &b.dims)
                .ok_or_else(|| ctx.shape_err(format!("{:?} + {:?}", a.dims, b.dims)))?;
            let fa = broadcast_to(&a.to_f32(), &a.dims, &dims);
            let fb = broadcast_to(&b.to_f32(), &b.dims, &dims);
            let (Some(fa), Some(fb)) = (fa, fb) else {
                return Err(ctx.shape_err(format!("{:?} + {:?}", a.dims, b.dims)));
            };
            let sum = fa.iter().zip(&fb).map(|(x, y)| x + y).collect();
            imp.bind(out, Value::Const(Rc::new(Const::f32(dims, sum))));
        }
    }
    Ok(())
}

/// Tensor `t` plus constant `c`: bias folding or an `AddConst` node.
fn add_const<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    out: &'g str,
    t: TensorId,
    c: &Const,
) -> Result<(), ImportError> {
    let shape = imp.shape(t).to_vec();
    let values = c.to_f32();
    // Foldable: `t` is a Linear read only here, and `c` varies along the last axis only.
    let only_last_axis = c.dims.len() <= shape.len()
        && c.dims.iter().rev().skip(1).all(|&d| d == 1)
        && c.dims
            .last()
            .is_none_or(|&d| d == 1 || Some(&d) == shape.last());
    if only_last_axis && imp.uses(t) == 1 {
        if let Some(Op::Linear { bias, n_out, .. }) = t
            .checked_sub(1)
            .and_then(|i| imp.nodes.get_mut(i))
            .map(|n| &mut n.op)
        {
            let add = broadcast_to(&values, &[values.len()], &[*n_out])
                .ok_or_else(|| ctx.shape_err(format!("bias {:?} vs {n_out} outputs", c.dims)))?;
            bias.iter_mut().zip(add).for_each(|(b, a)| *b += a);
            imp.alias(out, t);
            return Ok(());
        }
    }
    let constant = broadcast_to(&values, &c.dims, &shape).ok_or_else(|| {
        ctx.shape_err(format!(
            "constant of shape {:?} does not broadcast to the tensor's shape {shape:?}",
            c.dims
        ))
    })?;
    let id = imp.push(
        ctx,
        ctx.name.clone(),
        Op::AddConst { constant },
        vec![t],
        shape,
    )?;
    imp.bind(out, Value::Tensor(id));
    Ok(())
}
