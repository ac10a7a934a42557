//! Relu, Constant, and the shape-only ops (Identity, Flatten, Reshape, Squeeze, Unsqueeze).

use std::rc::Rc;

use crate::graph::Op;
use crate::onnx::emit::int_input;
use crate::onnx::error::ImportError;
use crate::onnx::node::NodeCtx;
use crate::onnx::shape::{checked_numel, normalize_axis};
use crate::onnx::state::{Importer, Value};
use crate::onnx::tensor::{decode, Const};

/// `Relu` (folded when its input is a constant).
pub(crate) fn relu<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let value = match imp.input(ctx, 0)? {
        Value::Tensor(t) => {
            let shape = imp.shape(t).to_vec();
            Value::Tensor(imp.push(ctx, ctx.name.clone(), Op::Relu, vec![t], shape)?)
        }
        Value::Const(c) => {
            let data = c.to_f32().into_iter().map(|x| x.max(0.0)).collect();
            Value::Const(Rc::new(Const::f32(c.dims.clone(), data)))
        }
    };
    imp.bind(out, value);
    Ok(())
}

/// `Constant`: one of the attributes `value`, `value_float(s)`, `value_int(s)`.
pub(crate) fn constant<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let c = if let Some(t) = ctx.attr_tensor("value")? {
        imp.const_types.insert(out, t.data_type);
        decode(t, out)?
    } else if ctx.attr("value_float").is_some() {
        Const::f32(vec![], vec![ctx.attr_float("value_float", 0.0)?])
    } else if let Some(v) = ctx.attr_floats("value_floats")? {
        Const::f32(vec![v.len()], v)
    } else if ctx.attr("value_int").is_some() {
        Const::i64(vec![], vec![ctx.attr_int("value_int", 0)?])
    } else if let Some(v) = ctx.attr_ints("value_ints")? {
        Const::i64(vec![v.len()], v)
    } else {
        let attr = ctx
            .proto
            .attribute
            .first()
            .map_or("value", |a| a.name.as_str());
        return Err(ctx.bad_attr(
            attr,
            "is missing or not supported (need a dense tensor or numbers)",
        ));
    };
    imp.bind(out, Value::Const(Rc::new(c)));
    Ok(())
}

/// `Identity`: the output name aliases the input.
pub(crate) fn identity<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    match imp.input(ctx, 0)? {
        Value::Tensor(t) => imp.alias(out, t),
        c @ Value::Const(_) => imp.bind(out, c),
    }
    Ok(())
}

/// Flatten, Reshape, Squeeze, Unsqueeze: a `Reshape` node (or a reshaped constant).
pub(crate) fn reshape_like<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let input = imp.input(ctx, 0)?;
    let dims = match &input {
        Value::Tensor(t) => imp.shape(*t).to_vec(),
        Value::Const(c) => c.dims.clone(),
    };
    let new = match ctx.op() {
        "Flatten" => flatten_shape(ctx, &dims)?,
        "Reshape" => {
            let spec = int_input(imp, ctx, 1)?;
            reshape_shape(ctx, &dims, &spec)?
        }
        "Squeeze" => {
            let axes = axes(imp, ctx)?;
            squeeze_shape(ctx, &dims, axes.as_deref())?
        }
        _ => {
            let axes = axes(imp, ctx)?.ok_or_else(|| ctx.bad_attr("axes", "is missing"))?;
            unsqueeze_shape(ctx, &dims, &axes)?
        }
    };
    let value = match input {
        Value::Tensor(t) => {
            Value::Tensor(imp.push(ctx, ctx.name.clone(), Op::Reshape, vec![t], new)?)
        }
        Value::Const(c) => Value::Const(Rc::new(c.with_dims(new))),
    };
    imp.bind(out, value);
    Ok(())
}

