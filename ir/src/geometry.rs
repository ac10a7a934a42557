//! Index geometry of 2-D convolutions and pools (batch 1, `[C, H, W]` row-major).
//!
//! One function, [`ConvGeom::taps`], says which input element meets which weight for an
//! output element. The float path, the integer semantics, the runtime and the circuit
//! all use it, so they cannot disagree on padding, stride, dilation or groups.

use serde::{Deserialize, Serialize};

/// A 2-D convolution's shape parameters. Weights are `[out_channels, in_channels / groups, kh, kw]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvGeom {
    /// Input channels.
    pub in_channels: usize,
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Kernel `[kh, kw]`.
    pub kernel: [usize; 2],
    /// Stride `[sh, sw]`.
    pub stride: [usize; 2],
    /// Zero padding `[top, left, bottom, right]`.
    pub pads: [usize; 4],
    /// Dilation `[dh, dw]`.
    pub dilation: [usize; 2],
    /// Channel groups (`in_channels` and `out_channels` are multiples of it).
    pub groups: usize,
}

impl ConvGeom {
    /// Whether the parameters describe a real convolution (no zero sizes, groups divide channels).
    pub fn is_valid(&self) -> bool {
        self.groups >= 1
            && self.in_channels % self.groups == 0
            && self.out_channels % self.groups == 0
            && self.out_channels >= 1
            && self.kernel.iter().all(|&k| k >= 1)
            && self.stride.iter().all(|&s| s >= 1)
            && self.dilation.iter().all(|&d| d >= 1)
            && self.in_h + self.pads[0] + self.pads[2] >= self.span(0)
            && self.in_w + self.pads[1] + self.pads[3] >= self.span(1)
    }

    /// Extent of the dilated kernel along axis `a` (0 = height, 1 = width).
    fn span(&self, a: usize) -> usize {
        self.dilation[a] * (self.kernel[a].max(1) - 1) + 1
    }

    /// Output height.
    pub fn out_h(&self) -> usize {
        (self.in_h + self.pads[0] + self.pads[2]).saturating_sub(self.span(0))
            / self.stride[0].max(1)
            + 1
    }

    /// Output width.
    pub fn out_w(&self) -> usize {
        (self.in_w + self.pads[1] + self.pads[3]).saturating_sub(self.span(1))
            / self.stride[1].max(1)
            + 1
    }

    /// Output shape `[out_channels, out_h, out_w]`.
    pub fn out_shape(&self) -> [usize; 3] {
        [self.out_channels, self.out_h(), self.out_w()]
    }

    /// Input elements `C·H·W`.
    pub fn in_numel(&self) -> usize {
        self.in_channels * self.in_h * self.in_w
    }

    /// Output elements.
    pub fn out_numel(&self) -> usize {
        self.out_channels * self.out_h() * self.out_w()
    }

    /// Input channels seen by one output channel.
    pub fn channels_per_group(&self) -> usize {
        self.in_channels / self.groups.max(1)
    }

    /// Number of weights.
    pub fn weight_len(&self) -> usize {
        self.out_channels * self.channels_per_group() * self.kernel[0] * self.kernel[1]
    }

    /// The `(input index, weight index)` pairs output element `out` sums over, in a fixed
    /// order (channel, kernel row, kernel column). Padded positions are skipped (zeros).
    pub fn taps(&self, out: usize) -> Vec<(usize, usize)> {
        let (oh, ow) = (self.out_h(), self.out_w());
        let plane = oh * ow;
        let (oc, rest) = (out / plane.max(1), out % plane.max(1));
        let (oy, ox) = (rest / ow.max(1), rest % ow.max(1));
        let cpg = self.channels_per_group();
        let out_per_group = self.out_channels / self.groups.max(1);
        let group = oc / out_per_group.max(1);
        let [kh, kw] = self.kernel;
        let mut taps = Vec::with_capacity(cpg * kh * kw);
        for ci in 0..cpg {
            let c = group * cpg + ci;
            for ky in 0..kh {
                let y = (oy * self.stride[0] + ky * self.dilation[0]).checked_sub(self.pads[0]);
                let Some(y) = y.filter(|&y| y < self.in_h) else {
                    continue;
                };
                for kx in 0..kw {
                    let x = (ox * self.stride[1] + kx * self.dilation[1]).checked_sub(self.pads[1]);
                    let Some(x) = x.filter(|&x| x < self.in_w) else {
                        continue;
                    };
                    let input = (c * self.in_h + y) * self.in_w + x;
                    let weight = ((oc * cpg + ci) * kh + ky) * kw + kx;
                    taps.push((input, weight));
                }
            }
        }
        taps
    }

    /// Output channel of output element `out` (selects the bias).
    pub fn out_channel(&self, out: usize) -> usize {
        out / (self.out_h() * self.out_w()).max(1)
    }

    /// Kernel positions per window, padding included.
    pub fn window(&self) -> usize {
        self.kernel[0] * self.kernel[1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geom(pads: [usize; 4], stride: usize, dilation: usize, groups: usize) -> ConvGeom {
        ConvGeom {
            in_channels: 2,
            in_h: 5,
            in_w: 4,
            out_channels: 2,
            kernel: [3, 2],
            stride: [stride, stride],
            pads,
            dilation: [dilation, dilation],
            groups,
        }
    }

    #[test]
    fn output_sizes_follow_onnx() {
        let g = geom([0; 4], 1, 1, 1);
        assert_eq!(g.out_shape(), [2, 3, 3]);
        let g = geom([1, 1, 1, 1], 2, 1, 1);
        assert_eq!(g.out_shape(), [2, 3, 3]);
        let g = geom([0; 4], 1, 2, 2);
        assert_eq!(g.out_shape(), [2, 1, 2]);
        assert!(g.is_valid());
        assert_eq!(g.weight_len(), 2 * 3 * 2);
    }

    #[test]
    fn taps_skip_padding_and_respect_groups() {
        let g = geom([1, 1, 1, 1], 1, 1, 2);
        // Output channel 1 reads only input channel 1; its first element sits in the corner.
        let plane = g.out_h() * g.out_w();
        let taps = g.taps(plane);
        assert_eq!(taps.len(), 2, "corner: 2 of 6 taps are inside");
        assert!(taps.iter().all(|&(i, _)| i >= 20), "{taps:?}");
        let full = g.taps(plane + g.out_w() + 1);
        assert_eq!(full.len(), 6);
        assert!(full.iter().all(|&(_, w)| (6..12).contains(&w)));
    }
}
