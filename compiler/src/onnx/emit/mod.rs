//! The one writer of float nodes for the op families: sub-nodes named `node/label`, the
//! `Select` that rewires inputs, constants turned into tensors, and the multi-node helpers
//! several families share (index selection, reduction rows, clamps and affine folds).
//! It imports only the lower layers (`state`, `shape`, `tensor`, `node`, `error`).

mod elementwise;
mod index;
mod rows;

pub(crate) use elementwise::{add_scalar, apply_unary, clamp, fold_affine};
pub(crate) use index::{data_tensor, equals, resolve, wrap_index, wrap_tuples};
pub(crate) use rows::ReducePlan;

use std::rc::Rc;

use super::error::ImportError;
use super::node::NodeCtx;
use super::shape::broadcast_shape;
use super::state::{Importer, Value};
use super::tensor::{Const, ConstData};
use crate::graph::{Op, TensorId};

/// The name of sub-node `label` of the node being imported: `node/label`, or the node's own
/// name when `label` is empty (the node's last op carries its name).
pub(crate) fn sub_name(ctx: &NodeCtx<'_>, label: &str) -> String {
    if label.is_empty() {
        ctx.name.clone()
    } else {
        format!("{}/{label}", ctx.name)
    }
}

/// Appends `op` reading `inputs`, of shape `shape`, named [`sub_name`]`(ctx, label)`.
pub(crate) fn push_sub<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    label: &str,
    op: Op,
    inputs: Vec<TensorId>,
    shape: Vec<usize>,
) -> Result<TensorId, ImportError> {
    imp.push(ctx, sub_name(ctx, label), op, inputs, shape)
}

/// [`push_sub`] of an elementwise op: the output has the first input's shape.
pub(crate) fn push_elementwise<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    label: &str,
    op: Op,
    inputs: Vec<TensorId>,
) -> Result<TensorId, ImportError> {
    let shape = inputs
        .first()
        .map(|&t| imp.shape(t).to_vec())
        .unwrap_or_default();
    push_sub(imp, ctx, label, op, inputs, shape)
}

/// Applies an index map to a constant (`data` is the concatenation of the inputs' values).
fn gather_const(
    ctx: &NodeCtx<'_>,
    parts: &[Rc<Const>],
    dims: Vec<usize>,
    index: &[usize],
) -> Result<Const, ImportError> {
    let bad = || ctx.shape_err("index out of range while folding constants");
    if parts.iter().all(|c| matches!(c.data, ConstData::I64(_))) {
        let all: Vec<i64> = parts
            .iter()
            .flat_map(|c| match &c.data {
                ConstData::I64(v) => v.clone(),
                ConstData::F32(_) => Vec::new(),
            })
            .collect();
        let data = index
            .iter()
            .map(|&i| all.get(i).copied())
            .collect::<Option<_>>()
            .ok_or_else(bad)?;
        return Ok(Const::i64(dims, data));
    }
    let all: Vec<f32> = parts.iter().flat_map(|c| c.to_f32()).collect();
    let data = index
        .iter()
        .map(|&i| all.get(i).copied())
        .collect::<Option<_>>()
        .ok_or_else(bad)?;
    Ok(Const::f32(dims, data))
}

/// Constant `c` as a tensor (named `node/label`): a `Linear` with zero weights and `c` as its
/// bias, reading one element of `anchor` (any activation, so the value joins the circuit).
pub(crate) fn const_tensor<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    c: &Const,
    anchor: TensorId,
    label: &str,
) -> Result<TensorId, ImportError> {
    let bias = c.to_f32();
    let n = bias.len();
    if n == 0 {
        return Err(ctx.shape_err(format!("constant `{label}` is empty")));
    }
    let one = imp.push(
        ctx,
        format!("{}/{label}/anchor", ctx.name),
        Op::Select { index: vec![0] },
        vec![anchor],
        vec![1],
    )?;
    let op = Op::Linear {
        weight: vec![0.0; n],
        bias,
        n_in: 1,
        n_out: n,
    };
    imp.push(ctx, format!("{}/{label}", ctx.name), op, vec![one], vec![n])
}

