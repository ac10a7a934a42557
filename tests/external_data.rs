//! A model exported by PyTorch to a file path, with its weights in `model.onnx.data`
//! (tests/fixtures/external_data, written by scripts/make_external_data_fixture.py):
//! it compiles, proves and verifies, and the data file is part of the source hash.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

use common::cli::{fails, fails_both, ok, s};
use serde_json::Value;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/external_data")
}

/// A copy of the fixture (model.onnx, model.onnx.data, input.json) in `dir`.
fn copy_fixture(dir: &Path) {
    for f in ["model.onnx", "model.onnx.data", "input.json"] {
        std::fs::copy(fixture().join(f), dir.join(f)).unwrap();
    }
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_torch_export_with_external_weights_proves_and_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    copy_fixture(&src);
    let (onnx, input) = (src.join("model.onnx"), src.join("input.json"));
    let build = tmp.path().join("build");
    let proof = tmp.path().join("proof.json");
    ok(&[
        "compile",
        s(&onnx),
        "--calibration",
        s(&input),
        "--out",
        s(&build),
    ]);
    ok(&["setup", s(&build), "--insecure-test-srs"]);
    ok(&["prove", s(&build), "--input", s(&input), "--out", s(&proof)]);

    // The proved output is onnxruntime's, within the compile report's error.
    let report = json(&build.join("report.json"));
    let max_error = report["accuracy"]["output_max_abs_error"].as_f64().unwrap();
    let expected = json(&fixture().join("expected.json"));
    assert_eq!(expected["external_tensors"][0], "0.weight");
    let got = json(&proof)["output"]["floats"].clone();
    for (g, e) in got
        .as_array()
        .unwrap()
        .iter()
        .zip(expected["outputs"][0].as_array().unwrap())
    {
        let (g, e) = (g.as_f64().unwrap(), e.as_f64().unwrap());
        assert!(
            (g - e).abs() <= max_error + 1e-6,
            "{g} vs {e} (error {max_error})"
        );
    }
    let vk = build.join("vk.bin");
    let out = ok(&[
        "verify",
        s(&vk),
        s(&proof),
        "--model",
        s(&build),
        "--onnx",
        s(&onnx),
    ]);
    assert!(out.starts_with("verified"), "{out}");

    // One changed weight byte in the data file: not the file the model was compiled from.
    let data = src.join("model.onnx.data");
    let mut bytes = std::fs::read(&data).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&data, &bytes).unwrap();
    let (err, stdout) = fails_both(&[
        "verify",
        s(&vk),
        s(&proof),
        "--model",
        s(&build),
        "--onnx",
        s(&onnx),
    ]);
    assert!(
        err.contains("was compiled from a file with SHA-256"),
        "{err}"
    );
    assert!(!stdout.contains("verified"), "{stdout}");
}

#[test]
fn a_missing_data_file_is_a_clear_error_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    copy_fixture(tmp.path());
    std::fs::remove_file(tmp.path().join("model.onnx.data")).unwrap();
    let build = tmp.path().join("build");
    let err = fails(&[
        "compile",
        s(&tmp.path().join("model.onnx")),
        "--calibration",
        s(&tmp.path().join("input.json")),
        "--out",
        s(&build),
    ]);
    assert!(
        err.contains("0.weight") && err.contains("model.onnx.data") && err.contains("cannot read"),
        "{err}"
    );
    assert!(!build.join("model.zkm").exists());
}
