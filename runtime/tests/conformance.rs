//! Conformance: `zkinfer_runtime::run` against the reference `QGraph::eval`, bit for bit,
//! for the MLP ops (Linear, Rescale, ReLU, Add, Reshape), on every available device. The
//! convolution, attention, lookup and rewiring ops are in `conformance_ops.rs`.
#![allow(clippy::unwrap_used, clippy::panic)]

#[macro_use]
mod common;

use common::*;
use zkinfer_ir::{QGraph, QOp};
use zkinfer_runtime::Device;

/// A single linear layer; asserts which side of 2^53 its worst case lies on.
fn linear_graph(
    rng: &mut rand_chacha::ChaCha8Rng,
    input: zkinfer_ir::QTensor,
    layer: (usize, u64, u64),
    f64_exact: bool,
) -> QGraph {
    let n = linear_node(rng, "fc", (0, &input), layer);
    assert_eq!(n.out.bound < 1 << 53, f64_exact, "bound {}", n.out.bound);
    graph(input, vec![n])
}

conformance_test!(linear_f64_small, |r: &mut _| {
    linear_graph(r, qtensor(&[3, 5], 4, 1000), (4, 1 << 10, 1 << 14), true)
});

conformance_test!(linear_f64_near_2_pow_53, |r: &mut _| {
    // 7 * 2^24 * 2^26 = 7 * 2^50 < 2^53.
    linear_graph(r, qtensor(&[2, 7], 8, 1 << 26), (5, 1 << 24, 1 << 40), true)
});

conformance_test!(linear_f64_single_row, |r: &mut _| {
    linear_graph(r, qtensor(&[16], 8, 255), (10, 127, 1 << 15), true)
});

conformance_test!(linear_i64_beyond_2_pow_53, |r: &mut _| {
    // 6 * 2^27 * 2^28 + 2^40 is about 2^57.6: over 2^53, inside i64.
    linear_graph(
        r,
        qtensor(&[2, 6], 8, 1 << 28),
        (3, 1 << 27, 1 << 40),
        false,
    )
});

conformance_test!(linear_i64_near_i64_max, |r: &mut _| {
    // 4 * 2^30 * 2^30 + 2^61 = 2^62 + 2^61 < 2^63.
    linear_graph(r, qtensor(&[4], 0, 1 << 30), (3, 1 << 30, 1 << 61), false)
});

fn rescale_graph(bound: u64, shift: u32) -> QGraph {
    let input = qtensor(&[64], 24, bound);
    let n = rescale_node("rescale", (0, &input), shift);
    graph(input, vec![n])
}

fn halfway(graph: &QGraph) -> Vec<Vec<i64>> {
    match graph.nodes.first().map(|n| &n.op) {
        Some(QOp::Rescale { shift }) => halfway_inputs(*shift, graph.input.bound, 64),
        _ => Vec::new(),
    }
}

conformance_test!(
    rescale_f64_shift_1,
    |_: &mut _| rescale_graph(1 << 40, 1),
    halfway
);
conformance_test!(
    rescale_f64_shift_2,
    |_: &mut _| rescale_graph(1 << 40, 2),
    halfway
);
conformance_test!(
    rescale_f64_shift_7,
    |_: &mut _| rescale_graph(1 << 40, 7),
    halfway
);
conformance_test!(
    rescale_f64_shift_20,
    |_: &mut _| rescale_graph(1 << 40, 20),
    halfway
);
conformance_test!(
    rescale_f64_shift_20_at_the_f64_limit,
    |_: &mut _| rescale_graph((1 << 53) - (1 << 19) - 1, 20),
    halfway
);
conformance_test!(
    rescale_f64_small_bound,
    |_: &mut _| rescale_graph(3, 1),
    halfway
);

// Bound 2^63: the whole i64 range, which forces the i64 path.
conformance_test!(
    rescale_i64_shift_1,
    |_: &mut _| rescale_graph(1 << 63, 1),
    halfway
);
conformance_test!(
    rescale_i64_shift_20,
    |_: &mut _| rescale_graph(1 << 63, 20),
    halfway
);
conformance_test!(
    rescale_i64_shift_40,
    |_: &mut _| rescale_graph(1 << 53, 40),
    halfway
);
conformance_test!(
    rescale_i64_shift_62,
    |_: &mut _| rescale_graph(1 << 63, 62),
    halfway
);
conformance_test!(
    rescale_i64_shift_63,
    |_: &mut _| rescale_graph(1 << 63, 63),
    halfway
);

conformance_test!(relu, |_: &mut _| {
    let input = qtensor(&[4, 8], 8, 1 << 20);
    let out = input.clone();
    graph(input, vec![node("relu", QOp::Relu, &[0], out)])
});

conformance_test!(add_with_constant, |r: &mut _| {
    let input = qtensor(&[12], 8, 1 << 20);
    let constant = random_vec(r, 12, 1 << 10);
    let bound = 4 * input.bound + 1024;
    let op = QOp::Add {
        coef_a: 4,
        coef_b: 0,
        constant,
    };
    let out = qtensor(&[12], 10, bound);
    graph(input, vec![node("add", op, &[0], out)])
});

conformance_test!(add_two_tensors, |r: &mut _| {
    let input = qtensor(&[2, 8], 8, 1 << 40);
    let relu = node("relu", QOp::Relu, &[0], input.clone());
    let constant = random_vec(r, 16, 1 << 12);
    let op = QOp::Add {
        coef_a: 2,
        coef_b: -8,
        constant,
    };
    let out = qtensor(&[2, 8], 11, 10 * input.bound + (1 << 12));
    graph(input, vec![relu, node("add", op, &[0, 1], out)])
});

conformance_test!(add_two_tensors_large_i64, |_: &mut _| {
    // 2 * 2^60 + 2^60 + 0 = 3 * 2^60 < 2^63, far beyond 2^53.
    let input = qtensor(&[8], 0, 1 << 60);
    let relu = node("relu", QOp::Relu, &[0], input.clone());
    let op = QOp::Add {
        coef_a: 2,
        coef_b: 1,
        constant: Vec::new(),
    };
    let out = qtensor(&[8], 0, 3 << 60);
    graph(input, vec![relu, node("add", op, &[0, 1], out)])
});

conformance_test!(reshape_then_linear, |r: &mut _| {
    let input = qtensor(&[2, 3, 4], 8, 1 << 12);
    let flat = node("reshape", QOp::Reshape, &[0], qtensor(&[6, 4], 8, 1 << 12));
    let fc = linear_node(r, "fc", (1, &flat.out), (3, 1 << 8, 1 << 16));
    graph(input, vec![flat, fc])
});

conformance_test!(chain_linear_rescale_relu_linear_rescale, |r: &mut _| {
    let input = qtensor(&[2, 8], 8, 1 << 10);
    let fc1 = linear_node(r, "fc1", (0, &input), (6, 1 << 8, 1 << 16));
    let rs1 = rescale_node("fc1.rescale", (1, &fc1.out), 8);
    let relu = node("relu", QOp::Relu, &[2], rs1.out.clone());
    let fc2 = linear_node(r, "fc2", (3, &relu.out), (3, 1 << 8, 1 << 16));
    let rs2 = rescale_node("fc2.rescale", (4, &fc2.out), 8);
    graph(input, vec![fc1, rs1, relu, fc2, rs2])
});
