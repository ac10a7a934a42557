//! `Conv`: candle `conv2d` in F64 where the bounds make it exact, else an exact i64
//! im2col (gather with `index_select`, multiply, sum).
//!
//! Candle's `conv2d` takes one symmetric padding, one stride and one dilation for both
//! axes. Asymmetric pads are applied to the input beforehand, unequal dilations by
//! spreading the kernel with zeros, and unequal strides by running at stride 1 and keeping
//! every `s`-th row and column. None of these change a single product or partial sum.

use candle_core::{DType, Device, Tensor};
use zkinfer_ir::geometry::ConvGeom;

use super::{index_tensor, linear_path, linear_worst_case, malformed, LinearPath, Operand};
use super::{RuntimeError, I64_CHUNK};
use crate::error::AtNode;

/// Sizes of a convolution, every one computed without overflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConvDims {
    /// Input channels per group.
    pub cpg: usize,
    /// Output channels per group.
    pub opg: usize,
    /// Output height.
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
    /// Taps per output element: `cpg * kh * kw`.
    pub taps: usize,
    /// Input elements `C * H * W`.
    pub in_numel: usize,
    /// Weights `out_channels * taps`.
    pub weight_len: usize,
}

impl ConvDims {
    /// The sizes of `geom`, or `None` if it is not a valid convolution (the same rules as
    /// [`ConvGeom::is_valid`]) or a size overflows `usize`.
    pub(crate) fn of(geom: &ConvGeom) -> Option<Self> {
        let [kh, kw] = geom.kernel;
        let [sh, sw] = geom.stride;
        let [dh, dw] = geom.dilation;
        let [top, left, bottom, right] = geom.pads;
        let groups = geom.groups;
        let valid = groups >= 1
            && geom.in_channels % groups == 0
            && geom.out_channels % groups == 0
            && geom.out_channels >= 1
            && kh >= 1
            && kw >= 1
            && sh >= 1
            && sw >= 1
            && dh >= 1
            && dw >= 1;
        if !valid {
            return None;
        }
        let span_h = dh.checked_mul(kh - 1)?.checked_add(1)?;
        let span_w = dw.checked_mul(kw - 1)?.checked_add(1)?;
        let padded_h = geom.in_h.checked_add(top)?.checked_add(bottom)?;
        let padded_w = geom.in_w.checked_add(left)?.checked_add(right)?;
        let out_h = padded_h.checked_sub(span_h)? / sh + 1;
        let out_w = padded_w.checked_sub(span_w)? / sw + 1;
        let cpg = geom.in_channels / groups;
        let taps = cpg.checked_mul(kh)?.checked_mul(kw)?;
        Some(Self {
            cpg,
            opg: geom.out_channels / groups,
            out_h,
            out_w,
            taps,
            in_numel: geom
                .in_channels
                .checked_mul(geom.in_h)?
                .checked_mul(geom.in_w)?,
            weight_len: geom.out_channels.checked_mul(taps)?,
        })
    }

    /// Output positions per channel.
    fn plane(&self) -> Option<usize> {
        self.out_h.checked_mul(self.out_w)
    }
}

