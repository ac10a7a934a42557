//! `ConvTranspose` (1-D and 2-D, batch 1) as an ordinary convolution:
//! `y = conv(stuff(x), W')`, where `stuff` puts `stride - 1` zeros between input positions
//! (a `Select` over the input and one constant zero) and crops or pads each side by
//! `dilation·(k - 1) - pad` (+ `output_padding` at the end), and `W'[o, i] = flip(W[i, o])`
//! per group, convolved with stride 1 and the same dilation.

use std::rc::Rc;

use super::conv::{axis_list, geometry, groups, image_input, out_shape, Window};
use crate::graph::Op;
use crate::onnx::emit::const_tensor;
use crate::onnx::error::ImportError;
use crate::onnx::node::NodeCtx;
use crate::onnx::shape::MAX_NUMEL;
use crate::onnx::state::{Importer, Value};
use crate::onnx::tensor::Const;

/// Per-axis amounts of one transposed convolution lifted to 2-D.
struct Axes {
    stride: [usize; 2],
    dilation: [usize; 2],
    /// `[begin_h, begin_w, end_h, end_w]` padding of the transposed convolution.
    pads: [i64; 4],
    output_padding: [usize; 2],
}

/// Reads strides, dilations, output_padding and the pads (explicit, from `output_shape`, or
/// from `auto_pad`).
fn axes(
    ctx: &NodeCtx<'_>,
    in_hw: [usize; 2],
    rank: usize,
    kernel: [usize; 2],
) -> Result<Axes, ImportError> {
    let stride = axis_list(ctx, "strides", rank, 1)?;
    let dilation = axis_list(ctx, "dilations", rank, 1)?;
    let output_padding = match ctx.attr_ints("output_padding")? {
        None => [0, 0],
        Some(v) => {
            let v: Vec<usize> = v
                .iter()
                .map(|&x| usize::try_from(x).ok().filter(|&x| x <= MAX_NUMEL))
                .collect::<Option<_>>()
                .ok_or_else(|| ctx.bad_attr("output_padding", format!("{v:?} must be >= 0")))?;
            match (rank, v.as_slice()) {
                (1, &[w]) => [0, w],
                (2, &[h, w]) => [h, w],
                _ => {
                    return Err(
                        ctx.bad_attr("output_padding", format!("{v:?} must hold {rank} values"))
                    )
                }
            }
        }
    };
    let span = |a: usize| (dilation[a] * (kernel[a] - 1) + 1) as i64;
    let full = |a: usize| {
        (stride[a] * in_hw[a].saturating_sub(1)) as i64 + output_padding[a] as i64 + span(a)
    };
    let auto_pad = ctx.attr_string("auto_pad")?.unwrap_or_default();
    let split = |total: [i64; 2], upper: bool| {
        let mut pads = [0i64; 4];
        for a in 0..2 {
            let (small, big) = (total[a] / 2, total[a] - total[a] / 2);
            let (b, e) = if upper { (small, big) } else { (big, small) };
            pads[a] = b;
            pads[a + 2] = e;
        }
        pads
    };
    let pads = if let Some(shape) = ctx.attr_ints("output_shape")? {
        let want: Vec<i64> = shape.iter().rev().take(rank).rev().copied().collect();
        let want = if rank == 1 {
            [1, want.first().copied().unwrap_or(1)]
        } else {
            [
                want.first().copied().unwrap_or(1),
                want.get(1).copied().unwrap_or(1),
            ]
        };
        let total = [full(0) - want[0], full(1) - want[1]];
        split(total, auto_pad != "SAME_LOWER")
    } else {
        match auto_pad.as_str() {
            "" | "NOTSET" => match ctx.attr_ints("pads")? {
                None => [0; 4],
                Some(p) => match (rank, p.as_slice()) {
                    (1, &[l, r]) => [0, l, 0, r],
                    (2, &[t, l, b, r]) => [t, l, b, r],
                    _ => {
                        return Err(
                            ctx.bad_attr("pads", format!("{p:?} must hold {} values", 2 * rank))
                        )
                    }
                },
            },
            "VALID" => [0; 4],
            "SAME_UPPER" | "SAME_LOWER" => {
                let total = [
                    full(0) - (in_hw[0] * stride[0]) as i64,
                    full(1) - (in_hw[1] * stride[1]) as i64,
                ];
                split(total, auto_pad == "SAME_UPPER")
            }
            other => {
                return Err(ctx.bad_attr(
                    "auto_pad",
                    format!("`{other}` is not NOTSET, VALID, SAME_UPPER or SAME_LOWER"),
                ))
            }
        }
    };
    if pads.iter().any(|&p| p < 0 || p > MAX_NUMEL as i64) {
        return Err(ctx.bad_attr("pads", format!("{pads:?} must be in 0..={MAX_NUMEL}")));
    }
    Ok(Axes {
        stride,
        dilation,
        pads,
        output_padding,
    })
}

