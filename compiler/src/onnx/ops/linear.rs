//! Gemm: a `Linear` (plus an `AddConst` for a bias that varies across rows).

use crate::graph::{Op, TensorId};
use crate::onnx::error::ImportError;
use crate::onnx::node::NodeCtx;
use crate::onnx::shape::broadcast_to;
use crate::onnx::shape::swap_last_two;
use crate::onnx::state::{Importer, Value};
use crate::onnx::tensor::Const;

/// `Gemm`: `alpha * op(A) @ op(B) + beta * C`, one of `A`, `B` an activation, the other and
/// `C` constants.
pub(crate) fn gemm<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let trans_a = ctx.attr_int("transA", 0)? != 0;
    let trans_b = ctx.attr_int("transB", 0)? != 0;
    let alpha = ctx.attr_float("alpha", 1.0)?;
    let beta = ctx.attr_float("beta", 1.0)?;
    let a = match (imp.input(ctx, 0)?, imp.input(ctx, 1)?) {
        (Value::Tensor(a), Value::Const(_)) => a,
        (Value::Const(a), Value::Tensor(b)) => {
            return constant_a(imp, ctx, &a, b, [trans_a, trans_b], [alpha, beta])
        }
        (Value::Tensor(_), Value::Tensor(_)) => {
            return Err(ctx.unsupported("A and B both computed from the graph input (use MatMul)"))
        }
        (Value::Const(_), Value::Const(_)) => return Err(ctx.unsupported("A and B both constant")),
    };
    // A transposed activation is transposed by an index map first.
    let a = if trans_a {
        let dims = imp.shape(a).to_vec();
        let &[r, c] = dims.as_slice() else {
            return Err(ctx.shape_err(format!("input A must be 2-D, got {dims:?}")));
        };
        let index = swap_last_two(ctx, &dims)?;
        let name = format!("{}/transpose_a", ctx.name);
        imp.push(ctx, name, Op::Select { index }, vec![a], vec![c, r])?
    } else {
        a
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
    let lin = imp.push_trained(ctx, ctx.name.clone(), op, vec![a], vec![rows, n_out])?;
    let result = match extra {
        None => lin,
        Some(constant) => {
            let name = format!("{}/bias", ctx.name);
            imp.push_trained(
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

/// `Gemm` with a constant `A` (hummingbird's tree GEMMs): `y = alpha·A'·B' + beta·C` is
/// `(B'ᵀ · alpha·A'ᵀ)ᵀ + beta·C`, a `Linear` over `B'ᵀ` with weight `alpha·A'` between index-map
/// transposes, then `C` broadcast to the output.
fn constant_a<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    a: &Const,
    b: TensorId,
    [trans_a, trans_b]: [bool; 2],
    [alpha, beta]: [f32; 2],
) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let &[a0, a1] = a.dims.as_slice() else {
        return Err(ctx.shape_err(format!("A must be 2-D, got {:?}", a.dims)));
    };
    let bdims = imp.shape(b).to_vec();
    let &[b0, b1] = bdims.as_slice() else {
        return Err(ctx.shape_err(format!("input B must be 2-D, got {bdims:?}")));
    };
    let (m, k) = if trans_a { (a1, a0) } else { (a0, a1) };
    let (kb, n) = if trans_b { (b1, b0) } else { (b0, b1) };
    if k != kb {
        return Err(ctx.shape_err(format!(
            "A (transA={}) is {:?} but B (transB={}) is {bdims:?}",
            u8::from(trans_a),
            a.dims,
            u8::from(trans_b)
        )));
    }
    // B'ᵀ is [n, k]: B itself when transB is set.
    let bt = if trans_b {
        b
    } else {
        let index = swap_last_two(ctx, &bdims)?;
        let name = format!("{}/transpose_b", ctx.name);
        imp.push(ctx, name, Op::Select { index }, vec![b], vec![n, k])?
    };
    let values = a.to_f32();
    let mut weight = if trans_a {
        transpose(&values, k, m)
    } else {
        values
    };
    weight.iter_mut().for_each(|w| *w *= alpha);
    let op = Op::Linear {
        weight,
        bias: vec![0.0; m],
        n_in: k,
        n_out: m,
    };
    let name = format!("{}/product_t", ctx.name);
    let yt = imp.push_trained(ctx, name, op, vec![bt], vec![n, m])?;
    let index = swap_last_two(ctx, &[n, m])?;
    let c = match imp.input_opt(ctx, 2)? {
        None => None,
        Some(Value::Const(c)) => Some(c),
        Some(Value::Tensor(_)) => return Err(ctx.not_constant(ctx.input_name(2).unwrap_or(""))),
    };
    let Some(c) = c else {
        let y = imp.push(
            ctx,
            ctx.name.clone(),
            Op::Select { index },
            vec![yt],
            vec![m, n],
        )?;
        imp.bind(out, Value::Tensor(y));
        return Ok(());
    };
    let name = format!("{}/product", ctx.name);
    let y = imp.push(ctx, name, Op::Select { index }, vec![yt], vec![m, n])?;
    let scaled: Vec<f32> = c.to_f32().iter().map(|v| v * beta).collect();
    let constant = broadcast_to(&scaled, &c.dims, &[m, n])
        .ok_or_else(|| ctx.shape_err(c_detail(&c.dims, m, n)))?;
    let y = imp.push_trained(
        ctx,
        ctx.name.clone(),
        Op::AddConst { constant },
        vec![y],
        vec![m, n],
    )?;
    imp.bind(out, Value::Tensor(y));
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
