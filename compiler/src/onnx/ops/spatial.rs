//! Spatial data movement and generators: Pad (constant, reflect, edge, wrap), Tile,
//! Trilu, InstanceNormalization, and the constant
//! generators ConstantOfShape, Range and EyeLike.
//!
//! Pad and Tile are index maps (`Select`, copy constraints only; a padding value is one
//! constant tensor); Resize is in `resize.rs`.
//! Trilu is a product with a constant 0/1 mask; InstanceNormalization is a `LayerNorm` over the
//! spatial axes followed by the per-channel scale and bias. Generators fold to constants.

use std::rc::Rc;

use crate::graph::Op;
use crate::onnx::emit::{dims_of, emit, int_input};
use crate::onnx::error::ImportError;
use crate::onnx::node::NodeCtx;
use crate::onnx::shape::{checked_numel, MAX_NUMEL};
use crate::onnx::shape::{strides, unravel};
use crate::onnx::state::{Importer, Value};
use crate::onnx::tensor::{decode, Const, ConstData};

/// Source coordinate of padded coordinate `c` (may be negative or past the end) along an axis
/// of length `n`, for a padding `mode`; `None` for the constant value.
fn pad_source(c: i64, n: i64, mode: &str) -> Option<i64> {
    if (0..n).contains(&c) {
        return Some(c);
    }
    match mode {
        "edge" => Some(c.clamp(0, n - 1)),
        "wrap" => Some(c.rem_euclid(n)),
        "reflect" if n > 1 => {
            let period = 2 * (n - 1);
            let m = c.rem_euclid(period);
            Some(if m < n { m } else { period - m })
        }
        "reflect" => Some(0),
        _ => None,
    }
}

/// `Pad` with constant pads (input since opset 11, attribute before), optional axes.
pub(crate) fn pad<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let x = imp.input(ctx, 0)?;
    let dims = dims_of(imp, &x);
    let rank = dims.len();
    let mode = ctx
        .attr_string("mode")?
        .unwrap_or_else(|| "constant".into());
    if !matches!(mode.as_str(), "constant" | "reflect" | "edge" | "wrap") {
        return Err(ctx.bad_attr(
            "mode",
            format!("`{mode}` is not constant, reflect, edge or wrap"),
        ));
    }
    let (pads, value) = if imp.opset < 11 {
        let p = ctx
            .attr_ints("pads")?
            .ok_or_else(|| ctx.bad_attr("pads", "is missing"))?;
        (p, ctx.attr_float("value", 0.0)?)
    } else {
        let p = int_input(imp, ctx, 1)?;
        let v = match imp.input_opt(ctx, 2)? {
            None => 0.0,
            Some(Value::Const(c)) => c.to_f32().first().copied().unwrap_or(0.0),
            Some(Value::Tensor(_)) => {
                return Err(ctx.not_constant(ctx.input_name(2).unwrap_or_default()))
            }
        };
        (p, v)
    };
    let axes: Vec<usize> = match imp.input_opt(ctx, 3)? {
        None => (0..rank).collect(),
        Some(_) => int_input(imp, ctx, 3)?
            .iter()
            .map(|&a| crate::onnx::shape::normalize_axis(a, rank))
            .collect::<Option<_>>()
            .ok_or_else(|| ctx.shape_err(format!("axes are out of range for {dims:?}")))?,
    };
    if pads.len() != 2 * axes.len() {
        return Err(ctx.shape_err(format!(
            "pads {pads:?} must hold {} values (begin and end for each of {} axes)",
            2 * axes.len(),
            axes.len()
        )));
    }
    let mut begin = vec![0i64; rank];
    let mut end = vec![0i64; rank];
    for (k, &a) in axes.iter().enumerate() {
        begin[a] = pads.get(k).copied().unwrap_or(0);
        end[a] = pads.get(k + axes.len()).copied().unwrap_or(0);
    }
    let too_big = || ctx.shape_err(format!("pads {pads:?} do not fit {dims:?}"));
    let mut shape = Vec::with_capacity(rank);
    for a in 0..rank {
        let n = i64::try_from(dims[a]).map_err(|_| too_big())?;
        let m = n + begin[a] + end[a];
        if m <= 0 || m > MAX_NUMEL as i64 || begin[a].abs() > MAX_NUMEL as i64 {
            return Err(too_big());
        }
        if mode != "constant" && n == 0 {
            return Err(too_big());
        }
        if mode == "reflect" && (begin[a] >= n || end[a] >= n) && n > 1 {
            return Err(ctx.shape_err(format!(
                "reflect pads {pads:?} must be shorter than the axes of {dims:?}"
            )));
        }
        shape.push(usize::try_from(m).map_err(|_| too_big())?);
    }
    let total = checked_numel(&shape).ok_or_else(too_big)?;
    let n_in = checked_numel(&dims).ok_or_else(too_big)?;
    let st = strides(&dims);
    let mut index = Vec::with_capacity(total);
    let mut coord = vec![0usize; rank];
    let mut uses_value = false;
    for pos in 0..total {
        unravel(pos, &shape, &mut coord);
        let mut src = Some(0usize);
        for a in 0..rank {
            let c = coord[a] as i64 - begin[a];
            src = match (src, pad_source(c, dims[a] as i64, &mode)) {
                (Some(s), Some(c)) => Some(s + c as usize * st[a]),
                _ => None,
            };
        }
        index.push(src.unwrap_or_else(|| {
            uses_value = true;
            n_in
        }));
    }
    let mut inputs = vec![x];
    if uses_value {
        inputs.push(Value::Const(Rc::new(Const::f32(vec![1], vec![value]))));
    }
    emit(imp, ctx, &inputs, shape, index)
}