/// `ConvTranspose` with constant weights and bias.
pub(crate) fn conv_transpose<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let (x, c_in, in_hw, rank) = image_input(imp, ctx)?;
    let w = imp.const_input(ctx, 1)?;
    let w_name = ctx.input_name(1).unwrap_or_default();
    let groups = groups(ctx, c_in)?;
    let (per_group_out, kernel) = match (rank, w.dims.as_slice()) {
        (2, &[i, o, kh, kw]) if i == c_in => (o, [kh, kw]),
        (1, &[i, o, kw]) if i == c_in => (o, [1, kw]),
        _ => {
            return Err(ctx.shape_err(format!(
                "weight W `{w_name}` is {:?}; expected [{c_in}, out_channels/{groups}, kernel...]",
                w.dims
            )))
        }
    };
    if per_group_out == 0 || kernel.contains(&0) {
        return Err(ctx.shape_err(format!("weight W `{w_name}` {:?} is empty", w.dims)));
    }
    let c_out = per_group_out * groups;
    let ax = axes(ctx, in_hw, rank, kernel)?;
    let bias = match imp.input_opt(ctx, 2)? {
        None => vec![0.0; c_out],
        Some(Value::Const(b)) if b.to_f32().len() == c_out => b.to_f32(),
        Some(Value::Const(b)) => {
            return Err(ctx.shape_err(format!(
                "bias B `{}` holds {} values; expected {c_out}",
                ctx.input_name(2).unwrap_or_default(),
                b.to_f32().len()
            )))
        }
        Some(Value::Tensor(_)) => {
            return Err(ctx.not_constant(ctx.input_name(2).unwrap_or_default()))
        }
    };

    // The zero-stuffed, cropped input: along each axis, stuffed position s holds x[s / stride]
    // when stride divides s; `lead` (negative: crop) and `trail` pad it for the convolution.
    let mut conv_pads = [0usize; 4];
    let mut crop = [0usize; 4];
    let mut stuffed_hw = [0usize; 2];
    for a in 0..2 {
        let reach = (ax.dilation[a] * (kernel[a] - 1)) as i64;
        let lead = reach - ax.pads[a];
        let trail = reach - ax.pads[a + 2] + ax.output_padding[a] as i64;
        let len = in_hw[a].saturating_sub(1) * ax.stride[a] + 1;
        let (cut_lead, cut_trail) = (
            usize::try_from(-lead).unwrap_or(0),
            usize::try_from(-trail).unwrap_or(0),
        );
        if cut_lead + cut_trail >= len {
            return Err(ctx.shape_err(format!("pads {:?} leave an empty output", ax.pads)));
        }
        crop[a] = cut_lead;
        crop[a + 2] = cut_trail;
        conv_pads[a] = usize::try_from(lead).unwrap_or(0);
        conv_pads[a + 2] = usize::try_from(trail).unwrap_or(0);
        stuffed_hw[a] = len - cut_lead - cut_trail;
    }
    let needs_select = ax.stride != [1, 1] || crop.iter().any(|&c| c > 0);
    let input = if needs_select {
        let n_in = c_in * in_hw[0] * in_hw[1];
        let (h, w) = (stuffed_hw[0], stuffed_hw[1]);
        let mut index = Vec::with_capacity(c_in * h * w);
        let mut uses_zero = false;
        for ch in 0..c_in {
            for i in 0..h {
                for j in 0..w {
                    let (si, sj) = (i + crop[0], j + crop[1]);
                    if si % ax.stride[0] == 0 && sj % ax.stride[1] == 0 {
                        let (xi, xj) = (si / ax.stride[0], sj / ax.stride[1]);
                        index.push((ch * in_hw[0] + xi) * in_hw[1] + xj);
                    } else {
                        uses_zero = true;
                        index.push(n_in);
                    }
                }
            }
        }
        let mut inputs = vec![x];
        if uses_zero {
            let zero = Const::f32(vec![1], vec![0.0]);
            inputs.push(const_tensor(imp, ctx, &Rc::new(zero), x, "zero")?);
        }
        let shape = if rank == 1 {
            vec![1, c_in, w]
        } else {
            vec![1, c_in, h, w]
        };
        let name = format!("{}/stuff", ctx.name);
        imp.push(ctx, name, Op::Select { index }, inputs, shape)?
    } else {
        x
    };

    // W [c_in, c_out/g, kh, kw] -> W' [c_out, c_in/g, kh, kw], flipped spatially.
    let in_per_group = c_in / groups;
    let (kh, kw) = (kernel[0], kernel[1]);
    let src = w.to_f32();
    let mut weight = vec![0.0f32; c_out * in_per_group * kh * kw];
    for g in 0..groups {
        for o in 0..per_group_out {
            for i in 0..in_per_group {
                for y in 0..kh {
                    for z in 0..kw {
                        let from =
                            (((g * in_per_group + i) * per_group_out + o) * kh + (kh - 1 - y)) * kw
                                + (kw - 1 - z);
                        let to = (((g * per_group_out + o) * in_per_group + i) * kh + y) * kw + z;
                        weight[to] = src.get(from).copied().unwrap_or(0.0);
                    }
                }
            }
        }
    }
    let win = Window {
        kernel,
        stride: [1, 1],
        pads: conv_pads,
        dilation: ax.dilation,
    };
    let geom = geometry(ctx, c_in, c_out, groups, stuffed_hw, &win)?;
    let shape = out_shape(&geom, rank);
    let op = Op::Conv { weight, bias, geom };
    let id = imp.push_trained(ctx, ctx.name.clone(), op, vec![input], shape)?;
    imp.bind(out, Value::Tensor(id));
    Ok(())
}
