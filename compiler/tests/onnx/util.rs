//! Helpers shared by the op tests: build a one-input model, import it, evaluate it.
#![allow(clippy::unwrap_used, clippy::panic)]

use zkinfer_compiler::graph::Graph;
use zkinfer_compiler::onnx::encode::{graph, model, value_info_fixed, value_info_unshaped};
use zkinfer_compiler::onnx::proto::{NodeProto, OperatorSetIdProto, TensorProto};
use zkinfer_compiler::onnx::{import_bytes, ImportError};

/// Model bytes with input `x` of shape `in_dims`, output `y` (shape not declared), `opset`.
pub(crate) fn model_with_opset(
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
pub(crate) fn import(nodes: Vec<NodeProto>, inits: Vec<TensorProto>, in_dims: &[usize]) -> Graph {
    import_opset(nodes, inits, in_dims, zkinfer_compiler::onnx::encode::OPSET)
}

/// [`import`] at another opset.
pub(crate) fn import_opset(
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
    in_dims: &[usize],
    opset: i64,
) -> Graph {
    let bytes = model_with_opset(nodes, inits, in_dims, opset);
    import_bytes(&bytes).unwrap_or_else(|e| panic!("import failed: {e}"))
}

/// The import error of a model that must not import.
pub(crate) fn import_err(
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
    in_dims: &[usize],
) -> ImportError {
    let bytes = model_with_opset(nodes, inits, in_dims, zkinfer_compiler::onnx::encode::OPSET);
    match import_bytes(&bytes) {
        Ok(g) => panic!("import unexpectedly succeeded: {g:?}"),
        Err(e) => e,
    }
}

/// The graph output for input `x`.
pub(crate) fn run(g: &Graph, x: &[f64]) -> Vec<f64> {
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
pub(crate) fn iota(n: usize) -> Vec<f64> {
    (0..n).map(|i| i as f64).collect()
}

/// Asserts elementwise closeness (1e-6 absolute).
pub(crate) fn assert_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-6, "{got:?} vs {want:?}");
    }
}

/// Op kinds of the graph's nodes, in order.
pub(crate) fn kinds(g: &Graph) -> Vec<&'static str> {
    g.nodes.iter().map(|n| n.op.kind()).collect()
}

/// Output shape of the graph.
pub(crate) fn out_shape(g: &Graph) -> Vec<usize> {
    g.shape_of(g.output).to_vec()
}
