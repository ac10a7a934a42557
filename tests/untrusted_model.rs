//! A hand-crafted `model.zkm` is untrusted input: every command that builds a circuit from it
//! refuses a model that breaks what the circuit relies on, names the node, and writes nothing.

#![allow(clippy::unwrap_used)]

use std::process::Command;

use zkinfer::ir::artifact::encode_model;
use zkinfer::ir::{QGraph, QNode, QOp, QTensor};

fn crafted(op: QOp, out_bound: u64) -> QGraph {
    let t = |bound| QTensor {
        shape: vec![1, 2],
        scale: 4,
        bound,
    };
    QGraph {
        input_name: "x".into(),
        input: t(100),
        nodes: vec![QNode {
            name: "crafted_add".into(),
            op,
            inputs: vec![0],
            out: t(out_bound),
        }],
        output: 1,
        output_name: "y".into(),
        source_sha256: String::new(),
        weights_sha256: String::new(),
        tables: Vec::new(),
        max_lanes: None,
    }
}

fn refused(graph: &QGraph, expect: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("model.zkm"), encode_model(graph).0).unwrap();
    let d = dir.path().to_str().unwrap();
    for args in [vec!["setup", d, "--insecure-test-srs"], vec!["plan", d]] {
        let out = Command::new(env!("CARGO_BIN_EXE_zkinfer"))
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} accepted a crafted model");
        assert!(
            err.contains("node `crafted_add` (Add) is invalid") && err.contains(expect),
            "{args:?}: {err}"
        );
    }
    for f in ["pk.bin", "vk.bin", "srs.bin"] {
        assert!(
            !dir.path().join(f).exists(),
            "{f} written for a refused model"
        );
    }
}

#[test]
fn a_one_operand_add_with_a_free_operand_is_refused() {
    let op = QOp::Add {
        coef_a: 1,
        coef_b: 1,
        constant: vec![],
    };
    refused(&crafted(op, 200), "coef_b is 1 with one operand");
}

#[test]
fn an_understated_bound_is_refused() {
    let op = QOp::Add {
        coef_a: 3,
        coef_b: 0,
        constant: vec![7, -9],
    };
    // 3 · 100 + 9 = 309 > 300.
    refused(&crafted(op, 300), "below the bound 309");
}
