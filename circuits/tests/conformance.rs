//! Conformance: for every op, the reference semantics, the candle runtime and the circuit
//! agree bit for bit on random inputs. Each case checks reference == runtime on the whole
//! trace, a MockProver pass with the runtime's output as the public output, and a MockProver
//! failure when that output is off by one.
//!
//! Max, Div and Lookup cases build the integer graph directly (random groups, divisors and
//! tables), so every corner is reachable; the quantizer's use of them is covered end to end
//! by the shared-model tests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zkinfer_circuits::circuit_conformance;
use zkinfer_circuits::testing::assert_conforms;
use zkinfer_compiler::graph::{Graph, Node, Op};
use zkinfer_compiler::{quantize, QuantizeConfig};
use zkinfer_ir::input::quantize_values;
use zkinfer_ir::testkit::qtensor;
use zkinfer_ir::{QGraph, QNode, QOp, QTensor, Table};

/// A float graph: `layers` applied to an input of `n` values, seeded weights.
fn graph(n: usize, layers: &[&str], seed: u64) -> Graph {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut nodes = Vec::new();
    let mut width = n;
    for (i, layer) in layers.iter().enumerate() {
        let (op, inputs) = match *layer {
            "linear" => {
                let n_out = rng.gen_range(1..9);
                let op = zkinfer_compiler::testkit::linear(&mut rng, width, n_out, 1.0);
                width = n_out;
                (op, vec![i])
            }
            "relu" => (Op::Relu, vec![i]),
            "add_const" => {
                let constant = (0..width).map(|_| rng.gen_range(-2.0f32..2.0)).collect();
                (Op::AddConst { constant }, vec![i])
            }
            "add" => (Op::Add, vec![i, i]),
            "reshape" => (Op::Reshape, vec![i]),
            other => panic!("unknown layer {other}"),
        };
        nodes.push(Node {
            name: format!("{layer}{i}"),
            op,
            inputs,
            shape: vec![1, width],
            trained: true,
        });
    }
    Graph::chain(vec![1, n], nodes)
}

fn check(layers: &[&str], cases: u64) {
    for seed in 0..cases {
        let mut rng = ChaCha8Rng::seed_from_u64(1000 + seed);
        let n = rng.gen_range(1..20);
        let float = graph(n, layers, seed);
        let config = QuantizeConfig {
            scale: rng.gen_range(4..14),
            weight_scale: rng.gen_range(4..14),
            headroom_bits: 1,
            table_scale: 6,
            ..QuantizeConfig::DEFAULT
        };
        let calib = vec![vec![3.0; n]];
        let q = quantize(&float, &calib, config, "conformance")
            .unwrap()
            .graph;
        let x: Vec<f64> = (0..n).map(|_| rng.gen_range(-3.0..3.0)).collect();
        let input = quantize_values(&x, q.input.scale);
        assert_conforms(&format!("{layers:?}, seed {seed}"), q, &input, seed);
    }
}

fn tensor(numel: usize, bound: u64) -> QTensor {
    qtensor(&[1, numel], 8, bound)
}

/// An integer graph on an input of `n` values bounded by `bound`, with `nodes`.
fn qgraph(n: usize, bound: u64, nodes: Vec<QNode>, tables: Vec<Table>) -> QGraph {
    let mut g = zkinfer_ir::testkit::graph(tensor(n, bound), nodes);
    g.tables = tables;
    g
}

fn node(name: &str, op: QOp, inputs: Vec<usize>, out: QTensor) -> QNode {
    zkinfer_ir::testkit::node(name, op, &inputs, out)
}

fn random_ints(rng: &mut ChaCha8Rng, n: usize, bound: i64) -> Vec<i64> {
    (0..n).map(|_| rng.gen_range(-bound..=bound)).collect()
}

/// Max over random groups of the input.
fn max_graph(rng: &mut ChaCha8Rng) -> (QGraph, Vec<i64>) {
    let groups = rng.gen_range(1..5);
    let group = rng.gen_range(1..7);
    let bound = rng.gen_range(1..1_000_000u64);
    let n = groups * group;
    let op = QOp::Max { group };
    let nodes = vec![node("max", op, vec![0], tensor(groups, bound))];
    let input = random_ints(rng, n, bound as i64);
    (qgraph(n, bound, nodes, Vec::new()), input)
}

