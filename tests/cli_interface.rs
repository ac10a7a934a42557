//! Graph interfaces end to end through the CLI: several inputs and outputs, a graph that only
//! moves data, and a graph whose output is its input. Each compiles, proves and verifies (Rust
//! and EVM); a proof whose named outputs are altered is rejected.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

use common::cli::{fails, ok, s};
use serde_json::Value;
use zkinfer::compiler::onnx::encode::{
    attr_ints, graph, int64_tensor, model_bytes, node, value_info_fixed,
};
use zkinfer::compiler::onnx::proto::GraphProto;

/// Writes `g` and `input`, then compile → setup → prove → verify (Rust and EVM); returns the
/// build directory and the proof.
fn prove_flow(tmp: &Path, g: GraphProto, input: &str) -> (PathBuf, PathBuf, Value) {
    let onnx = tmp.join("model.onnx");
    std::fs::write(&onnx, model_bytes(g)).unwrap();
    let inp = tmp.join("input.json");
    std::fs::write(&inp, input).unwrap();
    let dir = tmp.join("build");
    let proof = tmp.join("proof.json");
    ok(&[
        "compile",
        s(&onnx),
        "--calibration",
        s(&inp),
        "--out",
        s(&dir),
    ]);
    ok(&["setup", s(&dir), "--insecure-test-srs"]);
    ok(&["prove", s(&dir), "--input", s(&inp), "--out", s(&proof)]);
    let verified = ok(&["verify", s(&dir.join("vk.bin")), s(&proof)]);
    assert!(verified.starts_with("verified"), "{verified}");
    let evm = ok(&["verify", "--evm", s(&dir.join("vk.bin")), s(&proof)]);
    assert!(evm.starts_with("verified (EVM)"), "{evm}");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&proof).unwrap()).unwrap();
    (dir, proof, json)
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= tol, "{got:?} vs {want:?}");
    }
}

#[test]
fn two_inputs_two_outputs_prove_with_named_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    // y = a·b + a, z = relu(b), from a [2] and b [1, 2].
    let nodes = vec![
        node("Mul", "/mul", &["a", "b"], &["m"], vec![]),
        node("Add", "/add", &["m", "a"], &["y"], vec![]),
        node("Relu", "/relu", &["b"], &["z"], vec![]),
    ];
    let mut g = graph(
        nodes,
        vec![],
        value_info_fixed("a", &[2]),
        value_info_fixed("y", &[1, 2]),
    );
    g.input.push(value_info_fixed("b", &[1, 2]));
    g.output.push(value_info_fixed("z", &[1, 2]));
    // Two samples: (a, b) = ((0.5, -1), (0.25, 0.75)) and ((-0.5, 1), (1, -0.25)).
    let input = r#"{"input_data": [[0.5, -1.0], [0.25, 0.75], [-0.5, 1.0], [1.0, -0.25]]}"#;
    let (dir, proof, json) = prove_flow(tmp.path(), g, input);
    let outputs = json["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 2);
    assert_eq!(outputs[0]["name"], "y");
    assert_eq!(outputs[1]["name"], "z");
    assert_eq!(outputs[0]["shape"], serde_json::json!([1, 2]));
    close(&floats(&outputs[0]["floats"]), &[0.625, -1.75], 1e-2);
    close(&floats(&outputs[1]["floats"]), &[0.25, 0.75], 1e-2);
    assert_eq!(json["output"]["shape"], serde_json::json!([4]));
    let verified = ok(&["verify", s(&dir.join("vk.bin")), s(&proof)]);
    assert!(
        verified.contains("output `z` [1, 2]: [0.25, 0.75]"),
        "{verified}"
    );

    // `run` prints one entry per graph output.
    let inp = tmp.path().join("input.json");
    let run: Value = serde_json::from_str(&ok(&["run", s(&dir), "--input", s(&inp)])).unwrap();
    assert_eq!(run[1]["name"], "z");
    assert_eq!(run[1]["ints"], outputs[1]["ints"]);

    // Altered named outputs are rejected, naming the field.
    let vk = dir.join("vk.bin");
    let tampered = tmp.path().join("tampered.json");
    let reject = |edit: &dyn Fn(&mut Value), field: &str| {
        let mut j = json.clone();
        edit(&mut j);
        std::fs::write(&tampered, serde_json::to_string(&j).unwrap()).unwrap();
        let err = fails(&["verify", s(&vk), s(&tampered)]);
        assert!(err.contains(field), "{field}: {err}");
    };
    reject(
        &|j| j["outputs"][0]["ints"][0] = (j["outputs"][0]["ints"][0].as_i64().unwrap() + 1).into(),
        "outputs[0].ints",
    );
    reject(
        &|j| {
            j["outputs"][0]["name"] = "z".into();
            j["outputs"][1]["name"] = "y".into();
        },
        "outputs[0].name",
    );
    reject(
        &|j| j["outputs"][1]["shape"] = serde_json::json!([2, 1]),
        "outputs[1].shape",
    );
    reject(
        &|j| {
            j["outputs"].as_array_mut().unwrap().pop();
        },
        "outputs",
    );

    // A sample short of one input list is a clear error naming the inputs; no proof is written.
    let bad = tmp.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"input_data": [[0.5, -1.0], [0.25, 0.75], [1.0, 2.0]]}"#,
    )
    .unwrap();
    let out = tmp.path().join("never.json");
    let err = fails(&["prove", s(&dir), "--input", s(&bad), "--out", s(&out)]);
    assert!(
        err.contains("2 inputs") && err.contains("`a`") && err.contains("`b`"),
        "{err}"
    );
    assert!(!out.exists());
    assert!(proof.exists());
}

#[test]
fn a_graph_that_only_moves_data_proves() {
    let tmp = tempfile::tempdir().unwrap();
    // Transpose [2, 3] → [3, 2], flatten, keep elements 1..5.
    let nodes = vec![
        node(
            "Transpose",
            "/t",
            &["x"],
            &["t"],
            vec![attr_ints("perm", &[1, 0])],
        ),
        node("Reshape", "/r", &["t", "shape"], &["f"], vec![]),
        node("Slice", "/s", &["f", "starts", "ends"], &["y"], vec![]),
    ];
    let inits = vec![
        int64_tensor("shape", &[1], &[6]),
        int64_tensor("starts", &[1], &[1]),
        int64_tensor("ends", &[1], &[5]),
    ];
    let g = graph(
        nodes,
        inits,
        value_info_fixed("x", &[2, 3]),
        value_info_fixed("y", &[4]),
    );
    let input = r#"{"input_data": [[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]}"#;
    let (_, _, json) = prove_flow(tmp.path(), g, input);
    // Transposed: 1 4 2 5 3 6; elements 1..5: 4 2 5 3.
    close(
        &floats(&json["output"]["floats"]),
        &[4.0, 2.0, 5.0, 3.0],
        0.0,
    );
    assert!(json.get("outputs").is_none(), "one output: no named parts");
}

#[test]
fn an_output_that_is_the_input_proves() {
    let tmp = tempfile::tempdir().unwrap();
    let g = graph(
        vec![node("Identity", "/id", &["x"], &["y"], vec![])],
        vec![],
        value_info_fixed("x", &[3]),
        value_info_fixed("y", &[3]),
    );
    let (_, _, json) = prove_flow(tmp.path(), g, r#"{"input_data": [[0.5, -2.0, 3.0]]}"#);
    close(&floats(&json["output"]["floats"]), &[0.5, -2.0, 3.0], 0.0);
}
