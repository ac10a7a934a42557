//! Conv, AveragePool, MaxPool, GlobalAveragePool, GlobalMaxPool and BatchNormalization.
//!
//! Inputs are `[1, C, H, W]` (or `[1, C, L]`, treated as `H = 1`); the batch must be 1.

use crate::geometry::ConvGeom;
use crate::graph::{Op, TensorId};
use crate::onnx::emit::fold_affine;
use crate::onnx::error::ImportError;
use crate::onnx::node::NodeCtx;
use crate::onnx::shape::{broadcast_to, MAX_NUMEL};
use crate::onnx::state::{Importer, Value};

/// The activation input `[1, C, (H,) W]` of a conv or pool: `(tensor, C, [H, W], spatial rank)`.
pub(super) fn image_input<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
) -> Result<(TensorId, usize, [usize; 2], usize), ImportError> {
    let name = ctx.input_name(0).unwrap_or_default();
    let t = match imp.input(ctx, 0)? {
        Value::Tensor(t) => t,
        Value::Const(_) => {
            return Err(ctx.unsupported(format!(
                "input X `{name}` is a constant; it must be computed from the graph input"
            )))
        }
    };
    let dims = imp.shape(t).to_vec();
    let (c, hw, rank) = match dims.as_slice() {
        &[1, c, h, w] => (c, [h, w], 2),
        &[1, c, w] => (c, [1, w], 1),
        &[n, _, _, _] | &[n, _, _] => {
            return Err(ctx.unsupported(format!(
                "input X `{name}` has batch {n}; only batch 1 is supported"
            )))
        }
        _ => {
            return Err(ctx.shape_err(format!(
                "input X `{name}` must be [1, C, H, W] or [1, C, L], got {dims:?}"
            )))
        }
    };
    Ok((t, c, hw, rank))
}

/// Output shape `[1, C, (H,) W]` for a geometry of spatial rank `rank`.
pub(super) fn out_shape(geom: &ConvGeom, rank: usize) -> Vec<usize> {
    let [c, h, w] = geom.out_shape();
    if rank == 1 {
        vec![1, c, w]
    } else {
        vec![1, c, h, w]
    }
}

/// Window parameters lifted to 2-D.
#[derive(Debug)]
pub(super) struct Window {
    /// Kernel `[kh, kw]`.
    pub kernel: [usize; 2],
    /// Stride `[sh, sw]`.
    pub stride: [usize; 2],
    /// Padding `[top, left, bottom, right]`.
    pub pads: [usize; 4],
    /// Dilation `[dh, dw]`.
    pub dilation: [usize; 2],
}

/// A per-axis integer list attribute of `rank` positive values, lifted to 2-D (the height of a
/// 1-D op gets `fill`).
pub(super) fn axis_list(
    ctx: &NodeCtx<'_>,
    attr: &str,
    rank: usize,
    default: usize,
) -> Result<[usize; 2], ImportError> {
    let Some(v) = ctx.attr_ints(attr)? else {
        return Ok([if rank == 1 { 1 } else { default }, default]);
    };
    let bad = || {
        ctx.bad_attr(
            attr,
            format!("{v:?} must hold {rank} values in 1..={MAX_NUMEL}"),
        )
    };
    let v: Vec<usize> = v
        .iter()
        .map(|&x| {
            usize::try_from(x)
                .ok()
                .filter(|&x| (1..=MAX_NUMEL).contains(&x))
        })
        .collect::<Option<_>>()
        .ok_or_else(bad)?;
    match (rank, v.as_slice()) {
        (1, &[w]) => Ok([1, w]),
        (2, &[h, w]) => Ok([h, w]),
        _ => Err(bad()),
    }
}

