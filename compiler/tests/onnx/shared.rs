//! The reference models in `../shared/models` (next to the repository), when present: import,
//! evaluate in f64 on the sample input and compare with onnxruntime's float32 output.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};

use zkinfer_compiler::graph::Op;
use zkinfer_compiler::onnx::import_file;

const MODELS: [&str; 5] = [
    "mlp_small",
    "mlp_medium",
    "cnn_mnist",
    "mlp_sigmoid",
    "tiny_transformer",
];

fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/models")
}

fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, got {v}"))
        .iter()
        .map(|x| x.as_f64().unwrap_or_else(|| panic!("not a number: {x}")))
        .collect()
}

fn dims(v: &serde_json::Value) -> Vec<usize> {
    floats(v).into_iter().map(|d| d as usize).collect()
}

/// Imports `name`, checks its input/output shapes and returns max |ours - onnxruntime|.
fn check(name: &str) -> f64 {
    let dir = models_dir().join(name);
    let g = import_file(&dir.join("network.onnx")).unwrap_or_else(|e| panic!("{name}: {e}"));
    let reference = read_json(&dir.join("ort_output.json"));
    assert_eq!(g.input_shape, dims(&reference["input_shape"]), "{name}");
    assert_eq!(g.shape_of(g.output), dims(&reference["shape"]), "{name}");
    let x = floats(&read_json(&dir.join("input.json"))["input_data"][0]);
    assert_eq!(x.len(), g.input_numel(), "{name}");
    let values = g.eval_f64(&x);
    for (i, node) in g.nodes.iter().enumerate() {
        assert_eq!(
            values[i + 1].len(),
            node.numel(),
            "{name}: node {}",
            node.name
        );
    }
    let want = floats(&reference["output"]);
    let got = &values[g.output];
    assert_eq!(got.len(), want.len(), "{name}");
    let err = got
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let ops: Vec<&str> = g.nodes.iter().map(|n| n.op.kind()).collect();
    eprintln!(
        "{name}: {} nodes, max |float - onnxruntime| = {err:.2e}  [{}]",
        g.nodes.len(),
        ops.join(" ")
    );
    assert!(err < 1e-4, "{name}: max error {err:e} vs onnxruntime");
    err
}

#[test]
fn shared_models_match_onnxruntime() {
    if !models_dir().join("mlp_small/network.onnx").exists() {
        eprintln!(
            "note: {} not found; skipping the shared-model comparison",
            models_dir().display()
        );
        return;
    }
    for name in MODELS {
        check(name);
    }
}

#[test]
fn shared_transformer_structure() {
    let path = models_dir().join("tiny_transformer/network.onnx");
    if !path.exists() {
        eprintln!("note: {} not found; skipping", path.display());
        return;
    }
    let g = import_file(&path).unwrap();
    let count = |kind: &str| g.nodes.iter().filter(|n| n.op.kind() == kind).count();
    // Six MatMul-by-constant + Add(bias) pairs fold into six Linears.
    assert_eq!(count("Linear"), 6);
    assert_eq!(count("AddConst"), 1, "Erf + 1");
    assert_eq!(count("MatMul"), 2, "QKᵀ and att·V");
    assert_eq!(count("LayerNorm"), 2);
    assert_eq!(count("Softmax"), 1);
    assert_eq!(count("Select"), 1, "Kᵀ");
    assert!(g.nodes.iter().all(|n| !matches!(n.op, Op::Div | Op::Sub)));
}
