//! ai.onnx.ml tree ensembles against a direct tree walk, and their errors.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::util::*;
use zkinfer_compiler::onnx::encode::*;
use zkinfer_compiler::onnx::proto::{AttributeProto, NodeProto};

/// Tree 0: node 0 `x0 <= 0.25` ? node 1 : node 2; node 1 `x1 > -0.5` ? leaf 3 : leaf 4;
/// node 2 a leaf. Tree 1: a single leaf. Leaf values per target in `leaf_values`.
fn ensemble(op: &str, mode1: &str, extra: Vec<AttributeProto>) -> NodeProto {
    let mut attrs = vec![
        attr_ints("nodes_treeids", &[0, 0, 0, 0, 0, 1]),
        attr_ints("nodes_nodeids", &[0, 1, 2, 3, 4, 0]),
        attr_ints("nodes_featureids", &[0, 1, 0, 0, 0, 0]),
        attr_floats("nodes_values", &[0.25, -0.5, 0.0, 0.0, 0.0, 0.0]),
        attr_strings(
            "nodes_modes",
            &["BRANCH_LEQ", mode1, "LEAF", "LEAF", "LEAF", "LEAF"],
        ),
        attr_ints("nodes_truenodeids", &[1, 3, 0, 0, 0, 0]),
        attr_ints("nodes_falsenodeids", &[2, 4, 0, 0, 0, 0]),
    ];
    attrs.extend(extra);
    let mut n = node(op, "trees", &["x"], &["label", "y"], attrs);
    if op == "TreeEnsembleRegressor" {
        n.output = vec!["y".into()];
    }
    n.domain = "ai.onnx.ml".into();
    n
}

/// The leaf of tree 0 reached by `x` (`gt`: node 1 is `>`, else `<`).
fn walk(x: &[f64], gt: bool) -> usize {
    if x[0] <= 0.25 {
        let t = if gt { x[1] > -0.5 } else { x[1] < -0.5 };
        if t {
            3
        } else {
            4
        }
    } else {
        2
    }
}

fn samples() -> Vec<[f64; 2]> {
    vec![
        [0.0, 0.0],
        [0.0, -1.0],
        [0.9, 0.3],
        [-0.7, -0.2],
        [0.3, -0.9],
    ]
}

#[test]
fn regressor_sums_leaf_values_over_trees() {
    let value = |leaf: usize| match leaf {
        2 => 1.5,
        3 => -0.5,
        _ => 0.25,
    };
    for (mode, gt) in [("BRANCH_GT", true), ("BRANCH_LT", false)] {
        let extra = vec![
            attr_ints("target_treeids", &[0, 0, 0, 1]),
            attr_ints("target_nodeids", &[2, 3, 4, 0]),
            attr_ints("target_ids", &[0, 0, 0, 0]),
            attr_floats("target_weights", &[1.5, -0.5, 0.25, 0.1]),
            attr_floats("base_values", &[0.3]),
        ];
        let g = import(
            vec![ensemble("TreeEnsembleRegressor", mode, extra)],
            vec![],
            &[1, 2],
        );
        for x in samples() {
            let want = value(walk(&x, gt)) + 0.1 + 0.3;
            assert_close(&run(&g, &x), &[want]);
        }
    }
}

#[test]
fn classifier_gives_scores_and_the_label_of_the_first_maximum() {
    // Leaf 2 -> class 9, leaf 3 -> class 4, leaf 4 -> a tie between 4 and 9 (first wins).
    let extra = vec![
        attr_ints("class_treeids", &[0, 0, 0, 0]),
        attr_ints("class_nodeids", &[2, 3, 4, 4]),
        attr_ints("class_ids", &[1, 0, 0, 1]),
        attr_floats("class_weights", &[1.0, 1.0, 0.5, 0.5]),
        attr_ints("classlabels_int64s", &[4, 9]),
    ];
    let mut n = ensemble("TreeEnsembleClassifier", "BRANCH_GT", extra);
    n.output = vec!["y".into(), "scores".into()];
    let g = import(vec![n], vec![], &[1, 2]);
    for x in samples() {
        let want = match walk(&x, true) {
            2 => 9.0,
            _ => 4.0,
        };
        assert_close(&run(&g, &x), &[want]);
    }
}

#[test]
fn unsupported_ensembles_name_the_node() {
    let cases = vec![
        (
            ensemble(
                "TreeEnsembleRegressor",
                "BRANCH_SOMETIMES",
                vec![
                    attr_ints("target_treeids", &[0]),
                    attr_ints("target_nodeids", &[2]),
                    attr_ints("target_ids", &[0]),
                    attr_floats("target_weights", &[1.0]),
                ],
            ),
            "BRANCH_SOMETIMES",
        ),
        (
            ensemble(
                "TreeEnsembleRegressor",
                "BRANCH_GT",
                vec![
                    attr_ints("target_treeids", &[0]),
                    attr_ints("target_nodeids", &[1]),
                    attr_ints("target_ids", &[0]),
                    attr_floats("target_weights", &[1.0]),
                ],
            ),
            "not a leaf",
        ),
        (
            ensemble(
                "TreeEnsembleRegressor",
                "BRANCH_GT",
                vec![
                    attr_ints("target_treeids", &[0]),
                    attr_ints("target_nodeids", &[2]),
                    attr_ints("target_ids", &[0]),
                    attr_floats("target_weights", &[1.0]),
                    attr_string("aggregate_function", "MIN"),
                ],
            ),
            "MIN",
        ),
    ];
    for (n, part) in cases {
        let e = import_err(vec![n], vec![], &[1, 2]).to_string();
        assert!(e.contains("`trees`") && e.contains(part), "{e}");
    }
    let mut zip = node("ZipMap", "zm", &["x"], &["y"], vec![]);
    zip.domain = "ai.onnx.ml".into();
    let e = import_err(vec![zip], vec![], &[1, 2]).to_string();
    assert!(e.contains("`zm`") && e.contains("zipmap"), "{e}");
}
