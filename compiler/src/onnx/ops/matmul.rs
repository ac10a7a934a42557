//! `MatMul` (numpy semantics): by a constant matrix it becomes a `Linear`; between two
//! activations (or by a constant with batch axes, made a tensor) a batched `MatMul`, with
//! broadcast batch axes materialized by a `Select`.

use crate::graph::{Op, TensorId};
use crate::onnx::emit::const_tensor_shaped;
use crate::onnx::emit::push_sub;
use crate::onnx::error::ImportError;
use crate::onnx::node::NodeCtx;
use crate::onnx::shape::swap_last_two;
use crate::onnx::shape::{broadcast_shape, broadcast_to, checked_numel};
use crate::onnx::state::{Importer, Value};
use crate::onnx::tensor::Const;

/// One operand seen as a batch of matrices. A 1-D left operand is a row `[1, k]`, a 1-D right
/// operand a column `[k, 1]`; that axis is dropped from the result.
#[derive(Debug, Clone)]
struct Mat {
    batch: Vec<usize>,
    rows: usize,
    cols: usize,
    vector: bool,
}

impl Mat {
    fn new(dims: &[usize], left: bool) -> Option<Self> {
        match dims {
            [] => None,
            &[k] => Some(Mat {
                batch: Vec::new(),
                rows: if left { 1 } else { k },
                cols: if left { k } else { 1 },
                vector: true,
            }),
            [batch @ .., rows, cols] => Some(Mat {
                batch: batch.to_vec(),
                rows: *rows,
                cols: *cols,
                vector: false,
            }),
        }
    }

    /// The operand's shape as a batch of matrices.
    fn matrix_dims(&self) -> Vec<usize> {
        let mut d = self.batch.clone();
        d.extend([self.rows, self.cols]);
        d
    }
}

/// Result shape of `a @ b` with batch axes `batch`.
fn result_shape(a: &Mat, b: &Mat, batch: &[usize]) -> Vec<usize> {
    let mut out = batch.to_vec();
    if !a.vector {
        out.push(a.rows);
    }
    if !b.vector {
        out.push(b.cols);
    }
    out
}

/// The two operands as matrices with a matching inner dimension, and the broadcast batch axes.
fn operands(
    ctx: &NodeCtx<'_>,
    da: &[usize],
    db: &[usize],
) -> Result<(Mat, Mat, Vec<usize>), ImportError> {
    let bad = || ctx.shape_err(format!("cannot multiply {da:?} by {db:?}"));
    let a = Mat::new(da, true).ok_or_else(bad)?;
    let b = Mat::new(db, false).ok_or_else(bad)?;
    if a.cols != b.rows {
        return Err(bad());
    }
    let batch = broadcast_shape(&a.batch, &b.batch).ok_or_else(bad)?;
    Ok((a, b, batch))
}

/// Whether constant `c` holds several matrices (a batch axis longer than 1).
fn has_batch(c: &Const) -> bool {
    c.dims.len() > 2 && c.dims.iter().rev().skip(2).any(|&d| d != 1)
}

/// The 2-D `[rows, cols]` values of a constant operand whose batch axes are all 1.
fn constant_matrix(
    ctx: &NodeCtx<'_>,
    k: usize,
    c: &Const,
    m: &Mat,
) -> Result<Vec<f32>, ImportError> {
    if m.batch.iter().any(|&d| d != 1) {
        return Err(ctx.unsupported(format!(
            "constant operand `{}` of shape {:?} has batch axes; only a single matrix is supported",
            ctx.input_name(k).unwrap_or_default(),
            c.dims
        )));
    }
    Ok(c.to_f32())
}

/// Transposes a row-major `[r, c]` matrix.
fn transpose(m: &[f32], r: usize, c: usize) -> Vec<f32> {
    (0..c)
        .flat_map(|j| (0..r).map(move |i| m.get(i * c + j).copied().unwrap_or(0.0)))
        .collect()
}

/// `MatMul`.
pub(crate) fn matmul<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let id = match (imp.input(ctx, 0)?, imp.input(ctx, 1)?) {
        // A constant with batch axes (hummingbird's per-tree matrices) is a tensor first.
        (Value::Tensor(a), Value::Const(w)) if has_batch(&w) => {
            let w = const_tensor_shaped(imp, ctx, &w, a, "weights")?;
            activations(imp, ctx, a, w)?
        }
        (Value::Const(c), Value::Tensor(x)) if has_batch(&c) => {
            let c = const_tensor_shaped(imp, ctx, &c, x, "weights")?;
            activations(imp, ctx, c, x)?
        }
        (Value::Tensor(a), Value::Const(w)) => by_constant(imp, ctx, a, &w)?,
        (Value::Const(c), Value::Tensor(x)) => constant_by(imp, ctx, &c, x)?,
        (Value::Tensor(a), Value::Tensor(b)) => activations(imp, ctx, a, b)?,
        (Value::Const(_), Value::Const(_)) => {
            return Err(ctx.unsupported("MatMul of two constants is not supported"))
        }
    };
    imp.bind(out, Value::Tensor(id));
    Ok(())
}

