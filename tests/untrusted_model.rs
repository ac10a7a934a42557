//! A hand-crafted `model.zkm` is untrusted input: every command that builds a circuit from it
//! refuses a model that breaks what the circuit relies on, names the node, and writes nothing.

#![allow(clippy::unwrap_used)]

use std::process::Command;

use zkinfer::ir::artifact::encode_model;
use zkinfer::ir::testkit::{graph, node, tensor};
use zkinfer::ir::{QGraph, QOp};

fn crafted(op: QOp, out_bound: u64) -> QGraph {
    let add = node("crafted_add", op, &[0], tensor(2, out_bound));
    graph(tensor(2, 100), vec![add])
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
