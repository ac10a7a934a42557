//! Data movement: Transpose, Slice, Gather, Concat, Expand, Shape, and their folding on constants.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::util::*;
use zkinfer_compiler::graph::Op;
use zkinfer_compiler::onnx::encode::*;

#[test]
fn transpose() {
    // x [1, 2, 3] = [[0 1 2], [3 4 5]] -> [1, 3, 2].
    let t = node(
        "Transpose",
        "/Transpose",
        &["x"],
        &["y"],
        vec![attr_ints("perm", &[0, 2, 1])],
    );
    let g = import(vec![t], vec![], &[1, 2, 3]);
    assert_eq!(
        g.nodes[0].op,
        Op::Select {
            index: vec![0, 3, 1, 4, 2, 5]
        }
    );
    assert_eq!(out_shape(&g), [1, 3, 2]);
    assert_close(&run(&g, &iota(6)), &[0., 3., 1., 4., 2., 5.]);

    // Default perm reverses the axes: [2, 1, 3] -> [3, 1, 2].
    let t = node("Transpose", "t", &["x"], &["y"], vec![]);
    let g = import(vec![t], vec![], &[2, 1, 3]);
    assert_eq!(out_shape(&g), [3, 1, 2]);
    assert_close(&run(&g, &iota(6)), &[0., 3., 1., 4., 2., 5.]);
}

#[test]
fn transpose_and_reshape_of_constants_fold() {
    // W stored [n_out, n_in] and transposed in the graph, then reshaped (a no-op) and used.
    let w = float_tensor("W", &[2, 3], &[1., 0., 0., 0., 1., 1.]);
    let s = int64_tensor("s", &[2], &[3, 2]);
    let nodes = vec![
        node("Identity", "id", &["W"], &["W1"], vec![]),
        node("Transpose", "t", &["W1"], &["Wt"], vec![]),
        node("Reshape", "r", &["Wt", "s"], &["Wr"], vec![]),
        node("MatMul", "mm", &["x", "Wr"], &["y"], vec![]),
    ];
    let g = import(nodes, vec![w, s], &[1, 3]);
    assert_eq!(kinds(&g), ["Linear"]);
    assert_close(&run(&g, &[1., 2., 3.]), &[1., 5.]);
}

#[test]
fn slice() {
    // x [2, 4] = [[0 1 2 3], [4 5 6 7]].
    let inits = vec![
        int64_tensor("starts", &[2], &[1, -3]),
        int64_tensor("ends", &[2], &[2, i64::MAX]),
        int64_tensor("axes", &[2], &[0, 1]),
        int64_tensor("rstart", &[1], &[-1]),
        int64_tensor("rend", &[1], &[i64::MIN]),
        int64_tensor("raxes", &[1], &[-1]),
        int64_tensor("rstep", &[1], &[-2]),
        int64_tensor("big", &[1], &[i64::MAX]),
    ];
    let s = node(
        "Slice",
        "/Slice",
        &["x", "starts", "ends", "axes"],
        &["y"],
        vec![],
    );
    let g = import(vec![s], inits.clone(), &[2, 4]);
    assert_eq!(out_shape(&g), [1, 3]);
    assert_close(&run(&g, &iota(8)), &[5., 6., 7.]);

    // Backwards with step -2 from the last column: columns 3, 1.
    let s = node(
        "Slice",
        "s",
        &["x", "rstart", "rend", "raxes", "rstep"],
        &["y"],
        vec![],
    );
    let g = import(vec![s], inits.clone(), &[2, 4]);
    assert_eq!(out_shape(&g), [2, 2]);
    assert_close(&run(&g, &iota(8)), &[3., 1., 7., 5.]);

    // Without axes: starts/ends apply to the leading axes.
    let s = node("Slice", "s", &["x", "rstart", "big"], &["y"], vec![]);
    let g = import(vec![s], inits, &[2, 4]);
    assert_eq!(out_shape(&g), [1, 4]);
    assert_close(&run(&g, &iota(8)), &[4., 5., 6., 7.]);

    // Opset 9: bounds are attributes.
    let attrs = vec![
        attr_ints("starts", &[0]),
        attr_ints("ends", &[-1]),
        attr_ints("axes", &[1]),
    ];
    let s = node("Slice", "s", &["x"], &["y"], attrs);
    let g = import_opset(vec![s], vec![], &[2, 4], 9);
    assert_eq!(out_shape(&g), [2, 3]);
    assert_close(&run(&g, &iota(8)), &[0., 1., 2., 4., 5., 6.]);
}

