//! `Resize` and `Upsample`, nearest and linear. Nearest is an index map (`Select`); linear is
//! separable: per resized axis, the axis is moved last, multiplied by the constant `[out, in]`
//! interpolation matrix (`Linear`) and moved back.

use crate::graph::Op;
use crate::onnx::emit::int_input;
use crate::onnx::error::ImportError;
use crate::onnx::node::NodeCtx;
use crate::onnx::shape::checked_numel;
use crate::onnx::shape::transpose_index;
use crate::onnx::shape::{axis_to_last, inverse_perm, permute, strides, unravel};
use crate::onnx::state::{Importer, Value};

/// Resize parameters of one axis: output length and the source coordinate of each output
/// position (before rounding or interpolation).
fn source_coords(
    ctx: &NodeCtx<'_>,
    mode: &str,
    n_in: usize,
    n_out: usize,
    scale: f64,
) -> Result<Vec<f64>, ImportError> {
    let (n_in_f, n_out_f) = (n_in as f64, n_out as f64);
    (0..n_out)
        .map(|i| {
            let x = i as f64;
            Ok(match mode {
                "half_pixel" => (x + 0.5) / scale - 0.5,
                "pytorch_half_pixel" if n_out > 1 => (x + 0.5) / scale - 0.5,
                "pytorch_half_pixel" => 0.0,
                "align_corners" if n_out > 1 => x * (n_in_f - 1.0) / (n_out_f - 1.0),
                "align_corners" => 0.0,
                "asymmetric" => x / scale,
                "half_pixel_symmetric" => {
                    let adjust = n_out_f / (scale * n_in_f);
                    let center = n_in_f / 2.0;
                    let offset = center * (1.0 - adjust);
                    offset + (x + 0.5) / scale - 0.5
                }
                other => {
                    return Err(ctx.bad_attr(
                        "coordinate_transformation_mode",
                        format!("`{other}` is not supported"),
                    ))
                }
            })
        })
        .collect()
}

/// Nearest source index of coordinate `x` for ONNX's `nearest_mode`.
fn nearest(ctx: &NodeCtx<'_>, x: f64, n_in: usize, mode: &str) -> Result<usize, ImportError> {
    let r = match mode {
        "round_prefer_floor" => {
            if (x - x.floor() - 0.5).abs() < 1e-9 {
                x.floor()
            } else {
                x.round()
            }
        }
        "round_prefer_ceil" => (x + 0.5).floor(),
        "floor" => x.floor(),
        "ceil" => x.ceil(),
        other => {
            return Err(ctx.bad_attr(
                "nearest_mode",
                format!("`{other}` is not round_prefer_floor, round_prefer_ceil, floor or ceil"),
            ))
        }
    };
    Ok(r.clamp(0.0, n_in.saturating_sub(1) as f64) as usize)
}

