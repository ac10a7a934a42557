//! Conformance: `zkinfer_runtime::run` against the reference `QGraph::eval`, bit for bit,
//! for Conv, MatMul, Mul, MulConst, Max, Div, Lookup and Select, on every available device
//! (the elementwise ops and `Check`: `conformance_element.rs`).
#![allow(clippy::unwrap_used, clippy::panic)]

#[macro_use]
mod common;

use common::*;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use zkinfer_ir::geometry::ConvGeom;
use zkinfer_ir::{EvalError, QGraph, QOp};
use zkinfer_runtime::Device;

// ---- Conv ----------------------------------------------------------------------------

/// `(in_channels, in_h, in_w, out_channels)`, `(kernel, stride, pads, dilation)`, groups.
fn geom(
    (in_channels, in_h, in_w, out_channels): (usize, usize, usize, usize),
    (kernel, stride, pads, dilation): ([usize; 2], [usize; 2], [usize; 4], [usize; 2]),
    groups: usize,
) -> ConvGeom {
    ConvGeom {
        in_channels,
        in_h,
        in_w,
        out_channels,
        kernel,
        stride,
        pads,
        dilation,
        groups,
    }
}

/// A single convolution on a `[C, H, W]` input; asserts which side of 2^53 its worst
/// case lies on.
fn conv_graph(
    rng: &mut ChaCha8Rng,
    geom: ConvGeom,
    in_bound: u64,
    (w_bound, b_bound): (u64, u64),
    f64_exact: bool,
) -> QGraph {
    let input = qtensor(&[geom.in_channels, geom.in_h, geom.in_w], 8, in_bound);
    let n = conv_node(rng, "conv", (0, &input), geom, (w_bound, b_bound));
    assert_eq!(n.out.bound < 1 << 53, f64_exact, "bound {}", n.out.bound);
    graph(input, vec![n])
}

conformance_test!(conv_f64_plain, |r: &mut _| {
    let g = geom((2, 6, 6, 3), ([3, 3], [1, 1], [0; 4], [1, 1]), 1);
    conv_graph(r, g, 1000, (1 << 8, 1 << 12), true)
});

conformance_test!(conv_f64_same_padding_stride_2, |r: &mut _| {
    let g = geom((3, 7, 8, 4), ([3, 3], [2, 2], [1; 4], [1, 1]), 1);
    conv_graph(r, g, 1 << 12, (1 << 10, 1 << 16), true)
});

conformance_test!(
    conv_f64_asymmetric_pads_and_unequal_stride_dilation,
    |r: &mut _| {
        let g = geom((2, 9, 8, 3), ([3, 2], [1, 2], [2, 0, 1, 3], [2, 1]), 1);
        conv_graph(r, g, 1 << 10, (1 << 10, 1 << 14), true)
    }
);

conformance_test!(conv_f64_depthwise, |r: &mut _| {
    let g = geom((4, 6, 5, 4), ([3, 3], [1, 1], [1; 4], [1, 1]), 4);
    conv_graph(r, g, 1 << 16, (1 << 12, 1 << 20), true)
});

conformance_test!(conv_f64_groups_dilation_stride, |r: &mut _| {
    // Groups of 3 input channels feeding 2 output channels, dilation 2, stride (2, 1).
    let g = geom((6, 9, 9, 4), ([2, 3], [2, 1], [0, 1, 1, 0], [2, 2]), 2);
    conv_graph(r, g, 1 << 8, (1 << 8, 1 << 12), true)
});

conformance_test!(conv_f64_kernel_wider_than_the_input, |r: &mut _| {
    // Most taps of every output fall in the padding.
    let g = geom((1, 2, 3, 2), ([4, 5], [1, 1], [2, 2, 1, 1], [1, 1]), 1);
    conv_graph(r, g, 1 << 8, (1 << 8, 1 << 12), true)
});

conformance_test!(conv_f64_near_2_pow_53, |r: &mut _| {
    // 2 * 3 * 3 = 18 taps of 2^24 * 2^24: at most 18 * 2^48 + 2^40 < 2^53.
    let g = geom((2, 5, 5, 2), ([3, 3], [1, 1], [1; 4], [1, 1]), 1);
    conv_graph(r, g, 1 << 24, (1 << 24, 1 << 40), true)
});

conformance_test!(conv_i64_beyond_2_pow_53, |r: &mut _| {
    // 18 taps of 2^28 * 2^28 is about 2^60: over 2^53, inside i64.
    let g = geom((2, 6, 5, 3), ([3, 3], [2, 1], [1, 0, 1, 2], [1, 1]), 1);
    conv_graph(r, g, 1 << 28, (1 << 28, 1 << 40), false)
});

