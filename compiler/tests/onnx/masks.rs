//! Attention masks of -inf and finfo(float32).min: imported before a Softmax with exactly
//! zero weight at masked positions; refused where their value would matter.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::util::*;
use zkinfer_compiler::onnx::encode::*;
use zkinfer_compiler::onnx::ImportError;

/// A causal mask over 3 positions as a boolean-like constant (1 keeps).
fn causal() -> Vec<f32> {
    vec![1., 0., 0., 1., 1., 0., 1., 1., 1.]
}

/// `softmax` of one row of `x` with the positions where `keep` is 0 left out.
fn masked_softmax(x: &[f64], keep: &[f32]) -> Vec<f64> {
    let m = x
        .iter()
        .zip(keep)
        .filter(|(_, &k)| k != 0.0)
        .map(|(v, _)| *v)
        .fold(f64::MIN, f64::max);
    let e: Vec<f64> = x
        .iter()
        .zip(keep)
        .map(|(v, &k)| if k != 0.0 { (v - m).exp() } else { 0.0 })
        .collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

fn expected(x: &[f64]) -> Vec<f64> {
    x.chunks(3)
        .zip(causal().chunks(3))
        .flat_map(|(row, keep)| masked_softmax(row, keep))
        .collect()
}

#[test]
fn masked_fill_with_minus_inf_gives_masked_positions_zero_weight() {
    // PyTorch's masked_fill(causal == 0, -inf): Where(Equal(causal, 0), -inf, x).
    let nodes = vec![
        node("Equal", "/Equal", &["causal", "zero"], &["masked"], vec![]),
        node(
            "Where",
            "/Where",
            &["masked", "neg_inf", "x"],
            &["s"],
            vec![],
        ),
        node(
            "Softmax",
            "/Softmax",
            &["s"],
            &["y"],
            vec![attr_int("axis", -1)],
        ),
    ];
    let inits = vec![
        float_tensor("causal", &[3, 3], &causal()),
        float_tensor("zero", &[], &[0.0]),
        float_tensor("neg_inf", &[], &[f32::NEG_INFINITY]),
    ];
    let g = import(nodes, inits, &[3, 3]);
    let x = [0.5, 2.0, -1.0, 0.25, -0.75, 3.0, 1.0, 0.0, -2.0];
    assert_close(&run(&g, &x), &expected(&x));
}

#[test]
fn additive_finfo_min_masks_give_masked_positions_zero_weight() {
    // Hugging Face: scores + (1 - keep) * finfo.min.
    let additive: Vec<f32> = causal()
        .iter()
        .map(|&k| if k == 0.0 { f32::MIN } else { 0.0 })
        .collect();
    let nodes = vec![
        node("Add", "/Add", &["x", "mask"], &["s"], vec![]),
        node(
            "Softmax",
            "/Softmax",
            &["s"],
            &["y"],
            vec![attr_int("axis", -1)],
        ),
    ];
    let g = import(
        nodes,
        vec![float_tensor("mask", &[3, 3], &additive)],
        &[3, 3],
    );
    let x = [1.5, -2.0, 0.0, 0.0, 4.0, -1.0, 2.0, 1.0, 0.5];
    assert_close(&run(&g, &x), &expected(&x));
}

#[test]
fn a_mask_read_where_its_value_matters_is_refused_naming_the_node() {
    let nodes = vec![
        node("Add", "/Add", &["x", "mask"], &["s"], vec![]),
        node("Relu", "/Relu", &["s"], &["y"], vec![]),
    ];
    let inits = vec![float_tensor("mask", &[3], &[0.0, f32::NEG_INFINITY, 0.0])];
    match import_err(nodes, inits, &[1, 3]) {
        ImportError::UnsupportedUse { node, reason, .. } => {
            assert_eq!(node, "/Relu");
            assert!(
                reason.contains("`s`") && reason.contains("mask"),
                "{reason}"
            );
        }
        other => panic!("expected the Relu to be refused, got {other}"),
    }
}

#[test]
fn a_masked_output_is_refused() {
    let nodes = vec![node("Add", "/Add", &["x", "mask"], &["y"], vec![])];
    let inits = vec![float_tensor("mask", &[3], &[0.0, f32::MIN, 0.0])];
    match import_err(nodes, inits, &[1, 3]) {
        ImportError::BadOutput { name, reason } => {
            assert_eq!(name, "y");
            assert!(reason.contains("mask"), "{reason}");
        }
        other => panic!("expected the output to be refused, got {other}"),
    }
}

#[test]
fn infinities_that_are_no_mask_stay_errors() {
    // +inf is no mask: the Where refuses it as before.
    let nodes = vec![
        node("Greater", "/Greater", &["x", "zero"], &["c"], vec![]),
        node("Where", "/Where", &["c", "inf", "x"], &["y"], vec![]),
    ];
    let inits = vec![
        float_tensor("zero", &[], &[0.0]),
        float_tensor("inf", &[], &[f32::INFINITY]),
    ];
    let e = import_err(nodes, inits, &[1, 3]);
    assert!(e.to_string().contains("infinite"), "{e}");
}