/// Kernel, strides, dilations and pads (explicit or from `auto_pad`) of a conv or pool.
pub(super) fn window(
    ctx: &NodeCtx<'_>,
    in_hw: [usize; 2],
    rank: usize,
    kernel: [usize; 2],
) -> Result<Window, ImportError> {
    let stride = axis_list(ctx, "strides", rank, 1)?;
    let dilation = axis_list(ctx, "dilations", rank, 1)?;
    let auto_pad = ctx.attr_string("auto_pad")?.unwrap_or_default();
    let pads = match auto_pad.as_str() {
        "" | "NOTSET" => match ctx.attr_ints("pads")? {
            None => [0; 4],
            Some(p) => {
                let bad = || {
                    ctx.bad_attr(
                        "pads",
                        format!("{p:?} must hold {} values in 0..={MAX_NUMEL}", 2 * rank),
                    )
                };
                let p: Vec<usize> = p
                    .iter()
                    .map(|&x| usize::try_from(x).ok().filter(|&x| x <= MAX_NUMEL))
                    .collect::<Option<_>>()
                    .ok_or_else(bad)?;
                match (rank, p.as_slice()) {
                    (1, &[l, r]) => [0, l, 0, r],
                    (2, &[t, l, b, r]) => [t, l, b, r],
                    _ => return Err(bad()),
                }
            }
        },
        "VALID" => [0; 4],
        "SAME_UPPER" | "SAME_LOWER" => {
            let upper = auto_pad == "SAME_UPPER";
            let mut pads = [0; 4];
            for a in 0..2 {
                let (n, s, k, d) = (in_hw[a], stride[a], kernel[a], dilation[a]);
                let out = n.div_ceil(s);
                let span = d * (k - 1) + 1;
                let total = (out.saturating_sub(1) * s + span).saturating_sub(n);
                let small = total / 2;
                let (begin, end) = if upper {
                    (small, total - small)
                } else {
                    (total - small, small)
                };
                pads[a] = begin;
                pads[a + 2] = end;
            }
            pads
        }
        other => {
            return Err(ctx.bad_attr(
                "auto_pad",
                format!("`{other}` is not NOTSET, VALID, SAME_UPPER or SAME_LOWER"),
            ))
        }
    };
    Ok(Window {
        kernel,
        stride,
        pads,
        dilation,
    })
}

/// Builds and checks a geometry.
pub(super) fn geometry(
    ctx: &NodeCtx<'_>,
    c_in: usize,
    c_out: usize,
    groups: usize,
    in_hw: [usize; 2],
    w: &Window,
) -> Result<ConvGeom, ImportError> {
    let geom = ConvGeom {
        in_channels: c_in,
        in_h: in_hw[0],
        in_w: in_hw[1],
        out_channels: c_out,
        kernel: w.kernel,
        stride: w.stride,
        pads: w.pads,
        dilation: w.dilation,
        groups,
    };
    if !geom.is_valid() {
        return Err(ctx.shape_err(format!(
            "kernel {:?} (dilation {:?}) does not fit the padded input {in_hw:?} + pads {:?}",
            w.kernel, w.dilation, w.pads
        )));
    }
    Ok(geom)
}

/// The `group` attribute (default 1): positive and dividing the `c_in` input channels.
pub(super) fn groups(ctx: &NodeCtx<'_>, c_in: usize) -> Result<usize, ImportError> {
    let groups = ctx.attr_int("group", 1)?;
    usize::try_from(groups)
        .ok()
        .filter(|&g| g >= 1 && c_in % g == 0)
        .ok_or_else(|| {
            ctx.bad_attr(
                "group",
                format!("{groups} must be positive and divide the {c_in} input channels"),
            )
        })
}

/// `Conv` with constant weights and bias.
pub(crate) fn conv<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let (x, c_in, in_hw, rank) = image_input(imp, ctx)?;
    let w = imp.const_input(ctx, 1)?;
    let w_name = ctx.input_name(1).unwrap_or_default();
    let groups = groups(ctx, c_in)?;
    let (c_out, kernel) = match (rank, w.dims.as_slice()) {
        (2, &[o, i, kh, kw]) if i * groups == c_in => (o, [kh, kw]),
        (1, &[o, i, kw]) if i * groups == c_in => (o, [1, kw]),
        _ => {
            return Err(ctx.shape_err(format!(
                "weight W `{w_name}` is {:?}; expected [out_channels, {c_in}/{groups}, kernel...] \
                 for input X with {c_in} channels",
                w.dims
            )))
        }
    };
    if c_out == 0 || c_out % groups != 0 || kernel.contains(&0) {
        return Err(ctx.shape_err(format!(
            "weight W `{w_name}` is {:?}: out channels must be a positive multiple of group {groups}",
            w.dims
        )));
    }
    if let Some(k) = ctx.attr_ints("kernel_shape")? {
        let want: Vec<i64> = kernel
            .iter()
            .skip(2 - rank)
            .map(|&k| i64::try_from(k).unwrap_or(-1))
            .collect();
        if k != want {
            return Err(ctx.bad_attr(
                "kernel_shape",
                format!("{k:?} does not match weight W `{w_name}` {:?}", w.dims),
            ));
        }
    }
    let win = window(ctx, in_hw, rank, kernel)?;
    let geom = geometry(ctx, c_in, c_out, groups, in_hw, &win)?;
    let bias = match imp.input_opt(ctx, 2)? {
        None => vec![0.0; c_out],
        Some(Value::Tensor(_)) => return Err(ctx.not_constant(ctx.input_name(2).unwrap_or(""))),
        Some(Value::Const(b)) => {
            if b.dims != [c_out] {
                return Err(ctx.shape_err(format!(
                    "bias B `{}` is {:?}; expected [{c_out}]",
                    ctx.input_name(2).unwrap_or_default(),
                    b.dims
                )));
            }
            b.to_f32()
        }
    };
    let shape = out_shape(&geom, rank);
    let op = Op::Conv {
        weight: w.to_f32(),
        bias,
        geom,
    };
    let id = imp.push_trained(ctx, ctx.name.clone(), op, vec![x], shape)?;
    imp.bind(out, Value::Tensor(id));
    Ok(())
}