/// `Conv`, exact: F64 `conv2d` when every partial sum is an integer below 2^53, else
/// the i64 im2col; [`RuntimeError::Overflow`] if the worst case exceeds i64.
pub(crate) fn conv(
    name: &str,
    x: &Operand<'_>,
    weight: &[i64],
    bias: &[i64],
    geom: &ConvGeom,
    device: &Device,
) -> Result<Tensor, RuntimeError> {
    let dims = ConvDims::of(geom)
        .ok_or_else(|| malformed(name, format!("invalid convolution geometry {geom:?}")))?;
    let numel = x.tensor.elem_count();
    if numel != dims.in_numel || weight.len() != dims.weight_len || bias.len() != geom.out_channels
    {
        return Err(malformed(
            name,
            format!(
                "{numel} inputs, {} weights and {} biases, the geometry needs {}, {} and {}",
                weight.len(),
                bias.len(),
                dims.in_numel,
                dims.weight_len,
                geom.out_channels
            ),
        ));
    }
    let plane = dims
        .plane()
        .ok_or_else(|| malformed(name, "output plane size overflows"))?;
    if dims.taps == 0 || numel == 0 {
        // No input element is read: every output is its channel's bias.
        return Tensor::from_slice(bias, (geom.out_channels, 1), device)
            .and_then(|b| b.repeat((1, plane)))
            .at(name);
    }
    // Every output element sums a subset of its channel's weights times inputs, so the
    // linear worst case over rows of `taps` weights bounds every partial sum.
    let worst_case = linear_worst_case(weight, bias, dims.taps, x.desc.bound);
    let path = linear_path(weight, worst_case).ok_or_else(|| RuntimeError::Overflow {
        node: name.to_string(),
        worst_case,
    })?;
    match path {
        LinearPath::F64 => conv_f64(x.tensor, weight, bias, geom, &dims, device).at(name),
        LinearPath::I64 => {
            conv_i64(x.tensor, weight, bias, geom, &dims, I64_CHUNK, device).at(name)
        }
    }
}

/// F64 `conv2d` plus bias, cast back to I64: exact only under [`LinearPath::F64`].
/// `dims` must be [`ConvDims::of`] `geom`, with at least one tap and one input.
pub(crate) fn conv_f64(
    x: &Tensor,
    weight: &[i64],
    bias: &[i64],
    geom: &ConvGeom,
    dims: &ConvDims,
    device: &Device,
) -> candle_core::Result<Tensor> {
    let [top, left, bottom, right] = geom.pads;
    let [kh, kw] = geom.kernel;
    let [sh, sw] = geom.stride;
    let [dh, dw] = geom.dilation;
    let oc = geom.out_channels;
    let mut x = x
        .reshape((1, geom.in_channels, geom.in_h, geom.in_w))?
        .to_dtype(DType::F64)?;
    let padding = if top == left && left == bottom && bottom == right {
        top
    } else {
        x = x
            .pad_with_zeros(2, top, bottom)?
            .pad_with_zeros(3, left, right)?;
        0
    };
    let weight_f64: Vec<f64> = weight.iter().map(|&w| w as f64).collect();
    let (kernel, dilation) = if dh == dw {
        let kernel = Tensor::from_vec(weight_f64, (oc, dims.cpg, kh, kw), device)?;
        (kernel, dh)
    } else {
        // The dilated kernel itself, zeros between the taps, at dilation 1.
        let (kh_d, kw_d) = ((kh - 1) * dh + 1, (kw - 1) * dw + 1); // checked by `dims`
        let len = oc
            .checked_mul(dims.cpg)
            .and_then(|n| n.checked_mul(kh_d))
            .and_then(|n| n.checked_mul(kw_d))
            .ok_or_else(|| candle_core::Error::msg("dilated kernel size overflows"))?;
        let mut spread = vec![0f64; len];
        for (j, w) in weight_f64.iter().enumerate() {
            let (plane, ky, kx) = (j / (kh * kw), j / kw % kh, j % kw);
            let at = (plane * kh_d + ky * dh) * kw_d + kx * dw;
            if let Some(slot) = spread.get_mut(at) {
                *slot = *w;
            }
        }
        (
            Tensor::from_vec(spread, (oc, dims.cpg, kh_d, kw_d), device)?,
            1,
        )
    };
    let stride = if sh == sw { sh } else { 1 };
    let mut y = x.conv2d(&kernel, padding, stride, dilation, geom.groups)?;
    if sh != sw {
        let rows: Vec<usize> = (0..dims.out_h).map(|r| r * sh).collect();
        let cols: Vec<usize> = (0..dims.out_w).map(|c| c * sw).collect();
        y = y
            .index_select(&index_tensor(&rows, y.dim(2)?, device)?, 2)?
            .index_select(&index_tensor(&cols, y.dim(3)?, device)?, 3)?;
    }
    let b: Vec<f64> = bias.iter().map(|&b| b as f64).collect();
    let b = Tensor::from_vec(b, (1, oc, 1, 1), device)?;
    y.broadcast_add(&b)?.to_dtype(DType::I64)
}