conformance_test!(conv_i64_groups_dilation_near_i64_max, |r: &mut _| {
    // 2 * 2 * 2 = 8 taps of 2^29 * 2^29, plus a 2^61 bias: at most 2^61 + 2^61 < 2^63.
    let g = geom((4, 7, 6, 2), ([2, 2], [1, 2], [1, 2, 0, 1], [3, 1]), 2);
    conv_graph(r, g, 1 << 29, (1 << 29, 1 << 61), false)
});

conformance_test!(conv_rescale_relu_maxpool, |r: &mut _| {
    // A CNN block: conv, rescale, relu, then a 2x2 max pool as a window gather and a max.
    let input = qtensor(&[3, 8, 8], 8, 1 << 8);
    let g = geom((3, 8, 8, 4), ([3, 3], [1, 1], [1; 4], [1, 1]), 1);
    let conv = conv_node(r, "conv", (0, &input), g, (1 << 8, 1 << 16));
    let rs = rescale_node("conv.rescale", (1, &conv.out), 8);
    let relu = node("relu", QOp::Relu, &[2], rs.out.clone());
    let (c, h, w) = (4, 8, 8);
    let mut index = Vec::new();
    for ch in 0..c {
        for py in 0..h / 2 {
            for px in 0..w / 2 {
                for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    index.push((ch * h + 2 * py + dy) * w + 2 * px + dx);
                }
            }
        }
    }
    let windows = qtensor(&[c, h / 2, w / 2, 4], relu.out.scale, relu.out.bound);
    let gather = node("pool.windows", QOp::Select { index }, &[3], windows);
    let pooled = qtensor(&[c, h / 2, w / 2], relu.out.scale, relu.out.bound);
    let pool = node("pool", QOp::Max { group: 4 }, &[4], pooled);
    graph(input, vec![conv, rs, relu, gather, pool])
});

// ---- MatMul ------------------------------------------------------------------------------

/// `a [batch, m, k]` and `b [batch, k, n]` cut from one input (bounds `a_bound`, `b_bound`
/// via a scaling `MulConst` on `b`), then their product; asserts which side of 2^53 the
/// worst case lies on.
fn matmul_graph(
    (batch, m, k, n): (usize, usize, usize, usize),
    a_bound: u64,
    b_factor: i64,
    f64_exact: bool,
) -> QGraph {
    let (len_a, len_b) = (batch * m * k, batch * k * n);
    let input = qtensor(&[len_a + len_b], 8, a_bound);
    let a = slice_node("a", (0, &input), 0, &[batch, m, k]);
    let b_raw = slice_node("b.raw", (0, &input), len_a, &[batch, k, n]);
    let b_bound = a_bound * b_factor.unsigned_abs();
    let b = node(
        "b",
        QOp::MulConst {
            factor: vec![b_factor; len_b],
        },
        &[2],
        qtensor(&[batch, k, n], 8, b_bound),
    );
    let worst = u128::from(a_bound) * u128::from(b_bound) * k as u128;
    assert_eq!(worst < 1 << 53, f64_exact, "worst case {worst}");
    let out = qtensor(&[batch, m, n], 16, u64::try_from(worst).unwrap());
    let mm = node("matmul", QOp::MatMul { batch, m, k, n }, &[1, 3], out);
    graph(input, vec![a, b_raw, b, mm])
}

conformance_test!(matmul_f64_batched, |_: &mut _| {
    matmul_graph((3, 4, 5, 2), 1 << 10, -3, true)
});

conformance_test!(matmul_f64_single_column, |_: &mut _| {
    matmul_graph((1, 6, 3, 1), 1 << 12, 5, true)
});

conformance_test!(matmul_f64_near_2_pow_53, |_: &mut _| {
    // 7 * 2^25 * 2^25 = 7 * 2^50 < 2^53.
    matmul_graph((2, 3, 7, 4), 1 << 25, 1, true)
});

conformance_test!(matmul_i64_beyond_2_pow_53, |_: &mut _| {
    // 8 * 2^26 * 2^28 = 2^57.
    matmul_graph((2, 3, 8, 4), 1 << 26, -4, false)
});

conformance_test!(matmul_i64_near_i64_max, |_: &mut _| {
    // 3 * 2^30 * 2^31 = 2^62 + 2^61 < 2^63.
    matmul_graph((2, 2, 3, 4), 1 << 30, -2, false)
});

