//! Attacks on what deep models rely on: a value past a calibrated bound (a bound the compiler
//! set from the calibration set, so that bounds do not compound block after block), a wrong
//! embedding row, and a masked attention position given weight. Each makes a real proof of a
//! forged witness that the offline and the Solidity verifier must both reject (and the
//! runtime refuses the out-of-bound input naming the node, the value and the bound).

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::attack::*;
use zkinfer::compiler::onnx::encode::{
    attr_int, float_tensor, graph as onnx_graph, model_bytes, node as onnx_node, value_info_fixed,
    value_info_typed,
};
use zkinfer::compiler::onnx::proto::tensor_proto::DataType;
use zkinfer::ir::semantics::apply;
use zkinfer::ir::testkit::{graph, node, qtensor};
use zkinfer::ir::{EvalError, QGraph, QOp, Trace};
use zkinfer::runtime::RuntimeError;

/// `trace` with node `name`'s output replaced by `values` and every later node recomputed
/// (checks ignored): a prover's consistent forgery downstream of one changed step.
fn forged(graph: &QGraph, trace: &Trace, name: &str, values: Vec<i64>) -> Trace {
    let at = graph
        .nodes
        .iter()
        .position(|n| n.name == name)
        .unwrap_or_else(|| panic!("no node {name}"));
    let mut tensors = trace.tensors.clone();
    tensors[at + 1] = values;
    for (i, n) in graph.nodes.iter().enumerate().skip(at + 1) {
        let operands: Vec<&[i64]> = n.inputs.iter().map(|&t| tensors[t].as_slice()).collect();
        let out = match &n.op {
            QOp::Check { .. } => operands[0].to_vec(),
            op => apply(op, &operands, &graph.tables).unwrap(),
        };
        tensors[i + 1] = out;
    }
    Trace { tensors }
}

/// `Rescale` by 2^4 of two values bounded by 2^16, with the calibrated output bound 100
/// (the operand implies 2^12).
#[test]
fn a_value_past_a_calibrated_bound_is_refused_and_its_forged_proof_rejected() {
    let g = graph(
        qtensor(&[1, 2], 8, 1 << 16),
        vec![node(
            "calibrated",
            QOp::Rescale { shift: 4 },
            &[0],
            qtensor(&[1, 2], 4, 100),
        )],
    );
    assert!(g.has_calibrated_bound(&g.nodes[0]));
    let t = target(g, &[1600, -1600]);
    assert_eq!(t.output(), &[100, -100], "exactly at the bound");
    let (values, advice) = t.honest();
    t.submit(&values, advice).assert_accepted();
    // 2400 / 16 = 150: inside the operand's bound, past the calibrated one.
    let x = [2400, 0];
    match zkinfer::runtime::run(&t.graph, &x, &zkinfer::runtime::cpu()) {
        Err(RuntimeError::Bound(EvalError::CalibratedBoundExceeded {
            node,
            index,
            value,
            bound,
            ..
        })) => assert_eq!(
            (node.as_str(), index, value, bound),
            ("calibrated", 0, 150, 100)
        ),
        other => panic!("expected the calibrated bound to refuse {x:?}, got {other:?}"),
    }
    let trace = unchecked_trace(&t.graph, &x);
    let (values, advice) = t.advice_of(&trace);
    t.submit(&values, advice)
        .assert_rejected("a value past a calibrated bound");
}

/// `Gather(table, ids)`: a 4-row, 3-column embedding read at one INT64 token id.
fn embedding() -> Vec<u8> {
    let table: Vec<f32> = (0..12).map(|i| (i as f32 + 1.0) / 8.0).collect();
    model_bytes(onnx_graph(
        vec![onnx_node(
            "Gather",
            "embed",
            &["table", "ids"],
            &["y"],
            vec![],
        )],
        vec![float_tensor("table", &[4, 3], &table)],
        value_info_typed("ids", &[1], DataType::Int64),
        value_info_fixed("y", &[1, 3]),
    ))
}

#[test]
fn a_wrong_embedding_row_is_rejected() {
    let g = compile_onnx(&embedding(), &[vec![0.0], vec![3.0]]);
    let x = zkinfer::ir::input::quantize_values(&[1.0], g.input.scale);
    let t = target(g, &x);
    let row = |r: usize| -> Vec<i64> {
        (0..3)
            .map(|c| ((r * 3 + c + 1) as i64) << (t.graph.nodes.last().unwrap().out.scale - 3))
            .collect()
    };
    assert_eq!(t.output(), row(1), "row 1");
    let (values, advice) = t.honest();
    t.submit(&values, advice).assert_accepted();
    // The one-hot of id 1 moved to row 2, everything after it recomputed: the output is a
    // genuine table row, just not the one the id selects.
    let hot = t
        .graph
        .nodes
        .iter()
        .find(|n| n.name == "embed/onehot/eq")
        .unwrap();
    let one = t.trace.tensors[t
        .graph
        .nodes
        .iter()
        .position(|n| n.name == hot.name)
        .unwrap()
        + 1]
    .iter()
    .copied()
    .max()
    .unwrap();
    let trace = forged(&t.graph, &t.trace, "embed/onehot/eq", vec![0, 0, one, 0]);
    assert_eq!(trace.get(t.graph.output).unwrap(), row(2).as_slice());
    let (values, advice) = t.advice_of(&trace);
    t.submit(&values, advice)
        .assert_rejected("a wrong embedding row");
}

/// Scores `x` over 3 positions with the last masked by `masked_fill(-inf)`, then Softmax.
fn masked_softmax() -> Vec<u8> {
    model_bytes(onnx_graph(
        vec![
            onnx_node("Where", "mask", &["keep", "x", "neg_inf"], &["s"], vec![]),
            onnx_node(
                "Softmax",
                "softmax",
                &["s"],
                &["y"],
                vec![attr_int("axis", -1)],
            ),
        ],
        vec![
            float_tensor("keep", &[3], &[1.0, 1.0, 0.0]),
            float_tensor("neg_inf", &[], &[f32::NEG_INFINITY]),
        ],
        value_info_fixed("x", &[1, 3]),
        value_info_fixed("y", &[1, 3]),
    ))
}

#[test]
fn a_masked_position_given_weight_is_rejected() {
    let g = compile_onnx(
        &masked_softmax(),
        &[vec![0.5, -1.0, 2.0], vec![-0.5, 1.0, 0.0]],
    );
    let x = zkinfer::ir::input::quantize_values(&[0.25, 0.75, 1.5], g.input.scale);
    let t = target(g, &x);
    let out = t.output().to_vec();
    assert_eq!(out[2], 0, "the masked position has exactly zero weight");
    assert!(out[0] > 0 && out[1] > 0);
    let (values, advice) = t.honest();
    t.submit(&values, advice).assert_accepted();
    // Give the masked position the score it would have unmasked: its exp is no longer 0.
    let exp = t
        .graph
        .nodes
        .iter()
        .position(|n| n.name.ends_with("softmax/exp"))
        .unwrap();
    let mut e = t.trace.tensors[exp + 1].clone();
    e[2] = e[1];
    let name = t.graph.nodes[exp].name.clone();
    let trace = forged(&t.graph, &t.trace, &name, e);
    assert!(trace.get(t.graph.output).unwrap()[2] > 0, "forged weight");
    let (values, advice) = t.advice_of(&trace);
    t.submit(&values, advice)
        .assert_rejected("a masked position given weight");
}