/// Exact i64 convolution: the input (plus one trailing zero for padded taps) is gathered
/// into `[groups, positions, taps]` patches with `index_select`, multiplied by the
/// `[groups, out/group, taps]` weights and summed. Output positions are done in chunks so
/// that no product tensor exceeds `max_elems` (unless one position does).
/// `dims` must be [`ConvDims::of`] `geom`.
pub(crate) fn conv_i64(
    x: &Tensor,
    weight: &[i64],
    bias: &[i64],
    geom: &ConvGeom,
    dims: &ConvDims,
    max_elems: usize,
    device: &Device,
) -> candle_core::Result<Tensor> {
    let plane = dims
        .plane()
        .ok_or_else(|| candle_core::Error::msg("output plane size overflows"))?;
    let ids = im2col_indices(geom, dims)
        .ok_or_else(|| candle_core::Error::msg("im2col index count overflows"))?;
    let zero = Tensor::zeros(1, DType::I64, device)?;
    let x_ext = Tensor::cat(&[&x.flatten_all()?, &zero], 0)?;
    let ids = index_tensor(&ids, dims.in_numel + 1, device)?;
    let groups = geom.groups;
    let patches = x_ext
        .index_select(&ids, 0)?
        .reshape((groups, plane, dims.taps))?
        .unsqueeze(1)?; // [groups, 1, plane, taps]
    let w = Tensor::from_slice(weight, (groups, dims.opg, dims.taps), device)?.unsqueeze(2)?;
    let per_chunk = (max_elems / geom.out_channels.saturating_mul(dims.taps).max(1)).max(1);
    let mut parts = Vec::with_capacity(plane.div_ceil(per_chunk));
    let mut start = 0;
    while start < plane {
        let len = per_chunk.min(plane - start);
        let chunk = patches.narrow(2, start, len)?; // [groups, 1, len, taps]
        parts.push(w.broadcast_mul(&chunk)?.sum(3)?); // [groups, opg, len]
        start += len;
    }
    let b = Tensor::from_slice(bias, (geom.out_channels, 1), device)?;
    Tensor::cat(&parts, 2)?
        .reshape((geom.out_channels, plane))?
        .broadcast_add(&b)
}

/// For every group, output position and tap `(channel, ky, kx)` (in that order), the flat
/// input index it reads, or `in_numel` (the appended zero) for a padded position.
fn im2col_indices(geom: &ConvGeom, dims: &ConvDims) -> Option<Vec<usize>> {
    let [kh, kw] = geom.kernel;
    let [sh, sw] = geom.stride;
    let [dh, dw] = geom.dilation;
    let (top, left) = (geom.pads[0], geom.pads[1]);
    let (in_h, in_w) = (geom.in_h, geom.in_w);
    let count = geom
        .groups
        .checked_mul(dims.plane()?)?
        .checked_mul(dims.taps)?;
    let mut ids = Vec::with_capacity(count);
    for g in 0..geom.groups {
        for oy in 0..dims.out_h {
            for ox in 0..dims.out_w {
                for ci in 0..dims.cpg {
                    let c = g * dims.cpg + ci;
                    for ky in 0..kh {
                        let y = (oy * sh + ky * dh).checked_sub(top).filter(|&y| y < in_h);
                        for kx in 0..kw {
                            let x = (ox * sw + kx * dw).checked_sub(left).filter(|&x| x < in_w);
                            ids.push(match (y, x) {
                                (Some(y), Some(x)) => (c * in_h + y) * in_w + x,
                                _ => dims.in_numel,
                            });
                        }
                    }
                }
            }
        }
    }
    Some(ids)
}
