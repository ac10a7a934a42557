//! Test kit (feature `test-utils`): builders of small quantized graphs, shared by the tests
//! of the runtime, the circuits, the prover and the CLI so none keeps a private copy.
//! Builders only: nothing here checks a graph (that is [`QGraph::validate`]'s job).

use crate::qgraph::{QGraph, QNode, QOp, QTensor};

/// A tensor of `shape` at `scale`, bounded by `bound`.
pub fn qtensor(shape: &[usize], scale: u32, bound: u64) -> QTensor {
    QTensor {
        shape: shape.to_vec(),
        scale,
        bound,
    }
}

/// A `[1, numel]` tensor at scale 4, bounded by `bound`.
pub fn tensor(numel: usize, bound: u64) -> QTensor {
    qtensor(&[1, numel], 4, bound)
}

/// A node reading the tensors `inputs`.
pub fn node(name: &str, op: QOp, inputs: &[usize], out: QTensor) -> QNode {
    QNode {
        name: name.to_string(),
        op,
        inputs: inputs.to_vec(),
        out,
        structural: false,
    }
}

/// A graph on `input` whose output is its last tensor (the input when `nodes` is empty).
pub fn graph(input: QTensor, nodes: Vec<QNode>) -> QGraph {
    QGraph {
        input_name: "input".to_string(),
        input,
        output: nodes.len(),
        nodes,
        output_name: "output".to_string(),
        source_sha256: String::new(),
        weights_sha256: String::new(),
        tables: Vec::new(),
        max_lanes: None,
        input_parts: Vec::new(),
        output_parts: Vec::new(),
        no_input: false,
        input_kinds: Vec::new(),
        input_visibility: Default::default(),
        input_part_visibility: Vec::new(),
        output_visibility: Default::default(),
        param_visibility: Default::default(),
    }
}

/// A graph with one op, named `op`, on an input of `n` values in `[-in_bound, in_bound]`;
/// its `operands` operands are all the input.
pub fn single_op(
    op: QOp,
    n: usize,
    in_bound: u64,
    out_numel: usize,
    out_bound: u64,
    operands: usize,
) -> QGraph {
    let op_node = node("op", op, &vec![0; operands], tensor(out_numel, out_bound));
    graph(tensor(n, in_bound), vec![op_node])
}

/// Two Select nodes `a` (the first `a_len` input values) and `b` (the next `b_len`), all
/// bounded by `bound`: they take no rows, so an op on tensors 1 and 2 starts at row 0.
pub fn split(a_len: usize, b_len: usize, bound: u64) -> Vec<QNode> {
    let part = |name: &str, index: Vec<usize>| {
        let out = tensor(index.len(), bound);
        node(name, QOp::Select { index }, &[0], out)
    };
    vec![
        part("a", (0..a_len).collect()),
        part("b", (a_len..a_len + b_len).collect()),
    ]
}

/// A graph whose input (`a_len + b_len` values in `[-in_bound, in_bound]`) is [`split`] into
/// `a` and `b`, then `op` on `(a, b)`: the op is node 2 and starts at row 0.
pub fn two_operands(
    op: QOp,
    a_len: usize,
    b_len: usize,
    in_bound: u64,
    out_numel: usize,
    out_bound: u64,
) -> QGraph {
    let mut nodes = split(a_len, b_len, in_bound);
    nodes.push(node("op", op, &[1, 2], tensor(out_numel, out_bound)));
    graph(tensor(a_len + b_len, in_bound), nodes)
}