conformance_test!(matmul_attention_scores, |_: &mut _| {
    // Q K^T: K is transposed by a Select, then Q [1, 4, 6] x K^T [1, 6, 5].
    let (m, d, n) = (4, 6, 5);
    let input = qtensor(&[m * d + n * d], 8, 1 << 12);
    let q = slice_node("q", (0, &input), 0, &[1, m, d]);
    let index = (0..d)
        .flat_map(|t| (0..n).map(move |j| m * d + j * d + t))
        .collect();
    let kt = node(
        "k.t",
        QOp::Select { index },
        &[0],
        qtensor(&[1, d, n], 8, 1 << 12),
    );
    let out = qtensor(&[1, m, n], 16, d as u64 * (1 << 24));
    let mm = node(
        "scores",
        QOp::MatMul {
            batch: 1,
            m,
            k: d,
            n,
        },
        &[1, 2],
        out,
    );
    graph(input, vec![q, kt, mm])
});

// ---- Mul, MulConst -------------------------------------------------------------------------

/// `a * b` where `a` and `b` are the two halves of one input.
fn mul_graph(n: usize, bound: u64) -> QGraph {
    let input = qtensor(&[2, n], 8, bound);
    let a = slice_node("a", (0, &input), 0, &[n]);
    let b = slice_node("b", (0, &input), n, &[n]);
    let out = qtensor(&[n], 16, bound * bound);
    graph(input, vec![a, b, node("mul", QOp::Mul, &[1, 2], out)])
}

conformance_test!(mul_small, |_: &mut _| mul_graph(24, 1 << 12));

conformance_test!(mul_near_i64_max, |_: &mut _| mul_graph(
    16,
    (1 << 31) + 12345
));

conformance_test!(mul_square, |_: &mut _| {
    let input = qtensor(&[3, 5], 8, 1 << 20);
    let out = qtensor(&[3, 5], 16, 1 << 40);
    graph(input, vec![node("square", QOp::Mul, &[0, 0], out)])
});

fn mul_const_graph(rng: &mut ChaCha8Rng, bound: u64, f_bound: u64) -> QGraph {
    let input = qtensor(&[4, 6], 8, bound);
    let factor = random_vec(rng, 24, f_bound);
    let f_max = factor.iter().map(|f| f.unsigned_abs()).max().unwrap();
    let out = qtensor(&[4, 6], 16, bound * f_max);
    graph(
        input,
        vec![node("scale", QOp::MulConst { factor }, &[0], out)],
    )
}

conformance_test!(mul_const_small, |r: &mut _| mul_const_graph(
    r,
    1 << 10,
    1 << 8
));

conformance_test!(mul_const_large, |r: &mut _| mul_const_graph(
    r,
    1 << 40,
    1 << 22
));

// ---- Max ---------------------------------------------------------------------------------

fn max_graph(shape: &[usize], group: usize, bound: u64) -> QGraph {
    let input = qtensor(shape, 8, bound);
    let n = input.numel();
    let out = qtensor(&[n / group], 8, bound);
    graph(input, vec![node("max", QOp::Max { group }, &[0], out)])
}

conformance_test!(max_groups_of_4, |_: &mut _| max_graph(&[6, 8], 4, 1 << 20));

conformance_test!(max_group_of_1, |_: &mut _| max_graph(&[10], 1, 1000));

conformance_test!(max_whole_tensor_full_i64, |_: &mut _| {
    // Bound 2^63: the whole i64 range, i64::MIN included.
    max_graph(&[3, 7], 21, 1 << 63)
});

conformance_test!(max_groups_of_5_of_negatives, |_: &mut _| {
    // Relu then negate: every value is at most 0.
    let input = qtensor(&[20], 8, 1 << 30);
    let relu = node("relu", QOp::Relu, &[0], input.clone());
    let neg = node(
        "neg",
        QOp::Add {
            coef_a: -1,
            coef_b: 0,
            constant: Vec::new(),
        },
        &[1],
        input.clone(),
    );
    let out = qtensor(&[4], 8, 1 << 30);
    graph(
        input,
        vec![relu, neg, node("max", QOp::Max { group: 5 }, &[2], out)],
    )
});

// ---- Div ---------------------------------------------------------------------------------

/// `a / b` with `a` the first half of the input (any sign) and `b = relu(second half) + 1`.
fn div_graph(n: usize, bound: u64, shift: u32) -> QGraph {
    let input = qtensor(&[2, n], 8, bound);
    let a = slice_node("a", (0, &input), 0, &[n]);
    let b_raw = slice_node("b.raw", (0, &input), n, &[n]);
    let relu = node("b.relu", QOp::Relu, &[2], b_raw.out.clone());
    let b = node(
        "b",
        QOp::Add {
            coef_a: 1,
            coef_b: 0,
            constant: vec![1; n],
        },
        &[3],
        qtensor(&[n], 8, bound + 1),
    );
    let out = qtensor(&[n], shift, (bound << shift) + 1);
    let div = node("div", QOp::Div { shift }, &[1, 4], out);
    graph(input, vec![a, b_raw, relu, b, div])
}