/// [`const_tensor`] in the constant's own shape.
pub(crate) fn const_tensor_shaped<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    c: &Const,
    anchor: TensorId,
    label: &str,
) -> Result<TensorId, ImportError> {
    let flat = const_tensor(imp, ctx, c, anchor, label)?;
    if c.dims.len() == 1 {
        return Ok(flat);
    }
    let name = format!("{}/{label}/shaped", ctx.name);
    imp.push(ctx, name, Op::Reshape, vec![flat], c.dims.clone())
}

/// Binds the node output to the rewired inputs: a `Select` over activations or a folded constant.
pub(crate) fn emit<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    inputs: &[Value],
    shape: Vec<usize>,
    index: Vec<usize>,
) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    emit_as(imp, ctx, inputs, shape, index, out, ctx.name.clone())
}

/// [`emit`] into output `out`, as a node named `node` (for ops with several outputs).
pub(crate) fn emit_as<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    inputs: &[Value],
    shape: Vec<usize>,
    index: Vec<usize>,
    out: &'g str,
    node: String,
) -> Result<(), ImportError> {
    if index.is_empty() {
        return Err(ctx.unsupported(format!("the output would be empty (shape {shape:?})")));
    }
    let tensors: Vec<TensorId> = inputs
        .iter()
        .filter_map(|v| match v {
            Value::Tensor(t) => Some(*t),
            Value::Const(_) => None,
        })
        .collect();
    let consts: Vec<Rc<Const>> = inputs
        .iter()
        .filter_map(|v| match v {
            Value::Const(c) => Some(Rc::clone(c)),
            Value::Tensor(_) => None,
        })
        .collect();
    let value = if consts.is_empty() {
        let id = imp.push(ctx, node, Op::Select { index }, tensors, shape)?;
        Value::Tensor(id)
    } else if let Some(&anchor) = tensors.first() {
        // Constants mixed with activations (a padding value, a learned token concatenated
        // to the input) become tensors first, then every input is rewired together.
        let mut all = Vec::with_capacity(inputs.len());
        for (k, v) in inputs.iter().enumerate() {
            all.push(match v {
                Value::Tensor(t) => *t,
                Value::Const(c) => const_tensor(imp, ctx, c, anchor, &format!("const{k}"))?,
            });
        }
        let id = imp.push(ctx, node, Op::Select { index }, all, shape)?;
        Value::Tensor(id)
    } else {
        Value::Const(Rc::new(gather_const(ctx, &consts, shape, &index)?))
    };
    imp.bind(out, value);
    Ok(())
}

/// Shape of an input value.
pub(crate) fn dims_of(imp: &Importer<'_>, v: &Value) -> Vec<usize> {
    match v {
        Value::Tensor(t) => imp.shape(*t).to_vec(),
        Value::Const(c) => c.dims.clone(),
    }
}

/// The numpy-broadcast shape of every value in `values` (the first must exist).
pub(crate) fn broadcast_all(
    imp: &Importer<'_>,
    ctx: &NodeCtx<'_>,
    values: &[Value],
) -> Result<Vec<usize>, ImportError> {
    let mut shape = values.first().map(|v| dims_of(imp, v)).unwrap_or_default();
    for v in values.iter().skip(1) {
        let d = dims_of(imp, v);
        shape = broadcast_shape(&shape, &d).ok_or_else(|| {
            ctx.shape_err(format!(
                "operand shapes {shape:?} and {d:?} do not broadcast"
            ))
        })?;
    }
    Ok(shape)
}

/// Constant integer input `k` (indices, shapes, slice bounds).
pub(crate) fn int_input<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    k: usize,
) -> Result<Vec<i64>, ImportError> {
    let c = imp.const_input(ctx, k)?;
    match &c.data {
        ConstData::I64(v) => Ok(v.clone()),
        ConstData::F32(_) => {
            let name = ctx.input_name(k).unwrap_or_default();
            Err(ctx.bad_node(format!("input #{k} `{name}` must be an integer tensor")))
        }
    }
}
