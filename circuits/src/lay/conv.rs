//! Conv on the linear chip with gathered lanes: the output channels of one conv group are
//! taken `M` at a time (the linear chip's accumulators), and for each output position the
//! group's outputs share one run of rows whose lanes are the input elements of the
//! position's taps (the same for every channel of the conv group), copied from their
//! sources, against each channel's matching weights (fixed cells, or advice copied from the
//! checked parameter cells), plus its bias.
//!
//! An output whose window lies entirely in the padding has no taps: it still takes one
//! first row, with every weight 0, so its accumulator is pinned to the bias.

use halo2_proofs::circuit::Value;
use halo2_proofs::halo2curves::bn256::Fr;
use zkinfer_ir::geometry::ConvGeom;

use crate::chips::linear::{running_sums, DotSpec, LinearConfig};
use crate::config::DotShape;
use crate::error::LayoutFault;
use crate::lay::ctx::{bind_dot_params, bind_idle_params, expect_len, value, NodeCtx, Src, Walk};
use crate::lay::{tamper, NodeRows, RowsCtx};

/// Rows of a Conv: per conv group, `ceil(channels / M)` channel groups, each one run of
/// `ceil(taps / K)` rows per output position.
///
/// Counted without listing the taps: an output at `(oy, ox)` has
/// `channels_per_group · valid_ky(oy) · valid_kx(ox)` of them, the same in every output
/// channel. The layout's caller checks this count against the rows it actually used.
pub(crate) fn rows(rc: &RowsCtx<'_>, geom: &ConvGeom) -> NodeRows {
    NodeRows::plain(rows_with(geom, rc.shape))
}

/// [`rows`] for the linear chip's `shape`.
pub(crate) fn rows_with(geom: &ConvGeom, shape: DotShape) -> usize {
    // Kernel offsets that land inside the input, for each output position along axis `a`.
    let inside = |a: usize, outs: usize, len: usize| -> Vec<usize> {
        (0..outs)
            .map(|o| {
                (0..geom.kernel[a])
                    .filter(|&k| {
                        (o * geom.stride[a] + k * geom.dilation[a])
                            .checked_sub(geom.pads[a])
                            .is_some_and(|p| p < len)
                    })
                    .count()
            })
            .collect()
    };
    let ys = inside(0, geom.out_h(), geom.in_h);
    let xs = inside(1, geom.out_w(), geom.in_w);
    let cpg = geom.channels_per_group();
    let plane: usize = ys
        .iter()
        .flat_map(|cy| {
            xs.iter()
                .map(move |cx| LinearConfig::rows_per_dot(cpg * cy * cx, shape.lanes))
        })
        .sum();
    channel_groups(geom, shape.outs).len() * plane
}

/// The output channels laid side by side, in layout order: each conv group's channels, `outs`
/// at a time.
pub(crate) fn channel_groups(geom: &ConvGeom, outs: usize) -> Vec<std::ops::Range<usize>> {
    let per_group = geom.out_channels / geom.groups.max(1);
    (0..geom.groups.max(1))
        .flat_map(|g| {
            let (lo, hi) = (g * per_group, (g + 1) * per_group);
            (lo..hi)
                .step_by(outs.max(1))
                .map(move |c| c..(c + outs.max(1)).min(hi))
        })
        .collect()
}