/// `Tile` with constant repeats.
pub(crate) fn tile<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let x = imp.input(ctx, 0)?;
    let dims = dims_of(imp, &x);
    let reps = int_input(imp, ctx, 1)?;
    let reps: Vec<usize> = reps
        .iter()
        .map(|&r| usize::try_from(r).ok().filter(|&r| r >= 1))
        .collect::<Option<_>>()
        .filter(|r: &Vec<usize>| r.len() == dims.len())
        .ok_or_else(|| {
            ctx.shape_err(format!(
                "repeats {reps:?} must hold {} positive values for {dims:?}",
                dims.len()
            ))
        })?;
    let shape: Vec<usize> = dims.iter().zip(&reps).map(|(d, r)| d * r).collect();
    let total = checked_numel(&shape)
        .ok_or_else(|| ctx.shape_err(format!("output shape {shape:?} is too large")))?;
    let st = strides(&dims);
    let mut coord = vec![0usize; dims.len()];
    let index = (0..total)
        .map(|pos| {
            unravel(pos, &shape, &mut coord);
            coord
                .iter()
                .zip(&dims)
                .zip(&st)
                .map(|((c, d), s)| (c % d.max(&1)) * s)
                .sum()
        })
        .collect();
    emit(imp, ctx, &[x], shape, index)
}

/// `Trilu`: keeps the upper (`upper = 1`) or lower triangle of the last two axes, offset by
/// the constant diagonal `k`; a product with a 0/1 mask on activations.
pub(crate) fn trilu<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let x = imp.input(ctx, 0)?;
    let dims = dims_of(imp, &x);
    let k = match imp.input_opt(ctx, 1)? {
        None => 0,
        Some(_) => int_input(imp, ctx, 1)?.first().copied().unwrap_or(0),
    };
    let upper = ctx.attr_int("upper", 1)? != 0;
    let (rows, cols) = match dims.as_slice() {
        [.., r, c] => (*r, *c),
        _ => return Err(ctx.shape_err(format!("input must have at least 2 axes, got {dims:?}"))),
    };
    let total = checked_numel(&dims).unwrap_or(0);
    let keep = |pos: usize| {
        let (i, j) = ((pos / cols.max(1)) % rows.max(1), pos % cols.max(1));
        let d = j as i64 - i as i64;
        if upper {
            d >= k
        } else {
            d <= k
        }
    };
    let mask: Vec<f32> = (0..total)
        .map(|p| if keep(p) { 1.0 } else { 0.0 })
        .collect();
    let value = match x {
        Value::Const(c) => {
            let data = c.to_f32().iter().zip(&mask).map(|(v, m)| v * m).collect();
            match &c.data {
                ConstData::I64(v) => Value::Const(Rc::new(Const::i64(
                    dims,
                    v.iter()
                        .zip(&mask)
                        .map(|(v, &m)| if m > 0.0 { *v } else { 0 })
                        .collect(),
                ))),
                ConstData::F32(_) => Value::Const(Rc::new(Const::f32(dims, data))),
            }
        }
        Value::Tensor(t) => {
            let op = Op::MulConst { constant: mask };
            Value::Tensor(imp.push(ctx, ctx.name.clone(), op, vec![t], dims)?)
        }
    };
    imp.bind(out, value);
    Ok(())
}