/// `AveragePool` and `MaxPool`.
pub(crate) fn pool<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    imp.check_extra_outputs(ctx)?;
    let (x, c, in_hw, rank) = image_input(imp, ctx)?;
    if ctx.attr_ints("kernel_shape")?.is_none() {
        return Err(ctx.bad_attr("kernel_shape", "is missing"));
    }
    let kernel = axis_list(ctx, "kernel_shape", rank, 1)?;
    let mut win = window(ctx, in_hw, rank, kernel)?;
    let is_max = ctx.op() == "MaxPool";
    let count_include_pad = ctx.attr_int("count_include_pad", 0)? != 0;
    if ctx.attr_int("ceil_mode", 0)? != 0 {
        for (a, &n) in in_hw.iter().enumerate() {
            let (begin, end) = (win.pads[a], win.pads[a + 2]);
            let extra =
                ceil_mode_padding(n, begin, end, win.kernel[a], win.stride[a], win.dilation[a]);
            if extra > 0 {
                if !is_max && count_include_pad {
                    return Err(ctx.bad_attr(
                        "ceil_mode",
                        "1 adds a partial window, which is not supported with count_include_pad = 1",
                    ));
                }
                // Trailing padding is skipped by both pools, so it yields the partial window.
                win.pads[a + 2] += extra;
            }
        }
    }
    let geom = geometry(ctx, c, c, c, in_hw, &win)?;
    let shape = out_shape(&geom, rank);
    let op = if is_max {
        Op::MaxPool { geom }
    } else {
        Op::AvgPool {
            geom,
            count_include_pad,
        }
    };
    let id = imp.push(ctx, ctx.name.clone(), op, vec![x], shape)?;
    imp.bind(out, Value::Tensor(id));
    Ok(())
}

/// `LpPool` for p = 1 (`Σ|x|`) and p = 2 (`sqrt(Σx²)`) over each window: `|x|` or `x·x`,
/// a depthwise convolution with unit weights (the window sum), then `Sqrt` for p = 2.
pub(crate) fn lp_pool<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let (x, c, in_hw, rank) = image_input(imp, ctx)?;
    let p = ctx.attr_int("p", 2)?;
    if p != 1 && p != 2 {
        return Err(ctx.unsupported(format!("p = {p}: only p = 1 and p = 2 are supported")));
    }
    if ctx.attr_ints("kernel_shape")?.is_none() {
        return Err(ctx.bad_attr("kernel_shape", "is missing"));
    }
    if ctx.attr_int("ceil_mode", 0)? != 0 {
        return Err(ctx.unsupported("ceil_mode = 1"));
    }
    let kernel = axis_list(ctx, "kernel_shape", rank, 1)?;
    let win = window(ctx, in_hw, rank, kernel)?;
    let geom = geometry(ctx, c, c, c, in_hw, &win)?;
    let dims = imp.shape(x).to_vec();
    let (op, inputs) = if p == 1 {
        (
            Op::Elementwise {
                op: crate::graph::ElementOp::Abs,
            },
            vec![x],
        )
    } else {
        (Op::Mul, vec![x, x])
    };
    let name = format!("{}/{}", ctx.name, if p == 1 { "abs" } else { "square" });
    let t = imp.push(ctx, name, op, inputs, dims)?;
    let shape = out_shape(&geom, rank);
    let op = Op::Conv {
        weight: vec![1.0; c * kernel[0] * kernel[1]],
        bias: vec![0.0; c],
        geom,
    };
    let name = if p == 1 {
        ctx.name.clone()
    } else {
        format!("{}/sum", ctx.name)
    };
    let mut t = imp.push(ctx, name, op, vec![t], shape.clone())?;
    if p == 2 {
        let op = Op::Unary {
            func: crate::graph::UnaryFn::Sqrt,
        };
        t = imp.push(ctx, ctx.name.clone(), op, vec![t], shape)?;
    }
    imp.bind(out, Value::Tensor(t));
    Ok(())
}

