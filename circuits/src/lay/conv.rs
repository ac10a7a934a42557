//! Conv on the linear chip with gathered lanes: output element `o` is one dot product whose
//! lanes are the input elements of `geom.taps(o)`, copied from their sources, against the
//! matching weights (fixed cells, or advice copied from the checked parameter cells), plus
//! the bias of `o`'s output channel.
//!
//! An output whose window lies entirely in the padding has no taps: it still takes one
//! first row, with every weight 0, so its accumulator is pinned to the bias.

use halo2_proofs::circuit::Value;
use halo2_proofs::halo2curves::bn256::Fr;
use zkinfer_ir::geometry::ConvGeom;

use crate::chips::linear::{running_sums, LinearConfig};
use crate::error::LayoutFault;
use crate::lay::ctx::{bind_dot_params, expect_len, value, NodeCtx, Src, Walk};
use crate::lay::{tamper, NodeRows, RowsCtx};

/// Rows of a Conv: one dot product of `taps(o).len()` lanes per output element.
///
/// Counted without listing the taps: an output at `(oy, ox)` has
/// `channels_per_group · valid_ky(oy) · valid_kx(ox)` of them, the same in every output
/// channel. The layout's caller checks this count against the rows it actually used.
pub(crate) fn rows(rc: &RowsCtx<'_>, geom: &ConvGeom) -> NodeRows {
    NodeRows::plain(rows_with(geom, rc.lanes))
}

/// [`rows`] for `lanes` dot-product lanes.
pub(crate) fn rows_with(geom: &ConvGeom, lanes: usize) -> usize {
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
                .map(move |cx| LinearConfig::rows_per_dot(cpg * cy * cx, lanes))
        })
        .sum();
    geom.out_channels * plane
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
    let mut out = Vec::with_capacity(geom.out_numel());
    for o in 0..geom.out_numel() {
        let taps = geom.taps(o);
        let b = bias
            .get(geom.out_channel(o))
            .copied()
            .ok_or(LayoutFault::Parameter(
                "a Conv output channel without a bias",
            ))?;
        let mut srcs = Vec::with_capacity(taps.len());
        let mut w = Vec::with_capacity(taps.len());
        for &(i, wi) in &taps {
            srcs.push(x.src(i)?);
            w.push(
                weight
                    .get(wi)
                    .copied()
                    .ok_or(LayoutFault::Parameter("a Conv tap without a weight"))?,
            );
        }
        let mut xs: Option<Vec<i64>> = match x.val {
            Some(_) => Some(
                taps.iter()
                    .map(|&(i, _)| x.at(i).map(|v| v.unwrap_or_default()))
                    .collect::<Result<_, _>>()?,
            ),
            None => None,
        };
        tamper!(ctx, o, dot_lanes(&mut xs));
        let mut sums = xs.as_deref().map(|x| running_sums(x, &w, b, lanes));
        tamper!(ctx, o, dot_sums(&mut sums));
        let lane_values: Vec<Value<Fr>> = (0..taps.len())
            .map(|l| value(xs.as_ref().and_then(|x| x.get(l).copied())))
            .collect();
        let row = walk.take(LinearConfig::rows_per_dot(w.len(), lanes));
        let dot = linear.assign_dot(walk.region, row, &lane_values, &w, b, sums.as_deref())?;
        for (src, cell) in srcs.iter().zip(&dot.lanes) {
            walk.bind(*src, *cell);
        }
        if let Some(p) = &ctx.params {
            let missing = LayoutFault::Parameter("parameter cells of the wrong length");
            let (wc, bc) = (p.tensor(0)?, p.tensor(1)?);
            let weights = taps
                .iter()
                .map(|&(_, wi)| wc.get(wi).copied().ok_or(missing.clone()))
                .collect::<Result<Vec<_>, _>>()?;
            let bias = bc.get(geom.out_channel(o)).copied().ok_or(missing)?;
            bind_dot_params(walk, &dot, &weights, bias, p.zero)?;
        }
        out.push(Src::Cell(dot.out));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use zkinfer_ir::geometry::ConvGeom;
    use zkinfer_ir::QOp;

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
            for lanes in [1, 4, 12] {
                with_lanes(f.clone(), lanes)
                    .mock(None)
                    .unwrap_or_else(|e| panic!("{g:?}, {lanes} lanes: {e:#?}"));
            }
        }
    }

    #[test]
    fn row_count_sums_the_dot_products() {
        let g = padding_only_rims();
        // 6x6 outputs per channel, only the centre 2x2 touches the input (one tap each).
        assert_eq!(g.out_shape(), [2, 6, 6]);
        assert_eq!(super::rows_with(&g, 4), 72);
        let g = plain();
        // 3 channels x 3x3 outputs, 18 taps each.
        assert_eq!(super::rows_with(&g, 4), 27 * 5);
        assert_eq!(super::rows_with(&g, 1), 27 * 18);
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
                assert_eq!(super::rows_with(g, lanes), by_taps, "{g:?}, {lanes} lanes");
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
        assert_copy_failure(result, 0, dot_start(&g, 4, o));
    }
}