#[test]
fn slice_with_steps() {
    let inits = vec![
        int64_tensor("st", &[1], &[0]),
        int64_tensor("en", &[1], &[100]),
        int64_tensor("ax", &[1], &[1]),
        int64_tensor("step", &[1], &[2]),
    ];
    let s = node(
        "Slice",
        "s",
        &["x", "st", "en", "ax", "step"],
        &["y"],
        vec![],
    );
    let g = import(vec![s], inits, &[2, 5]);
    assert_eq!(out_shape(&g), [2, 3]);
    assert_close(&run(&g, &iota(10)), &[0., 2., 4., 5., 7., 9.]);
}

#[test]
fn gather_with_constant_indices() {
    // x [2, 4]; indices [[2, -4]] on axis 1 -> [2, 1, 2].
    let idx = int64_tensor("idx", &[1, 2], &[2, -4]);
    let gather = node(
        "Gather",
        "/Gather",
        &["x", "idx"],
        &["y"],
        vec![attr_int("axis", 1)],
    );
    let g = import(vec![gather], vec![idx], &[2, 4]);
    assert_eq!(kinds(&g), ["Select"]);
    assert_eq!(out_shape(&g), [2, 1, 2]);
    assert_close(&run(&g, &iota(8)), &[2., 0., 6., 4.]);

    // A scalar index drops the axis: x[1].
    let idx = int64_tensor("i", &[], &[1]);
    let gather = node("Gather", "g", &["x", "i"], &["y"], vec![]);
    let g = import(vec![gather], vec![idx], &[2, 4]);
    assert_eq!(out_shape(&g), [4]);
    assert_close(&run(&g, &iota(8)), &[4., 5., 6., 7.]);
}

#[test]
fn gather_from_a_constant_folds() {
    let table = float_tensor("T", &[3, 2], &[1., 2., 3., 4., 5., 6.]);
    let idx = int64_tensor("i", &[1], &[2]);
    let nodes = vec![
        node("Gather", "g", &["T", "i"], &["row"], vec![]),
        node("Add", "a", &["x", "row"], &["y"], vec![]),
    ];
    let g = import(nodes, vec![table, idx], &[1, 2]);
    assert_eq!(
        g.nodes[0].op,
        Op::AddConst {
            constant: vec![5., 6.]
        }
    );
}

#[test]
fn concat() {
    // [x, relu(x)] along axis 0 and along the last axis.
    let relu = node("Relu", "r", &["x"], &["r"], vec![]);
    for (axis, shape, want) in [
        (0, [2, 2], [-1., 2., 0., 2.]),
        (-1, [1, 4], [-1., 2., 0., 2.]),
    ] {
        let cat = node(
            "Concat",
            "/Concat",
            &["x", "r"],
            &["y"],
            vec![attr_int("axis", axis)],
        );
        let g = import(vec![relu.clone(), cat], vec![], &[1, 2]);
        assert_eq!(kinds(&g), ["Relu", "Select"]);
        assert_eq!(g.nodes[1].inputs, [0, 1]);
        assert_eq!(out_shape(&g), shape);
        assert_close(&run(&g, &[-1., 2.]), &want);
    }
    // Interleaving along a middle axis: [2, 1, 2] ++ [2, 1, 2] on axis 1 -> [2, 2, 2].
    let cat = node(
        "Concat",
        "c",
        &["x", "r"],
        &["y"],
        vec![attr_int("axis", 1)],
    );
    let g = import(vec![relu, cat], vec![], &[2, 1, 2]);
    assert_eq!(out_shape(&g), [2, 2, 2]);
    assert_close(
        &run(&g, &[-1., 2., 3., -4.]),
        &[-1., 2., 0., 2., 3., -4., 3., 0.],
    );
}

#[test]
fn concat_of_constants_folds() {
    let a = float_tensor("a", &[1, 2], &[1., 2.]);
    let b = float_tensor("b", &[1, 2], &[3., 4.]);
    let nodes = vec![
        node(
            "Concat",
            "c",
            &["a", "b"],
            &["ab"],
            vec![attr_int("axis", 1)],
        ),
        node("Mul", "m", &["x", "ab"], &["y"], vec![]),
    ];
    let g = import(nodes, vec![a, b], &[1, 4]);
    assert_eq!(
        g.nodes[0].op,
        Op::MulConst {
            constant: vec![1., 2., 3., 4.]
        }
    );
}