/// `Div(a, b)` where two linear layers split the input into `a` and `b = x + A + 1 >= 1`.
fn div_graph(rng: &mut ChaCha8Rng) -> (QGraph, Vec<i64>) {
    let n = rng.gen_range(1..8);
    let a_bound = rng.gen_range(1..100_000i64);
    let shift = rng.gen_range(0..12);
    let pick = |offset: usize| {
        (0..n)
            .flat_map(|j| (0..2 * n).map(move |i| i64::from(i == offset + j)))
            .collect::<Vec<_>>()
    };
    let half = |offset: usize, bias: i64| QOp::Linear {
        weight: pick(offset),
        bias: vec![bias; n],
        n_in: 2 * n,
        n_out: n,
    };
    let b_bound = 2 * a_bound as u64 + 1;
    let nodes = vec![
        node("a", half(0, 0), vec![0], tensor(n, a_bound as u64)),
        node("b", half(n, a_bound + 1), vec![0], tensor(n, b_bound)),
        node(
            "div",
            QOp::Div { shift },
            vec![1, 2],
            tensor(n, (a_bound as u64) << shift),
        ),
    ];
    let input = random_ints(rng, 2 * n, a_bound);
    (qgraph(2 * n, a_bound as u64, nodes, Vec::new()), input)
}

/// Two lookups through random tables: the first covers the input, the second the
/// first's values.
fn lookup_graph(rng: &mut ChaCha8Rng) -> (QGraph, Vec<i64>) {
    let n = rng.gen_range(1..20);
    let bound = rng.gen_range(1..200i64);
    let first = Table {
        name: "first".into(),
        in_scale: 8,
        out_scale: 8,
        lo: -bound - rng.gen_range(0..5),
        values: (0..2 * bound + 6)
            .map(|_| rng.gen_range(-50..=50))
            .collect(),
    };
    let second = Table {
        name: "second".into(),
        in_scale: 8,
        out_scale: 8,
        lo: -50,
        values: (0..101).map(|_| rng.gen_range(-5000..=5000)).collect(),
    };
    let nodes = vec![
        node(
            "first",
            QOp::Lookup { table: 1 },
            vec![0],
            tensor(n, first.max_abs()),
        ),
        node(
            "second",
            QOp::Lookup { table: 0 },
            vec![1],
            tensor(n, second.max_abs()),
        ),
    ];
    let input = random_ints(rng, n, bound);
    (qgraph(n, bound as u64, nodes, vec![second, first]), input)
}

/// `|x|` of a random mix of signs (zero and both bounds included).
fn abs_graph(rng: &mut ChaCha8Rng) -> (QGraph, Vec<i64>) {
    let n = 12;
    let bound = rng.gen_range(1..=1 << 20);
    let op = QOp::Elementwise {
        op: zkinfer_ir::ElementOp::Abs,
    };
    let nodes = vec![node("abs", op, vec![0], tensor(n, bound as u64))];
    let mut input = random_ints(rng, n, bound);
    input[..3].copy_from_slice(&[0, bound, -bound]);
    (qgraph(n, bound as u64, nodes, Vec::new()), input)
}

/// `Check [lo, hi]` on values drawn inside the range, both limits included.
fn check_graph(rng: &mut ChaCha8Rng) -> (QGraph, Vec<i64>) {
    let n = 10;
    let bound: i64 = rng.gen_range(1..=1 << 20);
    let lo = rng.gen_range(-bound..=bound);
    let hi = rng.gen_range(lo..=bound);
    let out = lo.unsigned_abs().max(hi.unsigned_abs());
    let nodes = vec![node(
        "check",
        QOp::Check { lo, hi },
        vec![0],
        tensor(n, out),
    )];
    let mut input: Vec<i64> = (0..n).map(|_| rng.gen_range(lo..=hi)).collect();
    input[..2].copy_from_slice(&[lo, hi]);
    (qgraph(n, bound as u64, nodes, Vec::new()), input)
}

circuit_conformance! {
    abs: 6 => abs_graph;
    range_check: 6 => check_graph;
    max: 6 => max_graph;
    div: 6 => div_graph;
    lookup: 6 => lookup_graph;
}

macro_rules! conformance {
    ($($name:ident: $layers:expr;)*) => {
        $(#[test] fn $name() { check(&$layers, 6); })*
    };
}

conformance! {
    linear_and_rescale: ["linear"];
    relu: ["linear", "relu"];
    add_constant: ["add_const"];
    add_tensors: ["linear", "add"];
    reshape: ["linear", "reshape", "relu"];
    mlp: ["linear", "relu", "linear", "relu", "add_const", "linear"];
}