/// Small numerators of both signs over small divisors: every rounding case.
fn div_rounding_inputs(graph: &QGraph) -> Vec<Vec<i64>> {
    let n = graph.input.shape[1];
    let bound = i64::try_from(graph.input.bound).unwrap().min(9);
    let pairs: Vec<(i64, i64)> = (-bound..=bound)
        .flat_map(|a| (0..=bound).map(move |d| (a, d)))
        .collect();
    pairs
        .chunks(n)
        .map(|c| {
            let mut v = vec![0; 2 * n];
            for (i, &(a, d)) in c.iter().enumerate() {
                v[i] = a;
                v[n + i] = d;
            }
            v
        })
        .collect()
}

conformance_test!(
    div_shift_0,
    |_: &mut _| div_graph(16, 1000, 0),
    div_rounding_inputs
);

conformance_test!(
    div_shift_1,
    |_: &mut _| div_graph(16, 1000, 1),
    div_rounding_inputs
);

conformance_test!(
    div_shift_12,
    |_: &mut _| div_graph(16, 1 << 20, 12),
    div_rounding_inputs
);

conformance_test!(
    div_near_i64_max,
    |_: &mut _| {
        // 2^30 * 2^32 + 2^30 + 1 < 2^63.
        div_graph(8, 1 << 30, 31)
    },
    div_rounding_inputs
);

// ---- Lookup ------------------------------------------------------------------------------

/// A lookup whose table covers exactly `[-bound, bound]`.
fn lookup_graph(rng: &mut ChaCha8Rng, shape: &[usize], bound: u64) -> QGraph {
    let input = qtensor(shape, 8, bound);
    let lo = -i64::try_from(bound).unwrap();
    let table = random_table(rng, "exp", lo, 2 * bound as usize + 1, 1 << 16);
    let out = qtensor(shape, 12, table.max_abs());
    let mut g = graph(
        input,
        vec![node("exp", QOp::Lookup { table: 0 }, &[0], out)],
    );
    g.tables = vec![table];
    g
}

/// Every argument of the domain, in order.
fn whole_domain(graph: &QGraph) -> Vec<Vec<i64>> {
    let n = graph.input.numel();
    let t = &graph.tables[0];
    let args: Vec<i64> = (t.lo..=t.hi()).collect();
    args.chunks(n)
        .map(|c| {
            let mut v = c.to_vec();
            v.resize(n, t.lo);
            v
        })
        .collect()
}

conformance_test!(
    lookup_small_domain,
    |r: &mut _| lookup_graph(r, &[4, 5], 40),
    whole_domain
);

conformance_test!(lookup_wide_domain, |r: &mut _| lookup_graph(
    r,
    &[64],
    1 << 12
));

conformance_test!(lookup_two_tables_after_rescale, |r: &mut _| {
    // Rescale into the domain of `exp`, then `exp` and `recip` on the same argument, then
    // `exp` again on `recip`'s values through a shared table.
    let input = qtensor(&[3, 6], 12, 1 << 16);
    let rs = rescale_node("rescale", (0, &input), 8);
    let b = i64::try_from(rs.out.bound).unwrap();
    let len = 2 * rs.out.bound as usize + 1;
    let exp = random_table(r, "exp", -b, len, 1 << 20);
    let recip = random_table(r, "recip", -b, len, u64::try_from(b).unwrap());
    let e = node(
        "exp",
        QOp::Lookup { table: 0 },
        &[1],
        qtensor(&[3, 6], 12, exp.max_abs()),
    );
    let rc = node(
        "recip",
        QOp::Lookup { table: 1 },
        &[1],
        qtensor(&[3, 6], 8, recip.max_abs()),
    );
    let e2 = node(
        "exp2",
        QOp::Lookup { table: 0 },
        &[3],
        qtensor(&[3, 6], 12, exp.max_abs()),
    );
    let mut g = graph(input, vec![rs, e, rc, e2]);
    g.tables = vec![exp, recip];
    g
});

