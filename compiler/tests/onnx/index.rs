//! Gather, GatherElements and GatherND at constant and computed indices, the Scatter ops and
//! OneHot, against references written out by hand.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::util::*;
use zkinfer_compiler::onnx::encode::*;

/// `ArgMax(x, axis, keepdims)` into `i`.
fn argmax(axis: i64, keepdims: i64) -> zkinfer_compiler::onnx::proto::NodeProto {
    node(
        "ArgMax",
        "am",
        &["x"],
        &["i"],
        vec![attr_int("axis", axis), attr_int("keepdims", keepdims)],
    )
}

#[test]
fn embedding_lookup_at_a_computed_index() {
    let table: Vec<f32> = (0..15).map(|v| v as f32 * 0.5 - 3.0).collect();
    let nodes = vec![
        argmax(1, 0),
        node("Gather", "emb", &["t", "i"], &["y"], vec![]),
    ];
    let g = import(nodes, vec![float_tensor("t", &[5, 3], &table)], &[1, 5]);
    assert_eq!(out_shape(&g), vec![1, 3]);
    for hot in 0..5 {
        let mut x = vec![0.0; 5];
        x[hot] = 1.0;
        let want: Vec<f64> = table[hot * 3..hot * 3 + 3]
            .iter()
            .map(|&v| f64::from(v))
            .collect();
        assert_close(&run(&g, &x), &want);
    }
}

#[test]
fn gather_elements_picks_each_row_maximum() {
    let nodes = vec![
        argmax(1, 1),
        node(
            "GatherElements",
            "ge",
            &["x", "i"],
            &["y"],
            vec![attr_int("axis", 1)],
        ),
    ];
    let g = import(nodes, vec![], &[2, 3]);
    let x = [0.1, 0.9, -0.2, 0.7, -1.0, 0.3];
    assert_eq!(out_shape(&g), vec![2, 1]);
    assert_close(&run(&g, &x), &[0.9, 0.7]);
    // Constant indices are an index map.
    let n = node(
        "GatherElements",
        "ge",
        &["x", "c"],
        &["y"],
        vec![attr_int("axis", 0)],
    );
    let g = import(
        vec![n],
        vec![int64_tensor("c", &[1, 3], &[1, 0, -1])],
        &[2, 3],
    );
    assert_eq!(kinds(&g), vec!["Select"]);
    assert_close(&run(&g, &x), &[0.7, 0.9, 0.3]);
}

#[test]
fn gather_nd_constant_and_computed() {
    let n = node("GatherND", "gn", &["x", "c"], &["y"], vec![]);
    let g = import(vec![n], vec![int64_tensor("c", &[2, 1], &[1, 0])], &[2, 3]);
    let x = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
    assert_eq!(out_shape(&g), vec![2, 3]);
    assert_close(&run(&g, &x), &[0.4, 0.5, 0.6, 0.1, 0.2, 0.3]);
    // Indices from ArgMax over each row of x [2, 3], reading table [3, 3, 2].
    let table: Vec<f32> = (0..18).map(|v| v as f32).collect();
    let nodes = vec![
        argmax(1, 0),
        node("Reshape", "r", &["i", "s"], &["ii"], vec![]),
        node("GatherND", "gn", &["t", "ii"], &["y"], vec![]),
    ];
    let inits = vec![
        float_tensor("t", &[3, 3, 2], &table),
        int64_tensor("s", &[2], &[1, 2]),
    ];
    let g = import(nodes, inits, &[2, 3]);
    let x = [0.0, 0.0, 1.0, 0.0, 1.0, 0.0]; // argmax = [2, 1]
    assert_eq!(out_shape(&g), vec![1, 2]);
    assert_close(&run(&g, &x), &[14.0, 15.0]);
}

#[test]
fn scatters_overwrite_at_constant_indices() {
    let n = node(
        "ScatterElements",
        "se",
        &["x", "c", "u"],
        &["y"],
        vec![attr_int("axis", 1)],
    );
    let inits = vec![
        int64_tensor("c", &[1, 2], &[2, 0]),
        float_tensor("u", &[1, 2], &[5.0, 6.0]),
    ];
    let g = import(vec![n], inits, &[2, 3]);
    let x = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
    assert_close(&run(&g, &x), &[6.0, 0.2, 5.0, 0.4, 0.5, 0.6]);
    let n = node("ScatterND", "sn", &["x", "c", "u"], &["y"], vec![]);
    let inits = vec![
        int64_tensor("c", &[1, 1], &[1]),
        float_tensor("u", &[1, 3], &[7.0, 8.0, 9.0]),
    ];
    let g = import(vec![n], inits, &[2, 3]);
    assert_close(&run(&g, &x), &[0.1, 0.2, 0.3, 7.0, 8.0, 9.0]);
    let n = node(
        "ScatterND",
        "sn",
        &["x", "c", "u"],
        &["y"],
        vec![attr_string("reduction", "mul")],
    );
    let inits = vec![
        int64_tensor("c", &[1, 1], &[1]),
        float_tensor("u", &[1, 3], &[7.0, 8.0, 9.0]),
    ];
    let e = import_err(vec![n], inits, &[2, 3]).to_string();
    assert!(e.contains("`sn`") && e.contains("reduction `mul`"), "{e}");
}

