//! Deep models at default settings (`tests/fixtures/deep`, written by
//! `scripts/make_deep_fixtures.py`): GPT-style decoders with a causal `-inf` mask and with a
//! Hugging Face-style additive `finfo.min` mask and attention-mask input, a post-norm encoder
//! classifier and a ResNet-10-style CNN. Each compiles through the pipeline with no option
//! set, proves, verifies offline and in the EVM, and its proven output matches onnxruntime's
//! within the reported error (at most 1e-3 x max|output| for the transformers, 5e-4 for the
//! CNN), with the same argmax wherever the top two logits are clearly apart.
//!
//! The `*_tiny` configurations run in CI; the benchmark sizes take minutes each and are
//! `#[ignore]`d (`cargo test --release --test deep_models -- --ignored`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use serde_json::Value;
use zkinfer::pipeline::{
    compile, prove, setup, DeviceChoice, Input, ModelDir, Quiet, Salt, Search, Source, SrsChoice,
};
use zkinfer::verifier::evm::exec::verify_in_evm;
use zkinfer::verifier::{verify, VerifierKey};

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/deep")
        .join(name)
}

/// onnxruntime's output for the first sample.
fn expected(dir: &Path) -> Vec<f64> {
    let e: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    e["outputs"][0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

fn argmax(v: &[f64]) -> usize {
    v.iter()
        .enumerate()
        .fold(
            (0, f64::MIN),
            |(bi, bv), (i, &x)| if x > bv { (i, x) } else { (bi, bv) },
        )
        .0
}

/// Compiles at default settings, proves the first sample, verifies it both ways and
/// compares with onnxruntime; `relative` bounds the reported error against max|output|.
fn check(name: &str, relative: f64) {
    let dir = fixture(name);
    let bytes = std::fs::read(dir.join("model.onnx")).unwrap();
    let input = dir.join("input.json");
    let calibration = Input::File {
        path: &input,
        row: 0,
    };
    let source = Source {
        bytes: &bytes,
        label: name,
        base: Some(&dir),
    };
    let c = compile(
        source,
        &calibration,
        Default::default(),
        &Search::default(),
        &Quiet,
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let reported = c.accuracy.output_max_abs_error;
    let tmp = tempfile::tempdir().unwrap();
    c.write(tmp.path(), &Quiet).unwrap();
    setup(tmp.path(), &SrsChoice::InsecureTest, &Quiet).unwrap_or_else(|e| panic!("{name}: {e}"));
    let proved = prove(
        tmp.path(),
        &calibration,
        &Salt::Fresh,
        DeviceChoice::Cpu,
        &Quiet,
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let key = VerifierKey::read(&ModelDir::new(tmp.path()).vk()).unwrap();
    let verified = verify(&key, &proved.proof).unwrap_or_else(|e| panic!("{name}: {e}"));
    verify_in_evm(&key, &proved.proof).unwrap_or_else(|e| panic!("{name}: EVM: {e}"));

    let want = expected(&dir);
    let got = &verified.output.as_ref().unwrap().floats;
    assert_eq!(got.len(), want.len(), "{name}: output size");
    let peak = want.iter().fold(0.0f64, |m, w| m.max(w.abs()));
    assert!(
        reported <= relative * peak.max(1.0),
        "{name}: reported error {reported} over {relative} x max|output| {peak}"
    );
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        // The float graph evaluates in f64, onnxruntime in f32: allow f32 rounding on top.
        let tol = reported + 1e-4 * (1.0 + w.abs());
        assert!(
            (g - w).abs() <= tol,
            "{name}[{i}]: proven {g}, onnxruntime {w}, reported error {reported}"
        );
    }
    let mut sorted = want.clone();
    sorted.sort_by(|a, b| b.total_cmp(a));
    if sorted.len() > 1 && sorted[0] - sorted[1] > 2.0 * reported {
        assert_eq!(argmax(got), argmax(&want), "{name}: argmax");
    }
}

#[test]
fn gpt_decoder_tiny() {
    check("gpt_decoder_tiny", 1e-3);
}

#[test]
fn gpt_decoder_hf_mask_tiny() {
    check("gpt_decoder_hf_mask_tiny", 1e-3);
}

#[test]
fn encoder_classifier_tiny() {
    check("encoder_classifier_tiny", 1e-3);
}

#[test]
fn resnet_tiny() {
    check("resnet_tiny", 5e-4);
}

#[test]
#[ignore = "minutes: the benchmark size"]
fn gpt_decoder() {
    check("gpt_decoder", 1e-3);
}

#[test]
#[ignore = "minutes: the benchmark size"]
fn gpt_decoder_hf_mask() {
    check("gpt_decoder_hf_mask", 1e-3);
}

#[test]
#[ignore = "minutes: the benchmark size"]
fn encoder_classifier() {
    check("encoder_classifier", 1e-3);
}

#[test]
#[ignore = "minutes: the benchmark size"]
fn resnet10() {
    check("resnet10", 5e-4);
}
