//! Softmax (any axis) and LayerNormalization.

use crate::graph::{Op, TensorId};
use crate::onnx::error::ImportError;
use crate::onnx::node::NodeCtx;
use crate::onnx::shape::{axis_to_last, inverse_perm, permute, transpose_index};
use crate::onnx::shape::{broadcast_to, normalize_axis};
use crate::onnx::state::{Importer, Value};

/// The activation input 0 of a normalization op.
fn activation<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<TensorId, ImportError> {
    match imp.input(ctx, 0)? {
        Value::Tensor(t) => Ok(t),
        Value::Const(_) => Err(ctx.unsupported(format!(
            "input `{}` is a constant; it must be computed from the graph input",
            ctx.input_name(0).unwrap_or_default()
        ))),
    }
}

/// The resolved `axis` attribute for a tensor of shape `dims`.
fn axis(ctx: &NodeCtx<'_>, dims: &[usize], default: i64) -> Result<usize, ImportError> {
    let axis = ctx.attr_int("axis", default)?;
    normalize_axis(axis, dims.len())
        .ok_or_else(|| ctx.bad_attr("axis", format!("{axis} is out of range for {dims:?}")))
}

/// `Softmax`. Opset 13+ normalizes one axis: when elements along it are not contiguous, the
/// axis is moved last by a `Select`, normalized, and moved back. Before opset 13 the input is
/// coerced to 2-D at `axis` (default 1) and each row of the trailing axes is normalized.
pub(crate) fn softmax<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let x = activation(imp, ctx)?;
    let dims = imp.shape(x).to_vec();
    let legacy = imp.opset < 13;
    let a = axis(ctx, &dims, if legacy { 1 } else { -1 })?;
    let tail = dims.get(a..).unwrap_or_default();
    let inner: usize = tail.iter().skip(1).product();
    if legacy || inner == 1 {
        let group = tail.iter().product();
        let id = imp.push(ctx, ctx.name.clone(), Op::Softmax { group }, vec![x], dims)?;
        imp.bind(out, Value::Tensor(id));
        return Ok(());
    }
    let perm = axis_to_last(a, dims.len());
    let moved = permute(&dims, &perm);
    let back = inverse_perm(&perm);
    let bad = || ctx.shape_err(format!("cannot move axis {a} of {dims:?} last"));
    let to_last = transpose_index(&dims, &perm).ok_or_else(bad)?;
    let from_last = transpose_index(&moved, &back).ok_or_else(bad)?;
    let group = dims.get(a).copied().unwrap_or(1);
    let name = format!("{}/to_last", ctx.name);
    let t = imp.push(
        ctx,
        name,
        Op::Select { index: to_last },
        vec![x],
        moved.clone(),
    )?;
    let s = imp.push(ctx, ctx.name.clone(), Op::Softmax { group }, vec![t], moved)?;
    let name = format!("{}/from_last", ctx.name);
    let id = imp.push(ctx, name, Op::Select { index: from_last }, vec![s], dims)?;
    imp.bind(out, Value::Tensor(id));
    Ok(())
}

/// `LayerNormalization` over the axes from `axis` (default -1) on; scale and bias constants.
pub(crate) fn layer_norm<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    imp.check_extra_outputs(ctx)?;
    let x = activation(imp, ctx)?;
    let dims = imp.shape(x).to_vec();
    let a = axis(ctx, &dims, -1)?;
    let normalized = dims.get(a..).unwrap_or_default().to_vec();
    let group: usize = normalized.iter().product();
    let param = |k: usize, c: &crate::onnx::tensor::Const, what: &str| {
        broadcast_to(&c.to_f32(), &c.dims, &normalized).ok_or_else(|| {
            ctx.shape_err(format!(
                "{what} `{}` is {:?}; it must broadcast to the normalized shape {normalized:?}",
                ctx.input_name(k).unwrap_or_default(),
                c.dims
            ))
        })
    };
    let scale = imp.const_input(ctx, 1)?;
    let gamma = param(1, &scale, "Scale")?;
    let beta = match imp.input_opt(ctx, 2)? {
        None => vec![0.0; group],
        Some(Value::Const(c)) => param(2, &c, "B")?,
        Some(Value::Tensor(_)) => return Err(ctx.not_constant(ctx.input_name(2).unwrap_or(""))),
    };
    let epsilon = ctx.attr_float("epsilon", 1e-5)?;
    let op = Op::LayerNorm {
        gamma,
        beta,
        epsilon,
        group,
    };
    let id = imp.push_trained(ctx, ctx.name.clone(), op, vec![x], dims)?;
    imp.bind(out, Value::Tensor(id));
    Ok(())
}
