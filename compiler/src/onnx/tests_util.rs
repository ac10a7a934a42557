//! Helpers shared by the op tests: build a one-input model, import it, evaluate it.
#![allow(clippy::unwrap_used, clippy::panic)]

use super::encode::{graph, model, value_info_fixed, value_info_unshaped};
use super::proto::{NodeProto, OperatorSetIdProto, TensorProto};
use super::{import_bytes, ImportError};
use crate::graph::Graph;

/// Model bytes with input `x` of shape `in_dims`, output `y` (shape not declared), `opset`.
pub(super) fn model_with_opset(
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
    in_dims: &[usize],
    opset: i64,
) -> Vec<u8> {
    let mut m = model(graph(
        nodes,
        inits,
        value_info_fixed("x", in_dims),
        value_info_unshaped("y"),
    ));
    m.opset_import = vec![OperatorSetIdProto {
        domain: String::new(),
        version: opset,
    }];
    prost::Message::encode_to_vec(&m)
}

/// Imports a model with input `x` of shape `in_dims` and output `y` (opset 17).
pub(super) fn import(nodes: Vec<NodeProto>, inits: Vec<TensorProto>, in_dims: &[usize]) -> Graph {
    import_opset(nodes, inits, in_dims, super::encode::OPSET)
}

/// [`import`] at another opset.
pub(super) fn import_opset(
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
    in_dims: &[usize],
    opset: i64,
) -> Graph {
    let bytes = model_with_opset(nodes, inits, in_dims, opset);
    import_bytes(&bytes).unwrap_or_else(|e| panic!("import failed: {e}"))
}

/// The import error of a model that must not import.
pub(super) fn import_err(
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
    in_dims: &[usize],
) -> ImportError {
    let bytes = model_with_opset(nodes, inits, in_dims, super::encode::OPSET);
    match import_bytes(&bytes) {
        Ok(g) => panic!("import unexpectedly succeeded: {g:?}"),
        Err(e) => e,
    }
}

/// The graph output for input `x`.
pub(super) fn run(g: &Graph, x: &[f64]) -> Vec<f64> {
    assert_eq!(x.len(), g.input_numel(), "input size");
    let values = g.eval_f64(x);
    for (i, n) in g.nodes.iter().enumerate() {
        assert_eq!(
            values[i + 1].len(),
            n.numel(),
            "node {} value vs shape",
            n.name
        );
    }
    values[g.output].clone()
}

/// `0, 1, ..., n - 1` as floats.
pub(super) fn iota(n: usize) -> Vec<f64> {
    (0..n).map(|i| i as f64).collect()
}

/// Asserts elementwise closeness (1e-6 absolute).
pub(super) fn assert_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-6, "{got:?} vs {want:?}");
    }
}

/// Op kinds of the graph's nodes, in order.
pub(super) fn kinds(g: &Graph) -> Vec<&'static str> {
    g.nodes.iter().map(|n| n.op.kind()).collect()
}

/// Output shape of the graph.
pub(super) fn out_shape(g: &Graph) -> Vec<usize> {
    g.shape_of(g.output).to_vec()
}