/// The input reaches ±100, the table covers [-30, 50] only.
fn narrow_lookup_graph(rng: &mut ChaCha8Rng) -> QGraph {
    let input = qtensor(&[8], 8, 100);
    let table = random_table(rng, "gelu", -30, 81, 1 << 12);
    let out = qtensor(&[8], 12, table.max_abs());
    let mut g = graph(
        input,
        vec![node("block.gelu", QOp::Lookup { table: 0 }, &[0], out)],
    );
    g.tables = vec![table];
    g
}

rejection_test!(
    lookup_out_of_domain_names_the_node_and_table,
    narrow_lookup_graph,
    |_: &QGraph| vec![
        vec![-30, 50, 0, 1, -1, 17, -29, 49],
        vec![-30; 8],
        vec![50; 8],
    ],
    |_: &QGraph| vec![
        vec![0, 0, 0, -31, 0, 0, 0, 0],
        vec![0, 51, 0, 0, 0, 0, 0, -100],
        vec![100, -100, 0, 0, 0, 0, 0, 0],
        vec![-30, 50, 0, 0, 0, 0, 0, 100],
    ]
);

#[test]
fn lookup_out_of_domain_reports_the_first_bad_argument() {
    let g = narrow_lookup_graph(&mut rng(1));
    let err = assert_same_error(&g, &[0, 51, 0, -99, 0, 0, 0, 0], "block.gelu", &Device::Cpu);
    assert_eq!(
        err,
        EvalError::OutOfDomain {
            node: "block.gelu".to_string(),
            index: 1,
            value: 51,
            lo: -30,
            hi: 50,
            scale: 8,
            table: "gelu".to_string(),
        }
    );
    assert!(err.to_string().contains("gelu table"), "{err}");
}

// ---- Select ------------------------------------------------------------------------------

conformance_test!(
    select_from_three_operands_with_repeats,
    |r: &mut ChaCha8Rng| {
        let input = qtensor(&[2, 5], 8, 1 << 40);
        let relu = node("relu", QOp::Relu, &[0], input.clone());
        let neg = node(
            "neg",
            QOp::Add {
                coef_a: -1,
                coef_b: 0,
                constant: vec![7; 10],
            },
            &[0],
            qtensor(&[2, 5], 8, (1 << 40) + 7),
        );
        // Inputs of 10, 10 and 10 values; 40 picks, repeats included.
        let index: Vec<usize> = (0..40).map(|_| r.gen_range(0..30)).collect();
        let out = qtensor(&[5, 8], 8, (1 << 40) + 7);
        graph(
            input,
            vec![
                relu,
                neg,
                node("pick", QOp::Select { index }, &[1, 0, 2], out),
            ],
        )
    }
);

conformance_test!(select_identity_and_reverse, |_: &mut _| {
    let input = qtensor(&[12], 8, 1 << 63);
    let same = node(
        "same",
        QOp::Select {
            index: (0..12).collect(),
        },
        &[0],
        input.clone(),
    );
    let rev = node(
        "rev",
        QOp::Select {
            index: (0..12).rev().collect(),
        },
        &[1],
        input.clone(),
    );
    graph(input, vec![same, rev])
});

// ---- Div rejection -------------------------------------------------------------------------

/// The divisor is the second half of the input as is: it may be 0 or negative.
fn raw_divisor_graph(_: &mut ChaCha8Rng) -> QGraph {
    let input = qtensor(&[2, 4], 8, 1000);
    let a = slice_node("a", (0, &input), 0, &[4]);
    let b = slice_node("b", (0, &input), 4, &[4]);
    let out = qtensor(&[4], 4, (1000 << 4) + 1);
    graph(
        input,
        vec![a, b, node("attn.div", QOp::Div { shift: 4 }, &[1, 2], out)],
    )
}

rejection_test!(
    div_by_a_non_positive_divisor_names_the_node,
    raw_divisor_graph,
    |_: &QGraph| vec![
        vec![-1000, -7, 7, 1000, 1, 2, 3, 1000],
        vec![-5, -3, 0, 999, 3, 5, 7, 1],
    ],
    |_: &QGraph| vec![
        vec![-1000, -7, 7, 1000, 0, 2, 3, 1000],
        vec![-1000, -7, 7, 1000, 1, 2, 3, -1],
        vec![1, 2, 3, 4, 5, -1000, 0, 1],
        vec![0; 8],
    ]
);

#[test]
fn div_error_reports_the_first_bad_divisor() {
    let g = raw_divisor_graph(&mut rng(1));
    let err = assert_same_error(&g, &[1, 2, 3, 4, 5, -1000, 0, 1], "attn.div", &Device::Cpu);
    assert_eq!(
        err,
        EvalError::Divisor {
            node: "attn.div".to_string(),
            index: 1,
            value: -1000,
        }
    );
}