/// Squeeze/Unsqueeze axes: the `axes` attribute (opset < 13) or the second input.
fn axes<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<Option<Vec<i64>>, ImportError> {
    if let Some(a) = ctx.attr_ints("axes")? {
        return Ok(Some(a));
    }
    if ctx.input_name(1).is_some() {
        return int_input(imp, ctx, 1).map(Some);
    }
    Ok(None)
}

fn flatten_shape(ctx: &NodeCtx<'_>, dims: &[usize]) -> Result<Vec<usize>, ImportError> {
    let axis = ctx.attr_int("axis", 1)?;
    // Flatten allows axis == rank (everything goes into the first dimension).
    let split = if axis == i64::try_from(dims.len()).unwrap_or(i64::MAX) {
        Some(dims.len())
    } else {
        normalize_axis(axis, dims.len())
    };
    let split = split
        .ok_or_else(|| ctx.bad_attr("axis", format!("{axis} is out of range for {dims:?}")))?;
    let (head, tail) = dims.split_at(split);
    Ok(vec![head.iter().product(), tail.iter().product()])
}

fn reshape_shape(
    ctx: &NodeCtx<'_>,
    dims: &[usize],
    spec: &[i64],
) -> Result<Vec<usize>, ImportError> {
    let allow_zero = ctx.attr_int("allowzero", 0)? != 0;
    let numel: usize = dims.iter().product();
    let bad = || ctx.shape_err(format!("cannot reshape {dims:?} to {spec:?}"));
    let mut out = Vec::with_capacity(spec.len());
    let mut infer = None;
    for (k, &s) in spec.iter().enumerate() {
        out.push(match s {
            -1 if infer.is_none() => {
                infer = Some(k);
                1
            }
            0 if !allow_zero => *dims.get(k).ok_or_else(bad)?,
            s => usize::try_from(s).map_err(|_| bad())?,
        });
    }
    let known = checked_numel(&out).ok_or_else(bad)?;
    if let Some(k) = infer {
        if known == 0 || numel % known != 0 {
            return Err(bad());
        }
        *out.get_mut(k).ok_or_else(bad)? = numel / known;
    } else if known != numel {
        return Err(bad());
    }
    Ok(out)
}

fn squeeze_shape(
    ctx: &NodeCtx<'_>,
    dims: &[usize],
    axes: Option<&[i64]>,
) -> Result<Vec<usize>, ImportError> {
    let Some(axes) = axes else {
        return Ok(dims.iter().copied().filter(|&d| d != 1).collect());
    };
    let mut drop = vec![false; dims.len()];
    for &a in axes {
        let k = normalize_axis(a, dims.len()).ok_or_else(|| {
            ctx.bad_attr("axes", format!("axis {a} is out of range for {dims:?}"))
        })?;
        if dims.get(k) != Some(&1) {
            return Err(ctx.shape_err(format!("cannot squeeze axis {a} of {dims:?}")));
        }
        if let Some(d) = drop.get_mut(k) {
            *d = true;
        }
    }
    Ok(dims
        .iter()
        .zip(&drop)
        .filter(|(_, &d)| !d)
        .map(|(&n, _)| n)
        .collect())
}

fn unsqueeze_shape(
    ctx: &NodeCtx<'_>,
    dims: &[usize],
    axes: &[i64],
) -> Result<Vec<usize>, ImportError> {
    let rank = dims.len() + axes.len();
    let mut is_new = vec![false; rank];
    for &a in axes {
        let k = normalize_axis(a, rank).ok_or_else(|| {
            ctx.bad_attr("axes", format!("axis {a} is out of range for rank {rank}"))
        })?;
        match is_new.get_mut(k) {
            Some(slot) if !*slot => *slot = true,
            _ => return Err(ctx.bad_attr("axes", format!("axis {a} is repeated"))),
        }
    }
    let mut rest = dims.iter();
    Ok(is_new
        .iter()
        .map(|&new| {
            if new {
                1
            } else {
                rest.next().copied().unwrap_or(1)
            }
        })
        .collect())
}
