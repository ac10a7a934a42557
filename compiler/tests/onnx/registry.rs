//! The op registry is the list of supported ops: every registered op is documented.

use zkinfer_compiler::onnx::supported_ops;

/// The module docs of `compiler/src/onnx/mod.rs`, where the supported ops are listed.
const OP_DOCS: &str = include_str!("../../src/onnx/mod.rs");

#[test]
fn every_registered_op_is_in_the_module_docs() {
    let docs: String = OP_DOCS
        .lines()
        .take_while(|l| l.starts_with("//!"))
        .collect::<Vec<_>>()
        .join("\n");
    let missing: Vec<_> = supported_ops()
        .into_iter()
        .filter(|(_, op)| !docs.contains(&format!("`{op}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "registered but not documented: {missing:?}"
    );
}

#[test]
fn the_registry_knows_the_common_ops_and_their_domains() {
    let ops = supported_ops();
    for op in [
        "Gemm",
        "Conv",
        "Softmax",
        "LayerNormalization",
        "Gather",
        "Sigmoid",
        "Abs",
    ] {
        assert!(ops.contains(&("", op)), "{op} missing");
    }
    assert!(ops.contains(&("ai.onnx.ml", "TreeEnsembleClassifier")));
    assert!(!ops.contains(&("", "TreeEnsembleClassifier")));
}