/// `InstanceNormalization` of `[N, C, spatial...]`: a `LayerNorm` over each (n, c) slice, then
/// the per-channel scale and bias (skipped when they are 1 and 0).
pub(crate) fn instance_norm<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let x = match imp.input(ctx, 0)? {
        Value::Tensor(t) => t,
        Value::Const(_) => {
            return Err(
                ctx.unsupported("input is a constant; it must be computed from the graph input")
            )
        }
    };
    let dims = imp.shape(x).to_vec();
    let (n, c, group) = match dims.as_slice() {
        [n, c, rest @ ..] if !rest.is_empty() => (*n, *c, rest.iter().product::<usize>()),
        _ => return Err(ctx.shape_err(format!("input must be [N, C, D1, ...], got {dims:?}"))),
    };
    let mut per_channel = |k: usize, what: &str| -> Result<Vec<f32>, ImportError> {
        let v = imp.const_input(ctx, k)?.to_f32();
        if v.len() != c {
            return Err(ctx.shape_err(format!(
                "{what} `{}` holds {} values; expected one per channel ({c})",
                ctx.input_name(k).unwrap_or_default(),
                v.len()
            )));
        }
        Ok(v)
    };
    let gamma = per_channel(1, "scale")?;
    let beta = per_channel(2, "B")?;
    let epsilon = ctx.attr_float("epsilon", 1e-5)?;
    let identity = gamma.iter().all(|&g| g == 1.0) && beta.iter().all(|&b| b == 0.0);
    let op = Op::LayerNorm {
        gamma: vec![1.0; group],
        beta: vec![0.0; group],
        epsilon,
        group,
    };
    let name = if identity {
        ctx.name.clone()
    } else {
        format!("{}/normalize", ctx.name)
    };
    let mut t = imp.push(ctx, name, op, vec![x], dims.clone())?;
    if !identity {
        let spread = |v: &[f32]| -> Vec<f32> {
            (0..n * c)
                .flat_map(|nc| std::iter::repeat_n(v[nc % c], group))
                .collect()
        };
        let name = format!("{}/scale", ctx.name);
        let op = Op::MulConst {
            constant: spread(&gamma),
        };
        t = imp.push_trained(ctx, name, op, vec![t], dims.clone())?;
        let op = Op::AddConst {
            constant: spread(&beta),
        };
        t = imp.push_trained(ctx, ctx.name.clone(), op, vec![t], dims)?;
    }
    imp.bind(out, Value::Tensor(t));
    Ok(())
}

/// `ConstantOfShape`: a constant filled with the `value` attribute (float 0 by default).
pub(crate) fn constant_of_shape<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let dims = shape_input(imp, ctx, 0)?;
    let n = checked_numel(&dims)
        .ok_or_else(|| ctx.shape_err(format!("shape {dims:?} is too large")))?;
    let fill = match ctx.attr_tensor("value")? {
        None => Const::f32(vec![1], vec![0.0]),
        Some(t) => decode(t, out)?,
    };
    let c = match &fill.data {
        ConstData::I64(v) => Const::i64(dims, vec![v.first().copied().unwrap_or(0); n]),
        ConstData::F32(v) => Const::f32(dims, vec![v.first().copied().unwrap_or(0.0); n]),
    };
    imp.bind(out, Value::Const(Rc::new(c)));
    Ok(())
}

/// A constant shape (non-negative integers) from input `k`.
fn shape_input<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    k: usize,
) -> Result<Vec<usize>, ImportError> {
    let v = int_input(imp, ctx, k)?;
    v.iter()
        .map(|&d| usize::try_from(d).ok().filter(|&d| d <= MAX_NUMEL))
        .collect::<Option<_>>()
        .ok_or_else(|| ctx.shape_err(format!("shape {v:?} must hold non-negative sizes")))
}

/// `Range(start, limit, delta)` of constants.
pub(crate) fn range<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let scalars: Vec<Rc<Const>> = (0..3)
        .map(|k| imp.const_input(ctx, k))
        .collect::<Result<_, _>>()?;
    let all_int = scalars.iter().all(|c| matches!(c.data, ConstData::I64(_)));
    let vals: Vec<f64> = scalars
        .iter()
        .map(|c| c.to_f32().first().map_or(0.0, |&v| f64::from(v)))
        .collect();
    let (start, limit, delta) = (vals[0], vals[1], vals[2]);
    if delta == 0.0 || !delta.is_finite() || !start.is_finite() || !limit.is_finite() {
        return Err(ctx.bad_node(format!("delta {delta} must be finite and non-zero")));
    }
    let count = ((limit - start) / delta).ceil().max(0.0);
    if count > MAX_NUMEL as f64 {
        return Err(ctx.shape_err(format!("Range({start}, {limit}, {delta}) is too long")));
    }
    let count = count as usize;
    let c = if all_int {
        let ints: Vec<i64> = scalars
            .iter()
            .map(|c| match &c.data {
                ConstData::I64(v) => v.first().copied().unwrap_or(0),
                ConstData::F32(_) => 0,
            })
            .collect();
        Const::i64(
            vec![count],
            (0..count as i64).map(|i| ints[0] + i * ints[2]).collect(),
        )
    } else {
        Const::f32(
            vec![count],
            (0..count)
                .map(|i| (start + i as f64 * delta) as f32)
                .collect(),
        )
    };
    imp.bind(out, Value::Const(Rc::new(c)));
    Ok(())
}

/// `EyeLike`: ones on the diagonal offset by `k` of a 2-D shape, as a constant.
pub(crate) fn eye_like<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let x = imp.input(ctx, 0)?;
    let dims = dims_of(imp, &x);
    let &[r, c] = dims.as_slice() else {
        return Err(ctx.shape_err(format!("input must be 2-D, got {dims:?}")));
    };
    let k = ctx.attr_int("k", 0)?;
    let data = (0..r * c)
        .map(|p| {
            if (p % c) as i64 - (p / c) as i64 == k {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    imp.bind(out, Value::Const(Rc::new(Const::f32(dims, data))));
    Ok(())
}