/// Activation `a [.., m, k]` by constant `w [k, n]`: a `Linear` with weight `wᵀ`.
fn by_constant<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    a: TensorId,
    w: &Const,
) -> Result<TensorId, ImportError> {
    let sa = imp.shape(a).to_vec();
    let (ma, mw, batch) = operands(ctx, &sa, &w.dims)?;
    let (n_in, n_out) = (mw.rows, mw.cols);
    let values = constant_matrix(ctx, 1, w, &mw)?;
    let weight = transpose(&values, n_in, n_out);
    let op = Op::Linear {
        weight,
        bias: vec![0.0; n_out],
        n_in,
        n_out,
    };
    // Constant batch axes are all 1, so `a`'s layout already is the result's.
    let shape = result_shape(&ma, &mw, &batch);
    if !mw.vector {
        return imp.push_trained(ctx, ctx.name.clone(), op, vec![a], shape);
    }
    // `w` is 1-D: the Linear yields `[.., 1]`, then the unit axis is dropped.
    let mut lin = sa;
    if let Some(last) = lin.last_mut() {
        *last = 1;
    }
    let y = imp.push_trained(ctx, ctx.name.clone(), op, vec![a], lin)?;
    let name = format!("{}/squeeze", ctx.name);
    imp.push(ctx, name, Op::Reshape, vec![y], shape)
}

/// Pushes `op` (a `Linear`) reading `x` viewed as `view`, producing `out` (`view` and `out`
/// describe the same layout; `Reshape`s are added where they differ from the real shapes).
fn linear_viewed<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    op: Op,
    x: TensorId,
    view: Vec<usize>,
    lin: Vec<usize>,
    out: Vec<usize>,
) -> Result<TensorId, ImportError> {
    let x = if imp.shape(x) == view.as_slice() {
        x
    } else {
        let name = format!("{}/view", ctx.name);
        imp.push(ctx, name, Op::Reshape, vec![x], view)?
    };
    if lin == out {
        return imp.push_trained(ctx, ctx.name.clone(), op, vec![x], out);
    }
    let y = imp.push_trained(ctx, ctx.name.clone(), op, vec![x], lin)?;
    let name = format!("{}/squeeze", ctx.name);
    imp.push(ctx, name, Op::Reshape, vec![y], out)
}

/// Constant `c [m, k]` by activation `x [.., k, n]`: `(xᵀ cᵀ)ᵀ`, i.e. a `Linear` with weight
/// `c` between two transposes of the last two axes (none needed when `n = 1`).
fn constant_by<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    c: &Const,
    x: TensorId,
) -> Result<TensorId, ImportError> {
    let sx = imp.shape(x).to_vec();
    let (mc, mx, batch) = operands(ctx, &c.dims, &sx)?;
    let weight = constant_matrix(ctx, 0, c, &mc)?;
    let (n_in, n_out, n) = (mc.cols, mc.rows, mx.cols);
    let op = Op::Linear {
        weight,
        bias: vec![0.0; n_out],
        n_in,
        n_out,
    };
    let shape = result_shape(&mc, &mx, &batch);
    if mx.vector {
        // `x` is 1-D `[k]`: the Linear reads it as is and yields `[m]`.
        let lin = vec![n_out];
        return linear_viewed(imp, ctx, op, x, sx, lin, shape);
    }
    if n == 1 {
        // `x` is `[.., k, 1]`, laid out like `[.., 1, k]`: no transposes needed.
        let mut view = mx.batch.clone();
        view.extend([1, n_in]);
        let mut lin = mx.batch.clone();
        lin.extend([1, n_out]);
        return linear_viewed(imp, ctx, op, x, view, lin, shape);
    }
    let mut xt = mx.batch.clone();
    xt.extend([n, n_in]);
    let index = swap_last_two(ctx, &mx.matrix_dims())?;
    let name = format!("{}/transpose_in", ctx.name);
    let t = imp.push(ctx, name, Op::Select { index }, vec![x], xt)?;
    let mut yt = mx.batch.clone();
    yt.extend([n, n_out]);
    let y = imp.push_trained(ctx, ctx.name.clone(), op, vec![t], yt.clone())?;
    let index = swap_last_two(ctx, &yt)?;
    let name = format!("{}/transpose_out", ctx.name);
    imp.push(ctx, name, Op::Select { index }, vec![y], shape)
}

/// Operand `t`, viewed as `view`, brought to `target` (same layout when the element counts
/// match; else a `Select` repeating it along the broadcast batch axes).
fn batch_broadcast<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    t: TensorId,
    view: &[usize],
    target: &[usize],
    label: &str,
) -> Result<TensorId, ImportError> {
    let bad = || ctx.shape_err(format!("{view:?} does not broadcast to {target:?}"));
    let n = checked_numel(view).ok_or_else(bad)?;
    if Some(n) == checked_numel(target) {
        return Ok(t);
    }
    let iota: Vec<usize> = (0..n).collect();
    let index = broadcast_to(&iota, view, target).ok_or_else(bad)?;
    push_sub(
        imp,
        ctx,
        label,
        Op::Select { index },
        vec![t],
        target.to_vec(),
    )
}

/// Two activations: a batched `MatMul`.
fn activations<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    a: TensorId,
    b: TensorId,
) -> Result<TensorId, ImportError> {
    let (sa, sb) = (imp.shape(a).to_vec(), imp.shape(b).to_vec());
    let (ma, mb, batch) = operands(ctx, &sa, &sb)?;
    let mut ta = batch.clone();
    ta.extend([ma.rows, ma.cols]);
    let mut tb = batch.clone();
    tb.extend([mb.rows, mb.cols]);
    let a = batch_broadcast(imp, ctx, a, &ma.matrix_dims(), &ta, "broadcast_a")?;
    let b = batch_broadcast(imp, ctx, b, &mb.matrix_dims(), &tb, "broadcast_b")?;
    let op = Op::MatMul {
        batch: batch.iter().product(),
        m: ma.rows,
        k: ma.cols,
        n: mb.cols,
    };
    let shape = result_shape(&ma, &mb, &batch);
    imp.push(ctx, ctx.name.clone(), op, vec![a, b], shape)
}