/// `Resize` (opset 10+) and `Upsample` with constant scales or sizes; modes nearest and linear
/// (bilinear, trilinear, ...: separable per axis).
pub(crate) fn resize<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let x = match imp.input(ctx, 0)? {
        Value::Tensor(t) => t,
        Value::Const(_) => {
            return Err(
                ctx.unsupported("input X is a constant; it must be computed from the graph input")
            )
        }
    };
    let dims = imp.shape(x).to_vec();
    if dims.contains(&0) {
        return Err(ctx.shape_err(format!("input X {dims:?} is empty")));
    }
    let rank = dims.len();
    let upsample = ctx.op() == "Upsample";
    let mode = ctx.attr_string("mode")?.unwrap_or_else(|| "nearest".into());
    let interp = match mode.as_str() {
        "nearest" => false,
        "linear" | "bilinear" => true,
        other => {
            return Err(ctx.unsupported(format!(
                "mode `{other}`: only nearest and linear are supported"
            )))
        }
    };
    if ctx.attr_int("antialias", 0)? != 0 {
        return Err(ctx.unsupported("antialias = 1"));
    }
    let coord_mode = if upsample || imp.opset < 11 {
        "asymmetric".to_string()
    } else {
        ctx.attr_string("coordinate_transformation_mode")?
            .unwrap_or_else(|| "half_pixel".into())
    };
    let nearest_mode = if upsample || imp.opset < 11 {
        "floor".to_string()
    } else {
        ctx.attr_string("nearest_mode")?
            .unwrap_or_else(|| "round_prefer_floor".into())
    };
    if ctx.attr_ints("axes")?.is_some() {
        return Err(ctx.unsupported("the axes attribute"));
    }
    // Scales: input 1 (Upsample, Resize-10) or 2 (Resize-11+); sizes: input 3.
    let scales_at = if upsample || imp.opset < 11 { 1 } else { 2 };
    let scales: Vec<f32> = match imp.input_opt(ctx, scales_at)? {
        None => Vec::new(),
        Some(Value::Const(c)) => c.to_f32(),
        Some(Value::Tensor(_)) => {
            return Err(ctx.not_constant(ctx.input_name(scales_at).unwrap_or_default()))
        }
    };
    let (shape, scale): (Vec<usize>, Vec<f64>) = if !scales.is_empty() {
        if scales.len() != rank {
            return Err(ctx.shape_err(format!(
                "scales {scales:?} must hold {rank} values for {dims:?}"
            )));
        }
        let shape = dims
            .iter()
            .zip(&scales)
            .map(|(&d, &s)| (d as f64 * f64::from(s)).floor() as usize)
            .collect();
        (shape, scales.iter().map(|&s| f64::from(s)).collect())
    } else if !upsample && ctx.input_name(3).is_some_and(|n| !n.is_empty()) {
        let sizes = int_input(imp, ctx, 3)?;
        if sizes.len() != rank {
            return Err(ctx.shape_err(format!(
                "sizes {sizes:?} must hold {rank} values for {dims:?}"
            )));
        }
        if ctx
            .attr_string("keep_aspect_ratio_policy")?
            .is_some_and(|p| p != "stretch")
        {
            return Err(ctx.unsupported("keep_aspect_ratio_policy other than stretch"));
        }
        let shape: Vec<usize> = sizes
            .iter()
            .map(|&s| usize::try_from(s).unwrap_or(0))
            .collect();
        let scale = shape
            .iter()
            .zip(&dims)
            .map(|(&o, &i)| o as f64 / i.max(1) as f64)
            .collect();
        (shape, scale)
    } else {
        return Err(ctx.bad_node("has neither scales nor sizes"));
    };
    if shape.contains(&0) || scale.iter().any(|s| !s.is_finite() || *s <= 0.0) {
        return Err(ctx.shape_err(format!("resizing {dims:?} gives an empty output {shape:?}")));
    }
    if checked_numel(&shape).is_none() {
        return Err(ctx.shape_err(format!("output shape {shape:?} is too large")));
    }
    let resized: Vec<usize> = (0..rank)
        .filter(|&a| shape[a] != dims[a] || scale[a] != 1.0)
        .collect();
    let mut t = x;
    let mut cur = dims.clone();
    if !interp {
        // One index map over every axis.
        let mut per_axis = Vec::with_capacity(rank);
        for a in 0..rank {
            let src = source_coords(ctx, &coord_mode, dims[a], shape[a], scale[a])?;
            per_axis.push(
                src.iter()
                    .map(|&c| nearest(ctx, c, dims[a], &nearest_mode))
                    .collect::<Result<Vec<_>, _>>()?,
            );
        }
        let st = strides(&dims);
        let total = checked_numel(&shape).unwrap_or(0);
        let mut coord = vec![0usize; rank];
        let index = (0..total)
            .map(|pos| {
                unravel(pos, &shape, &mut coord);
                (0..rank).map(|a| per_axis[a][coord[a]] * st[a]).sum()
            })
            .collect();
        t = imp.push(ctx, ctx.name.clone(), Op::Select { index }, vec![t], shape)?;
        imp.bind(out, Value::Tensor(t));
        return Ok(());
    }
    let last = resized.last().copied();
    for &a in &resized {
        let src = source_coords(ctx, &coord_mode, dims[a], shape[a], scale[a])?;
        let (n_in, n_out) = (dims[a], shape[a]);
        let mut weight = vec![0.0f32; n_out * n_in];
        for (o, &c) in src.iter().enumerate() {
            let c = c.clamp(0.0, (n_in - 1) as f64);
            let lo = c.floor() as usize;
            let hi = (lo + 1).min(n_in - 1);
            let w = (c - lo as f64) as f32;
            weight[o * n_in + lo] += 1.0 - w;
            weight[o * n_in + hi] += w;
        }
        let perm = axis_to_last(a, rank);
        let at = cur.clone();
        let bad = || ctx.shape_err(format!("cannot move axis {a} of {at:?}"));
        if a != rank - 1 {
            let index = transpose_index(&cur, &perm).ok_or_else(bad)?;
            let moved = permute(&cur, &perm);
            let name = format!("{}/axis{a}/to_last", ctx.name);
            t = imp.push(ctx, name, Op::Select { index }, vec![t], moved)?;
        }
        let mut moved = permute(&cur, &perm);
        if let Some(l) = moved.last_mut() {
            *l = n_out;
        }
        let op = Op::Linear {
            weight,
            bias: vec![0.0; n_out],
            n_in,
            n_out,
        };
        let name = if a == rank - 1 && Some(a) == last {
            ctx.name.clone()
        } else {
            format!("{}/axis{a}", ctx.name)
        };
        t = imp.push(ctx, name, op, vec![t], moved.clone())?;
        cur[a] = n_out;
        if a != rank - 1 {
            let back = inverse_perm(&perm);
            let index = transpose_index(&moved, &back).ok_or_else(bad)?;
            let name = if Some(a) == last {
                ctx.name.clone()
            } else {
                format!("{}/axis{a}/from_last", ctx.name)
            };
            t = imp.push(ctx, name, Op::Select { index }, vec![t], cur.clone())?;
        }
    }
    if resized.is_empty() {
        imp.alias(out, t);
    } else {
        imp.bind(out, Value::Tensor(t));
    }
    Ok(())
}