/// Trailing padding that makes the floor-mode output size equal the `ceil_mode = 1` one along
/// an axis of length `n` (0 when they already agree). As in ONNX and PyTorch, a window must
/// start inside the input or its leading padding.
fn ceil_mode_padding(
    n: usize,
    begin: usize,
    end: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
) -> usize {
    let padded = n + begin + end;
    let span = dilation * kernel.saturating_sub(1) + 1;
    let stride = stride.max(1);
    let Some(room) = padded.checked_sub(span) else {
        return 0; // the window does not fit: reported by `geometry`
    };
    let floor_out = room / stride + 1;
    let mut ceil_out = room.div_ceil(stride) + 1;
    if (ceil_out - 1) * stride >= n + begin {
        ceil_out -= 1;
    }
    if ceil_out > floor_out {
        ((ceil_out - 1) * stride + span).saturating_sub(padded)
    } else {
        0
    }
}

/// `GlobalAveragePool` and `GlobalMaxPool`: one window covering each channel.
pub(crate) fn global_pool<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let (x, c, in_hw, rank) = image_input(imp, ctx)?;
    let win = Window {
        kernel: in_hw,
        stride: [1, 1],
        pads: [0; 4],
        dilation: [1, 1],
    };
    let geom = geometry(ctx, c, c, c, in_hw, &win)?;
    let shape = out_shape(&geom, rank);
    let op = if ctx.op() == "GlobalMaxPool" {
        Op::MaxPool { geom }
    } else {
        Op::AvgPool {
            geom,
            count_include_pad: false,
        }
    };
    let id = imp.push(ctx, ctx.name.clone(), op, vec![x], shape)?;
    imp.bind(out, Value::Tensor(id));
    Ok(())
}

/// `BatchNormalization` (inference): folded into the preceding Conv/Linear when nothing else
/// reads its output, otherwise a `MulConst` and an `AddConst`.
pub(crate) fn batch_norm<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    imp.check_extra_outputs(ctx)?;
    if ctx.attr_int("training_mode", 0)? != 0 {
        return Err(ctx.bad_attr("training_mode", "must be 0 (inference)"));
    }
    let x_name = ctx.input_name(0).unwrap_or_default();
    let x = match imp.input(ctx, 0)? {
        Value::Tensor(t) => t,
        Value::Const(_) => {
            return Err(ctx.unsupported(format!(
                "input X `{x_name}` is a constant; it must be computed from the graph input"
            )))
        }
    };
    let dims = imp.shape(x).to_vec();
    let Some(&c) = dims.get(1) else {
        return Err(ctx.shape_err(format!(
            "input X `{x_name}` is {dims:?}; it needs a channel axis 1"
        )));
    };
    let mut params = Vec::with_capacity(4);
    for (k, what) in [(1, "scale"), (2, "B"), (3, "input_mean"), (4, "input_var")] {
        let p = imp.const_input(ctx, k)?;
        if p.dims != [c] {
            return Err(ctx.shape_err(format!(
                "{what} `{}` is {:?}; expected [{c}] for input X {dims:?}",
                ctx.input_name(k).unwrap_or_default(),
                p.dims
            )));
        }
        params.push(p.to_f32());
    }
    let [scale, shift, mean, var] = params.as_slice() else {
        return Err(ctx.bad_node("needs 5 inputs"));
    };
    let eps = f64::from(ctx.attr_float("epsilon", 1e-5)?);
    let mut a = Vec::with_capacity(c);
    let mut b = Vec::with_capacity(c);
    for (((&s, &sh), &m), &v) in scale.iter().zip(shift).zip(mean).zip(var) {
        let k = f64::from(s) / (f64::from(v) + eps).sqrt();
        a.push(k as f32);
        b.push((f64::from(sh) - f64::from(m) * k) as f32);
    }
    // Per-channel vectors as [C, 1, ...] broadcast to the input's shape.
    let mut cdims = vec![c];
    cdims.resize(dims.len().saturating_sub(1).max(1), 1);
    let bad = || ctx.shape_err(format!("cannot broadcast per-channel values to {dims:?}"));
    let a_full = broadcast_to(&a, &cdims, &dims).ok_or_else(bad)?;
    let b_full = broadcast_to(&b, &cdims, &dims).ok_or_else(bad)?;
    if fold_affine(imp, x, Some(&a_full), &b_full) {
        imp.alias(out, x);
        return Ok(());
    }
    let m = imp.push_trained(
        ctx,
        ctx.name.clone(),
        Op::MulConst { constant: a_full },
        vec![x],
        dims.clone(),
    )?;
    let name = format!("{}/shift", ctx.name);
    let id = imp.push_trained(ctx, name, Op::AddConst { constant: b_full }, vec![m], dims)?;
    imp.bind(out, Value::Tensor(id));
    Ok(())
}