#[test]
fn expand() {
    // [3, 1] expanded to [2, 1, 4] broadcasts to [2, 3, 4].
    let s = int64_tensor("s", &[3], &[2, 1, 4]);
    let e = node("Expand", "e", &["x", "s"], &["y"], vec![]);
    let g = import(vec![e], vec![s], &[3, 1]);
    assert_eq!(out_shape(&g), [2, 3, 4]);
    let y = run(&g, &[1., 2., 3.]);
    let row = |v: f64| [v; 4];
    let block: Vec<f64> = [row(1.), row(2.), row(3.)].concat();
    assert_close(&y, &[block.clone(), block].concat());
}

#[test]
fn shape_gather_unsqueeze_concat_reshape_folds() {
    // x.view(x.size(0), -1), as exported by PyTorch.
    let zero = int64_tensor("zero", &[], &[0]);
    let axes = int64_tensor("axes", &[1], &[0]);
    let m1 = int64_tensor("m1", &[1], &[-1]);
    let nodes = vec![
        node("Shape", "sh", &["x"], &["s"], vec![]),
        node(
            "Gather",
            "g",
            &["s", "zero"],
            &["n"],
            vec![attr_int("axis", 0)],
        ),
        node("Unsqueeze", "u", &["n", "axes"], &["n1"], vec![]),
        node(
            "Concat",
            "c",
            &["n1", "m1"],
            &["spec"],
            vec![attr_int("axis", 0)],
        ),
        node("Reshape", "r", &["x", "spec"], &["y"], vec![]),
    ];
    let g = import(nodes, vec![zero, axes, m1], &[1, 2, 3]);
    assert_eq!(kinds(&g), ["Reshape"]);
    assert_eq!(out_shape(&g), [1, 6]);

    // Shape with start/end (opset 15).
    let nodes = vec![
        node(
            "Shape",
            "sh",
            &["x"],
            &["s"],
            vec![attr_int("start", 1), attr_int("end", -1)],
        ),
        node("Reshape", "r", &["x", "s"], &["y"], vec![]),
    ];
    let g = import(nodes, vec![], &[1, 6, 1]);
    assert_eq!(out_shape(&g), [6]);
}

#[test]
fn split_by_sizes_by_attribute_and_into_equal_parts() {
    // x [2, 5] split along axis 1, the parts concatenated back in reverse order.
    let x: Vec<f64> = iota(10);
    let back = |outs: &[&str]| {
        let mut rev: Vec<&str> = outs.to_vec();
        rev.reverse();
        node("Concat", "cat", &rev, &["y"], vec![attr_int("axis", 1)])
    };
    // Sizes from the `split` input (opset 13+): [2, 3].
    let nodes = vec![
        node(
            "Split",
            "sp",
            &["x", "s"],
            &["a", "b"],
            vec![attr_int("axis", 1)],
        ),
        back(&["a", "b"]),
    ];
    let g = import(nodes, vec![int64_tensor("s", &[2], &[2, 3])], &[2, 5]);
    assert_close(
        &run(&g, &x),
        &[2.0, 3.0, 4.0, 0.0, 1.0, 7.0, 8.0, 9.0, 5.0, 6.0],
    );
    // Sizes from the attribute (opset 11): [1, 4].
    let nodes = vec![
        node(
            "Split",
            "sp",
            &["x"],
            &["a", "b"],
            vec![attr_int("axis", -1), attr_ints("split", &[1, 4])],
        ),
        back(&["a", "b"]),
    ];
    let g = import_opset(nodes, vec![], &[2, 5], 11);
    assert_close(
        &run(&g, &x),
        &[1.0, 2.0, 3.0, 4.0, 0.0, 6.0, 7.0, 8.0, 9.0, 5.0],
    );
    // Equal parts, the last smaller: 5 into 3 + 2.
    let nodes = vec![
        node(
            "Split",
            "sp",
            &["x"],
            &["a", "b"],
            vec![attr_int("axis", 1)],
        ),
        back(&["a", "b"]),
    ];
    let g = import(nodes, vec![], &[2, 5]);
    assert_close(
        &run(&g, &x),
        &[3.0, 4.0, 0.0, 1.0, 2.0, 8.0, 9.0, 5.0, 6.0, 7.0],
    );
    // Sizes that do not add up name the node.
    let nodes = vec![
        node(
            "Split",
            "sp",
            &["x", "s"],
            &["a", "b"],
            vec![attr_int("axis", 1)],
        ),
        back(&["a", "b"]),
    ];
    let e = import_err(nodes, vec![int64_tensor("s", &[2], &[2, 2])], &[2, 5]).to_string();
    assert!(e.contains("`sp`") && e.contains("add up"), "{e}");
}
