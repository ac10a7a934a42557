//! Imports the reference models in `../shared/models` (next to the workspace) when present and
//! checks them against onnxruntime's outputs. Skips (passes) when the folder is absent.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};

use zkinfer_compiler::onnx::import_file;

fn models_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/models"))
}

fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn check_mlp(name: &str) {
    let dir = models_dir().join(name);
    let g = import_file(&dir.join("network.onnx")).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(g.input_shape, vec![1, 784], "{name}");
    assert_eq!(g.shape_of(g.output), &[1, 10], "{name}");
    let input = read_json(&dir.join("input.json"));
    let x = floats(&input["input_data"][0]);
    let want = floats(&read_json(&dir.join("ort_output.json"))["output"]);
    let got = &g.eval_f64(&x)[g.output];
    assert_eq!(got.len(), want.len(), "{name}");
    let mut max_err = 0f64;
    for (i, (a, b)) in got.iter().zip(&want).enumerate() {
        let err = (a - b).abs();
        assert!(err < 1e-4, "{name}: output {i}: ours {a}, onnxruntime {b}");
        max_err = max_err.max(err);
    }
    eprintln!(
        "{name}: {} nodes, max |ours - onnxruntime| = {max_err:.1e}",
        g.nodes.len()
    );
}

#[test]
fn shared_reference_models() {
    if !models_dir().join("mlp_small/network.onnx").exists() {
        eprintln!(
            "note: {} not found; skipping shared-model checks",
            models_dir().display()
        );
        return;
    }
    check_mlp("mlp_small");
    check_mlp("mlp_medium");
    // cnn_mnist (Conv, AveragePool) now imports; every shared model is compared with
    // onnxruntime by the importer's own tests (`models/src/onnx/tests_shared.rs`).
    let cnn = import_file(&models_dir().join("cnn_mnist/network.onnx"))
        .unwrap_or_else(|e| panic!("cnn_mnist: {e}"));
    assert_eq!(cnn.shape_of(cnn.output), &[1, 10]);
}
