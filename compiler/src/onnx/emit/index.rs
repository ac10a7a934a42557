//! Shared index selection: wrapping computed indices as ONNX does, proving them integral and
//! in range, and the exact equality indicator `[i == j]` used by gathers, scatters, TopK and
//! the tree ensembles.

use super::const_tensor;
use crate::graph::{ElementOp, Op, TensorId, UnaryFn};
use crate::onnx::error::ImportError;
use crate::onnx::node::NodeCtx;
use crate::onnx::state::{Importer, Value};

/// Data as a tensor (a constant is materialized, anchored on `anchor`).
pub(crate) fn data_tensor<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    data: &Value,
    anchor: TensorId,
) -> Result<TensorId, ImportError> {
    match data {
        Value::Tensor(t) => Ok(*t),
        Value::Const(c) => const_tensor(imp, ctx, c, anchor, "data"),
    }
}

/// `idx` (any shape) wrapped onto an axis of `len` as ONNX does: `i + len·[i < 0]`, with
/// `[i < 0] = 1 - relu(i + 1) + relu(i)`. Every index is first checked to be an integer
/// (`i - floor(i) = 0`; the floor, an integer tensor, is used from then on): the one-hot
/// `relu(1 - |i - j|)` and the wrap are exact only for integers, and an index computed by
/// the model (a mean, an interpolation) need not be one. With `strict`, `-len <= i < len` is
/// checked too (a gather); without, an index outside stays outside `0..len` and selects
/// nothing (OneHot's rule). Named `node/label...`.
pub(crate) fn wrap_index<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    idx: TensorId,
    len: usize,
    strict: bool,
    label: &str,
) -> Result<TensorId, ImportError> {
    let shape = imp.shape(idx).to_vec();
    let n: usize = shape.iter().product();
    let name = |s: &str| format!("{}/{label}{s}", ctx.name);
    let len_f = len as f64;
    let op = Op::Unary {
        func: UnaryFn::Floor,
    };
    let floor = imp.push(ctx, name("index_floor"), op, vec![idx], shape.clone())?;
    let fraction = imp.push(
        ctx,
        name("index_fraction"),
        Op::Sub,
        vec![idx, floor],
        shape.clone(),
    )?;
    let op = Op::Check { lo: 0.0, hi: 0.0 };
    imp.push(
        ctx,
        name("index_integer"),
        op,
        vec![fraction],
        shape.clone(),
    )?;
    let i = if strict {
        let op = Op::Check {
            lo: -len_f,
            hi: len_f - 1.0,
        };
        imp.push(ctx, name("index_in_range"), op, vec![floor], shape.clone())?
    } else {
        floor
    };
    let op = Op::AddConst {
        constant: vec![1.0; n],
    };
    let plus_one = imp.push(ctx, name("wrap/plus_one"), op, vec![i], shape.clone())?;
    let at_least = imp.push(
        ctx,
        name("wrap/relu1"),
        Op::Relu,
        vec![plus_one],
        shape.clone(),
    )?;
    let relu = imp.push(ctx, name("wrap/relu0"), Op::Relu, vec![i], shape.clone())?;
    // relu(i) - relu(i + 1) = -[i >= 0], so len·(that + 1) = len·[i < 0].
    let op = Op::Sub;
    let minus_nonneg = imp.push(
        ctx,
        name("wrap/minus_nonneg"),
        op,
        vec![relu, at_least],
        shape.clone(),
    )?;
    let op = Op::MulConst {
        constant: vec![len as f32; n],
    };
    let scaled = imp.push(
        ctx,
        name("wrap/scaled"),
        op,
        vec![minus_nonneg],
        shape.clone(),
    )?;
    let op = Op::AddConst {
        constant: vec![len as f32; n],
    };
    let shift = imp.push(ctx, name("wrap/shift"), op, vec![scaled], shape.clone())?;
    imp.push(ctx, name("wrapped"), Op::Add, vec![i, shift], shape)
}

/// Index tuples `idx` (`[rows, q]`, integer-valued) over the first `q` axes of `dims`, each
/// component wrapped and range-checked on its own axis ([`wrap_index`], strict): a tuple
/// component past its axis would otherwise alias another row of the flattened data.
pub(crate) fn wrap_tuples<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    idx: TensorId,
    dims: &[usize],
    rows: usize,
    q: usize,
) -> Result<TensorId, ImportError> {
    let mut parts = Vec::with_capacity(q);
    for k in 0..q {
        let index = (0..rows).map(|r| r * q + k).collect();
        let name = format!("{}/index{k}", ctx.name);
        let comp = imp.push(ctx, name, Op::Select { index }, vec![idx], vec![rows])?;
        let len = dims.get(k).copied().unwrap_or(1);
        parts.push(wrap_index(
            imp,
            ctx,
            comp,
            len,
            true,
            &format!("index{k}/"),
        )?);
    }
    let index = (0..rows * q).map(|p| (p % q) * rows + p / q).collect();
    let name = format!("{}/index_tuples", ctx.name);
    imp.push(ctx, name, Op::Select { index }, parts, vec![rows, q])
}

/// `[idx[k] == j]` for every `(k, j)` pair listed in `pairs` (index position, value): the
/// repeated index minus `j`, then `relu(1 - |.|)`. Named `node/label/...`.
pub(crate) fn equals<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    idx: TensorId,
    pairs: &[(usize, usize)],
    label: &str,
) -> Result<TensorId, ImportError> {
    let n = pairs.len();
    let name = |s: &str| format!("{}/{label}/{s}", ctx.name);
    let index = pairs.iter().map(|&(k, _)| k).collect();
    let rep = imp.push(
        ctx,
        name("repeat"),
        Op::Select { index },
        vec![idx],
        vec![n],
    )?;
    let constant = pairs.iter().map(|&(_, j)| -(j as f32)).collect();
    let diff = imp.push(
        ctx,
        name("minus_j"),
        Op::AddConst { constant },
        vec![rep],
        vec![n],
    )?;
    let op = Op::Elementwise { op: ElementOp::Abs };
    let abs = imp.push(ctx, name("abs"), op, vec![diff], vec![n])?;
    let op = Op::MulConst {
        constant: vec![-1.0; n],
    };
    let neg = imp.push(ctx, name("neg"), op, vec![abs], vec![n])?;
    let op = Op::AddConst {
        constant: vec![1.0; n],
    };
    let tri = imp.push(ctx, name("one_minus"), op, vec![neg], vec![n])?;
    imp.push(ctx, name("eq"), Op::Relu, vec![tri], vec![n])
}

/// Resolves index `i` (negative counts from the end) on an axis of length `len`.
pub(crate) fn resolve(ctx: &NodeCtx<'_>, i: i64, len: usize) -> Result<usize, ImportError> {
    let n = i64::try_from(len).unwrap_or(i64::MAX);
    let r = if i < 0 { i + n } else { i };
    usize::try_from(r)
        .ok()
        .filter(|&r| r < len)
        .ok_or_else(|| ctx.shape_err(format!("index {i} is out of range for an axis of {len}")))
}
