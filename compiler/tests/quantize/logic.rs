//! Quantized accuracy of the compositions the importer builds for logic and index ops.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use zkinfer_compiler::onnx::encode::{
    attr_int, float_tensor, graph, model_bytes, node, value_info_fixed, value_info_unshaped,
};
use zkinfer_compiler::quantize::*;
use zkinfer_compiler::Graph;

fn imported(
    nodes: Vec<zkinfer_compiler::onnx::proto::NodeProto>,
    inits: Vec<zkinfer_compiler::onnx::proto::TensorProto>,
) -> Graph {
    let bytes = model_bytes(graph(
        nodes,
        inits,
        value_info_fixed("x", &[4, 8]),
        value_info_unshaped("y"),
    ));
    zkinfer_compiler::onnx::import_bytes(&bytes).expect("import")
}

/// Rows whose values are at least `gap` apart, so no quantized comparison is a near tie.
fn spaced_rows(rng: &mut ChaCha8Rng, rows: usize, gap: f64) -> Vec<Vec<f64>> {
    (0..rows)
        .map(|_| {
            (0..32)
                .map(|_| f64::from(rng.gen_range(-40i32..40)) * gap + gap / 2.0)
                .collect()
        })
        .collect()
}

#[test]
fn comparisons_and_index_ops_are_exact_away_from_ties() {
    let mut rng = ChaCha8Rng::seed_from_u64(41);
    let rows = spaced_rows(&mut rng, 8, 0.05);
    let cases = vec![
        vec![node(
            "ArgMax",
            "/a",
            &["x"],
            &["y"],
            vec![attr_int("axis", 1)],
        )],
        vec![node(
            "ArgMin",
            "/a",
            &["x"],
            &["y"],
            vec![attr_int("axis", 0), attr_int("select_last_index", 1)],
        )],
        vec![node("Hardmax", "/h", &["x"], &["y"], vec![])],
        vec![
            node("Greater", "/g", &["x", "t"], &["p"], vec![]),
            node("Where", "/w", &["p", "x", "t"], &["y"], vec![]),
        ],
    ];
    for nodes in cases {
        let g = imported(nodes, vec![float_tensor("t", &[], &[0.3])]);
        let q = quantize(&g, &rows, QuantizeConfig::default(), "src").expect("quantize");
        let report = accuracy(&g, &q, &rows).expect("accuracy");
        // Index and boolean outputs are exact; Where passes x through at the activation scale.
        assert!(
            report.output_max_abs_error < 1e-3,
            "{:?}: {}",
            g.nodes.last().map(|n| &n.name),
            report.output_max_abs_error
        );
    }
}

#[test]
fn a_comparison_calibrated_on_one_side_runs_on_both() {
    // Calibration where every x > 0.3: the Greater's table must still hold x < 0.3 and ties.
    let calib: Vec<Vec<f64>> = (0..4)
        .map(|r| {
            (0..32)
                .map(|i| 1.0 + f64::from(r * 32 + i) / 64.0)
                .collect()
        })
        .collect();
    let nodes = vec![
        node("Greater", "/g", &["x", "t"], &["p"], vec![]),
        node("Where", "/w", &["p", "x", "t"], &["y"], vec![]),
    ];
    let g = imported(nodes, vec![float_tensor("t", &[], &[0.3])]);
    let q = quantize(&g, &calib, QuantizeConfig::default(), "src").expect("quantize");
    let other: Vec<Vec<f64>> = vec![(0..32).map(|i| f64::from(i) / 16.0 - 1.0).collect()];
    let report = accuracy(&g, &q, &other).expect("both signs and a tie evaluate");
    assert!(
        report.output_max_abs_error < 1e-3,
        "{}",
        report.output_max_abs_error
    );
}

#[test]
fn log_softmax_is_accurate() {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let rows: Vec<Vec<f64>> = (0..8)
        .map(|_| (0..32).map(|_| rng.gen_range(-3.0..3.0)).collect())
        .collect();
    let g = imported(
        vec![node("LogSoftmax", "/l", &["x"], &["y"], vec![])],
        vec![],
    );
    let q = quantize(&g, &rows, QuantizeConfig::default(), "src").expect("quantize");
    let report = accuracy(&g, &q, &rows).expect("accuracy");
    assert!(
        report.output_max_abs_error < 1e-2,
        "{}",
        report.output_max_abs_error
    );
}