#[test]
fn one_hot_of_a_computed_index() {
    let nodes = vec![
        argmax(1, 0),
        node(
            "OneHot",
            "oh",
            &["i", "d", "v"],
            &["y"],
            vec![attr_int("axis", 0)],
        ),
    ];
    let inits = vec![
        int64_tensor("d", &[], &[4]),
        float_tensor("v", &[2], &[-1.0, 2.0]),
    ];
    let g = import(nodes, inits, &[2, 3]);
    let x = [0.0, 0.0, 1.0, 1.0, 0.0, 0.0]; // argmax = [2, 0]
    assert_eq!(out_shape(&g), vec![4, 2]);
    // y[j, k] = on if idx[k] == j.
    assert_close(
        &run(&g, &x),
        &[-1.0, 2.0, -1.0, -1.0, 2.0, -1.0, -1.0, -1.0],
    );
}

#[test]
fn top_k_sorts_with_ties_by_index() {
    for (largest, want_v, want_i) in [
        (1, [0.5, 0.5, 0.25], [1.0, 3.0, 0.0]),
        (0, [-1.0, 0.0, 0.25], [2.0, 4.0, 0.0]),
    ] {
        let n = node(
            "TopK",
            "top",
            &["x", "k"],
            &["v", "y"],
            vec![attr_int("largest", largest)],
        );
        let g = import(vec![n], vec![int64_tensor("k", &[1], &[3])], &[1, 5]);
        let x = [0.25, 0.5, -1.0, 0.5, 0.0];
        assert_eq!(out_shape(&g), vec![1, 3]);
        assert_close(&run(&g, &x), &want_i);
        // The values output is the node named `top/values`.
        let values = g.nodes.iter().position(|n| n.name == "top/values").unwrap();
        assert_close(&g.eval_f64(&x)[values + 1], &want_v);
    }
    let n = node("TopK", "top", &["x", "k"], &["v", "y"], vec![]);
    let e = import_err(vec![n], vec![int64_tensor("k", &[1], &[9])], &[1, 5]).to_string();
    assert!(e.contains("`top`") && e.contains("K = 9"), "{e}");
}

#[test]
fn scatter_elements_at_a_computed_index_overwrites_each_row_maximum() {
    let nodes = vec![
        argmax(1, 1),
        node(
            "ScatterElements",
            "se",
            &["x", "i", "u"],
            &["y"],
            vec![attr_int("axis", 1)],
        ),
    ];
    let g = import(
        nodes,
        vec![float_tensor("u", &[2, 1], &[-5.0, 7.0])],
        &[2, 3],
    );
    assert_eq!(out_shape(&g), vec![2, 3]);
    let x = [0.1, 0.9, 0.3, 0.8, 0.2, 0.4];
    assert_close(&run(&g, &x), &[0.1, -5.0, 0.3, 7.0, 0.2, 0.4]);
    let x = [0.5, 0.1, 0.2, 0.0, 0.1, 0.6];
    assert_close(&run(&g, &x), &[-5.0, 0.1, 0.2, 0.0, 0.1, 7.0]);
}

#[test]
fn scatter_nd_at_computed_indices_replaces_rows() {
    let nodes = vec![
        argmax(1, 1),
        node("ScatterND", "sn", &["d", "i", "u"], &["y"], vec![]),
    ];
    let d: Vec<f32> = (0..6).map(|v| v as f32).collect();
    let inits = vec![
        float_tensor("d", &[3, 2], &d),
        float_tensor("u", &[2, 2], &[-1.0, -2.0, -3.0, -4.0]),
    ];
    let g = import(nodes, inits, &[2, 3]);
    assert_eq!(out_shape(&g), vec![3, 2]);
    // argmax rows = [2, 0]: row 2 gets u[0], row 0 gets u[1], row 1 keeps d.
    let x = [0.1, 0.2, 0.9, 0.8, 0.2, 0.4];
    assert_close(&run(&g, &x), &[-3.0, -4.0, 2.0, 3.0, -1.0, -2.0]);
}

#[test]
fn scatter_add_sums_repeated_indices() {
    let n = node(
        "ScatterElements",
        "sa",
        &["x", "c", "u"],
        &["y"],
        vec![attr_int("axis", 1), attr_string("reduction", "add")],
    );
    let inits = vec![
        int64_tensor("c", &[1, 2], &[0, 0]),
        float_tensor("u", &[1, 2], &[5.0, 6.0]),
    ];
    let g = import(vec![n], inits, &[2, 3]);
    let x = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
    assert_close(&run(&g, &x), &[11.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
    // The same at computed indices: each row's maximum gets its update added.
    let nodes = vec![
        argmax(1, 1),
        node(
            "ScatterElements",
            "sa",
            &["x", "i", "u"],
            &["y"],
            vec![attr_int("axis", 1), attr_string("reduction", "add")],
        ),
    ];
    let g = import(
        nodes,
        vec![float_tensor("u", &[2, 1], &[1.0, 2.0])],
        &[2, 3],
    );
    assert_close(&run(&g, &x), &[0.1, 0.2, 1.3, 0.4, 0.5, 2.6]);
    // ScatterND at constant indices naming row 1 twice: both updates are added to it.
    let n = node(
        "ScatterND",
        "sa",
        &["x", "c", "u"],
        &["y"],
        vec![attr_string("reduction", "add")],
    );
    let inits = vec![
        int64_tensor("c", &[2, 1], &[1, 1]),
        float_tensor("u", &[2, 3], &[1.0, 2.0, 3.0, 10.0, 20.0, 30.0]),
    ];
    let g = import(vec![n], inits, &[2, 3]);
    assert_close(&run(&g, &x), &[0.1, 0.2, 0.3, 11.4, 22.5, 33.6]);
}