/// `acc[o] = bias[channel(o)] + Σ_(i, w) ∈ taps(o) weight[w] * x[i]`.
pub(crate) fn lay(
    linear: &LinearConfig,
    walk: &mut Walk<'_, '_>,
    ctx: &NodeCtx<'_>,
    weight: &[i64],
    bias: &[i64],
    geom: &ConvGeom,
) -> Result<Vec<Src>, LayoutFault> {
    let x = ctx.operand(0)?;
    if !geom.is_valid() {
        return Err(LayoutFault::Parameter("an inconsistent Conv geometry"));
    }
    x.expect_len(geom.in_numel())?;
    expect_len("weight", geom.weight_len(), weight.len())?;
    expect_len("bias", geom.out_channels, bias.len())?;
    let lanes = linear.lanes();
    let plane = geom.out_h() * geom.out_w();
    let per_channel = geom.weight_len() / geom.out_channels.max(1);
    let mut out: Vec<Option<Src>> = vec![None; geom.out_numel()];
    for channels in channel_groups(geom, linear.outs()) {
        for pixel in 0..plane {
            let first = channels.start * plane + pixel;
            let taps = geom.taps(first);
            let srcs = taps
                .iter()
                .map(|&(i, _)| x.src(i))
                .collect::<Result<Vec<_>, _>>()?;
            #[allow(unused_mut)]
            let mut xs: Option<Vec<i64>> = match x.val {
                Some(_) => Some(
                    taps.iter()
                        .map(|&(i, _)| x.at(i).map(|v| v.unwrap_or_default()))
                        .collect::<Result<_, _>>()?,
                ),
                None => None,
            };
            // Channel `c` of the conv group reads the same inputs as the group's first
            // channel, its weights `per_channel` further on (ConvGeom::taps' weight order).
            let weight_at = |c: usize| {
                let shift = (c - channels.start) * per_channel;
                taps.iter().map(move |&(_, wi)| wi + shift)
            };
            let mut ws = Vec::with_capacity(channels.len());
            let mut biases = Vec::with_capacity(channels.len());
            for c in channels.clone() {
                let w = weight_at(c)
                    .map(|wi| {
                        weight
                            .get(wi)
                            .copied()
                            .ok_or(LayoutFault::Parameter("a Conv tap without a weight"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                ws.push(w);
                biases.push(bias.get(c).copied().ok_or(LayoutFault::Parameter(
                    "a Conv output channel without a bias",
                ))?);
            }
            // The lanes are shared: change them before any running sum reads them.
            for c in channels.clone() {
                tamper!(ctx, c * plane + pixel, dot_lanes(&mut xs));
            }
            let mut sums = Vec::with_capacity(channels.len());
            for (c, (w, b)) in channels.clone().zip(ws.iter().zip(&biases)) {
                let o = c * plane + pixel;
                let mut s = xs.as_deref().map(|x| running_sums(x, w, *b, lanes));
                tamper!(ctx, o, dot_sums(&mut s));
                sums.push(s);
            }
            let lane_values: Vec<Value<Fr>> = (0..taps.len())
                .map(|l| value(xs.as_ref().and_then(|x| x.get(l).copied())))
                .collect();
            let specs: Vec<DotSpec<'_>> = ws
                .iter()
                .zip(&biases)
                .zip(&sums)
                .map(|((w, b), s)| DotSpec {
                    w,
                    bias: *b,
                    sums: s.as_deref(),
                })
                .collect();
            let row = walk.take(LinearConfig::rows_per_dot(taps.len(), lanes));
            let group = linear.assign_group(walk.region, row, &lane_values, &specs)?;
            for (src, cell) in srcs.iter().zip(&group.lanes) {
                walk.bind(*src, *cell);
            }
            if let Some(p) = &ctx.params {
                let missing = LayoutFault::Parameter("parameter cells of the wrong length");
                let (wc, bc) = (p.tensor(0)?, p.tensor(1)?);
                for (c, dot) in channels.clone().zip(&group.dots) {
                    let weights = weight_at(c)
                        .map(|wi| wc.get(wi).copied().ok_or(missing.clone()))
                        .collect::<Result<Vec<_>, _>>()?;
                    let bias = bc.get(c).copied().ok_or(missing.clone())?;
                    bind_dot_params(walk, dot, &weights, bias, p.zero)?;
                }
                bind_idle_params(walk, group.dots.get(channels.len()..), p.zero);
            }
            for (c, dot) in channels.clone().zip(&group.dots) {
                if let Some(slot) = out.get_mut(c * plane + pixel) {
                    *slot = Some(Src::Cell(dot.out));
                }
            }
        }
    }
    out.into_iter()
        .map(|s| {
            s.ok_or(LayoutFault::Parameter(
                "a Conv output without a dot product",
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use zkinfer_ir::geometry::ConvGeom;
    use zkinfer_ir::QOp;

    use crate::config::DotShape;

    use crate::chips::linear::LinearConfig;
    use crate::corrupt::{Corruption, CorruptionKind};
    use crate::testing::*;

    #[allow(clippy::too_many_arguments)]
    fn geom(
        [in_channels, in_h, in_w]: [usize; 3],
        out_channels: usize,
        kernel: [usize; 2],
        stride: [usize; 2],
        pads: [usize; 4],
        dilation: [usize; 2],
        groups: usize,
    ) -> ConvGeom {
        let g = ConvGeom {
            in_channels,
            in_h,
            in_w,
            out_channels,
            kernel,
            stride,
            pads,
            dilation,
            groups,
        };
        assert!(g.is_valid(), "{g:?}");
        g
    }

    fn plain() -> ConvGeom {
        geom([2, 5, 5], 3, [3, 3], [1, 1], [0; 4], [1, 1], 1)
    }

    fn strided_padded() -> ConvGeom {
        geom([2, 6, 5], 2, [3, 3], [2, 2], [1, 1, 1, 1], [1, 1], 1)
    }

    fn dilated() -> ConvGeom {
        geom([1, 7, 6], 2, [2, 3], [1, 1], [0, 1, 0, 2], [2, 2], 1)
    }

    fn grouped() -> ConvGeom {
        geom([4, 4, 5], 4, [3, 2], [1, 2], [1, 1, 1, 1], [1, 1], 2)
    }

    fn depthwise() -> ConvGeom {
        geom([3, 4, 4], 3, [3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 3)
    }

    /// A 1x1 kernel with padding 2: the two outer rings of outputs see only padding.
    fn padding_only_rims() -> ConvGeom {
        geom([1, 2, 2], 2, [1, 1], [1, 1], [2, 2, 2, 2], [1, 1], 1)
    }

    fn conv_fixture(g: &ConvGeom, seed: u64) -> Fixture {
        let weight = random_ints(g.weight_len(), 20, seed);
        let bias = random_ints(g.out_channels, 300, seed + 1);
        let per_channel = g.weight_len() / g.out_channels;
        let bound = weight
            .chunks(per_channel)
            .zip(&bias)
            .map(|(w, b)| w.iter().map(|v| v.unsigned_abs()).sum::<u64>() * 30 + b.unsigned_abs())
            .max()
            .unwrap_or(0);
        let op = QOp::Conv {
            weight,
            bias,
            geom: g.clone(),
        };
        fixture_of(
            single_op(op, g.in_numel(), 30, g.out_numel(), bound, 1),
            random_ints(g.in_numel(), 30, seed + 2),
        )
    }

    /// First row of output `o`'s dot product.
    fn dot_start(g: &ConvGeom, lanes: usize, o: usize) -> usize {
        (0..o)
            .map(|p| LinearConfig::rows_per_dot(g.taps(p).len(), lanes))
            .sum()
    }

    #[test]
    fn convolutions_pass_over_strides_padding_dilation_and_groups() {
        let geoms = [
            plain(),
            strided_padded(),
            dilated(),
            grouped(),
            depthwise(),
            padding_only_rims(),
        ];
        for (s, g) in geoms.iter().enumerate() {
            let f = conv_fixture(g, 20 + s as u64);
            f.mock(None).expect("honest witness, planner's lanes");
            for (lanes, outs) in [(1, 1), (4, 1), (12, 1), (4, 2), (2, 3), (3, 8)] {
                with_shape(f.clone(), lanes, outs)
                    .mock(None)
                    .unwrap_or_else(|e| panic!("{g:?}, {lanes}x{outs}: {e:#?}"));
            }
        }
    }

    #[test]
    fn row_count_sums_the_dot_products() {
        let g = padding_only_rims();
        // 6x6 outputs per channel, only the centre 2x2 touches the input (one tap each).
        assert_eq!(g.out_shape(), [2, 6, 6]);
        assert_eq!(super::rows_with(&g, DotShape::new(4, 1)), 72);
        let g = plain();
        // 3 channels x 3x3 outputs, 18 taps each.
        assert_eq!(super::rows_with(&g, DotShape::new(4, 1)), 27 * 5);
        assert_eq!(super::rows_with(&g, DotShape::new(1, 1)), 27 * 18);
    }

    #[test]
    fn row_count_matches_the_taps() {
        let geoms = [
            plain(),
            strided_padded(),
            dilated(),
            grouped(),
            depthwise(),
            padding_only_rims(),
            geom([2, 3, 7], 4, [3, 1], [3, 1], [2, 0, 0, 1], [2, 3], 2),
        ];
        for g in &geoms {
            for lanes in [1, 2, 3, 4, 8, 12, 32] {
                let by_taps: usize = (0..g.out_numel())
                    .map(|o| LinearConfig::rows_per_dot(g.taps(o).len(), lanes))
                    .sum();
                let shape = DotShape::new(lanes, 1);
                assert_eq!(super::rows_with(g, shape), by_taps, "{g:?}, {lanes} lanes");
                // With several accumulators, one run of rows per channel group and position.
                for outs in [2, 3, 8] {
                    let plane = g.out_h() * g.out_w();
                    let by_groups: usize = super::channel_groups(g, outs)
                        .iter()
                        .flat_map(|c| (0..plane).map(move |p| c.start * plane + p))
                        .map(|o| LinearConfig::rows_per_dot(g.taps(o).len(), lanes))
                        .sum();
                    let shape = DotShape::new(lanes, outs);
                    assert_eq!(super::rows_with(g, shape), by_groups, "{g:?}, {shape:?}");
                }
            }
        }
    }

    #[test]
    fn wrong_accumulator_fails_the_linear_gate() {
        let g = strided_padded();
        let f = with_lanes(conv_fixture(&g, 30), 4);
        // Output 2 of channel 0 is the top right corner: 8 of its 18 taps are inside.
        let o = 2;
        let rows = LinearConfig::rows_per_dot(g.taps(o).len(), 4);
        assert!(rows > 1 && g.taps(o).len() < 18, "{:?}", g.taps(o));
        let c = Corruption {
            node: 0,
            element: o,
            kind: CorruptionKind::LinearAcc(1),
        };
        let result = f.mock_with_output(Some(c), &output_with(&f, o, 1));
        let row = dot_start(&g, 4, o) + rows - 1;
        assert_constraint_failure(result, "linear next row", "acc = acc[-1] + x·w", row);
    }

    #[test]
    fn fully_padded_output_is_pinned_to_the_bias() {
        let g = padding_only_rims();
        let f = conv_fixture(&g, 31);
        let o = g.out_w() + 1;
        assert!(g.taps(o).is_empty());
        let c = Corruption {
            node: 0,
            element: o,
            kind: CorruptionKind::LinearAcc(-3),
        };
        let result = f.mock_with_output(Some(c), &output_with(&f, o, -3));
        let row = dot_start(&g, f.params.lanes, o);
        assert_constraint_failure(result, "linear first row", "acc = bias + x·w", row);
    }

    #[test]
    fn gathered_lanes_are_copied_from_their_sources() {
        let g = grouped();
        let f = with_lanes(conv_fixture(&g, 32), 4);
        // An output of the second group: its lanes read input channels 2 and 3 only.
        let o = 2 * g.out_h() * g.out_w() + 3;
        let taps = g.taps(o);
        assert!(
            taps.iter().all(|&(i, _)| i >= 2 * g.in_h * g.in_w),
            "{taps:?}"
        );
        let QOp::Conv { weight, .. } = &f.graph.nodes[0].op else {
            panic!("not a conv");
        };
        let delta = weight[taps[0].1] * 5;
        let c = Corruption {
            node: 0,
            element: o,
            kind: CorruptionKind::DotLane(5),
        };
        let result = f.mock_with_output(Some(c), &output_with(&f, o, delta));
        // The lanes are pool columns 1..=K (column 0 is the range-check value).
        assert_copy_failure(result, 1, dot_start(&g, 4, o));
    }
}
