//! Conformance of the linear-family ops (Conv, MatMul, Mul, MulConst, Select) on
//! hand-built integer graphs: the reference semantics, the candle runtime and the circuit
//! agree bit for bit on random inputs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use halo2_proofs::halo2curves::bn256::Bn256;
use halo2_proofs::plonk::keygen_vk;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zkinfer_circuits::testing::assert_conforms;
use zkinfer_circuits::{plan, ModelCircuit};
use zkinfer_ir::geometry::ConvGeom;
use zkinfer_ir::testkit::{graph, node, split, tensor};
use zkinfer_ir::{QGraph, QNode, QOp};

// Hand-built integer graphs with random shapes, weights and inputs, and exact static bounds.

/// Runs one hand-built graph through the reference semantics, the runtime and the circuit.
fn check_integer(name: &str, q: QGraph, input: Vec<i64>, seed: u64) {
    assert_conforms(&format!("{name}, seed {seed}"), q.clone(), &input, seed);
    if seed == 0 {
        let reference = q.eval(&input).unwrap();
        let params = plan(&q).unwrap().params;
        let q = Arc::new(q);
        let circuit = ModelCircuit::with_trace(q.clone(), params.clone(), Arc::new(reference));
        // Key generation sees no witness: it must lay out the same fixed cells.
        let srs = ParamsKZG::<Bn256>::setup(params.k, ChaCha8Rng::seed_from_u64(seed));
        let keygen = ModelCircuit::keygen(q, params);
        let vk = keygen_vk(&srs, &keygen).unwrap();
        let vk_traced = keygen_vk(&srs, &circuit).unwrap();
        assert_eq!(vk.transcript_repr(), vk_traced.transcript_repr(), "{name}");
    }
}

fn qnode(name: &str, op: QOp, inputs: Vec<usize>, numel: usize, bound: u64) -> QNode {
    node(name, op, &inputs, tensor(numel, bound))
}

fn qgraph(n: usize, bound: u64, nodes: Vec<QNode>) -> QGraph {
    graph(tensor(n, bound), nodes)
}

fn ints(rng: &mut ChaCha8Rng, n: usize, bound: i64) -> Vec<i64> {
    (0..n).map(|_| rng.gen_range(-bound..=bound)).collect()
}

fn random_geom(rng: &mut ChaCha8Rng) -> ConvGeom {
    loop {
        let groups = rng.gen_range(1..4);
        let g = ConvGeom {
            in_channels: groups * rng.gen_range(1..3),
            in_h: rng.gen_range(2..8),
            in_w: rng.gen_range(2..8),
            out_channels: groups * rng.gen_range(1..3),
            kernel: [rng.gen_range(1..4), rng.gen_range(1..4)],
            stride: [rng.gen_range(1..4), rng.gen_range(1..4)],
            pads: [
                rng.gen_range(0..3),
                rng.gen_range(0..3),
                rng.gen_range(0..3),
                rng.gen_range(0..3),
            ],
            dilation: [rng.gen_range(1..3), rng.gen_range(1..3)],
            groups,
        };
        if g.is_valid() {
            return g;
        }
    }
}

fn conv_case(seed: u64) -> (QGraph, Vec<i64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(2000 + seed);
    let geom = random_geom(&mut rng);
    let weight = ints(&mut rng, geom.weight_len(), 30);
    let bias = ints(&mut rng, geom.out_channels, 500);
    let per_channel = geom.weight_len() / geom.out_channels;
    let bound = weight
        .chunks(per_channel)
        .zip(&bias)
        .map(|(w, b)| w.iter().map(|v| v.unsigned_abs()).sum::<u64>() * 100 + b.unsigned_abs())
        .max()
        .unwrap();
    let (n, out) = (geom.in_numel(), geom.out_numel());
    let op = QOp::Conv { weight, bias, geom };
    let input = ints(&mut rng, n, 100);
    (
        qgraph(n, 100, vec![qnode("conv", op, vec![0], out, bound)]),
        input,
    )
}

fn matmul_case(seed: u64) -> (QGraph, Vec<i64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(3000 + seed);
    let (batch, m, k, n) = (
        rng.gen_range(1..4),
        rng.gen_range(1..5),
        rng.gen_range(0..10),
        rng.gen_range(1..5),
    );
    let (a, b) = (batch * m * k, batch * k * n);
    let mut nodes = split(a, b, 100);
    let op = QOp::MatMul { batch, m, k, n };
    nodes.push(qnode(
        "matmul",
        op,
        vec![1, 2],
        batch * m * n,
        10_000 * k as u64,
    ));
    let input = ints(&mut rng, a + b, 100);
    (qgraph(a + b, 100, nodes), input)
}

fn mul_case(seed: u64) -> (QGraph, Vec<i64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(4000 + seed);
    let len = rng.gen_range(1..20);
    let mut nodes = split(len, len, 1000);
    nodes.push(qnode("mul", QOp::Mul, vec![1, 2], len, 1_000_000));
    let input = ints(&mut rng, 2 * len, 1000);
    (qgraph(2 * len, 1000, nodes), input)
}

fn mul_const_case(seed: u64) -> (QGraph, Vec<i64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(5000 + seed);
    let len = rng.gen_range(1..20);
    let factor = ints(&mut rng, len, 64);
    let op = QOp::MulConst { factor };
    let input = ints(&mut rng, len, 1000);
    (
        qgraph(
            len,
            1000,
            vec![qnode("mul_const", op, vec![0], len, 64_000)],
        ),
        input,
    )
}

/// `x -> y = f·x`, then two Selects over `(y, x)` and `(x, y)` feeding a Mul.
fn select_case(seed: u64) -> (QGraph, Vec<i64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(6000 + seed);
    let len = rng.gen_range(1..12);
    let out = rng.gen_range(1..24);
    let factor = ints(&mut rng, len, 8);
    let mut index = || {
        (0..out)
            .map(|_| rng.gen_range(0..2 * len))
            .collect::<Vec<_>>()
    };
    let (left, right) = (index(), index());
    let nodes = vec![
        qnode("scale", QOp::MulConst { factor }, vec![0], len, 800),
        qnode("left", QOp::Select { index: left }, vec![1, 0], out, 800),
        qnode("right", QOp::Select { index: right }, vec![0, 1], out, 800),
        qnode("mul", QOp::Mul, vec![2, 3], out, 640_000),
    ];
    let input = ints(&mut rng, len, 100);
    (qgraph(len, 100, nodes), input)
}

macro_rules! conformance_integer {
    ($($name:ident: $case:expr;)*) => {
        $(#[test] fn $name() {
            for seed in 0..8 {
                let (q, input) = $case(seed);
                check_integer(stringify!($name), q, input, seed);
            }
        })*
    };
}

conformance_integer! {
    conv: conv_case;
    matmul: matmul_case;
    mul: mul_case;
    mul_const: mul_const_case;
    select: select_case;
}
