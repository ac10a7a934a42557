//! MatMul between activations (and constant @ activation), Softmax on any axis, LayerNorm.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::util::*;
use zkinfer_compiler::graph::Op;
use zkinfer_compiler::onnx::encode::*;

fn transpose_last_two(input: &str, output: &str) -> zkinfer_compiler::onnx::proto::NodeProto {
    node(
        "Transpose",
        "/Transpose",
        &[input],
        &[output],
        vec![attr_ints("perm", &[0, 2, 1])],
    )
}

#[test]
fn matmul_of_two_activations() {
    // x [1, 2, 3] @ xᵀ: Gram matrix of the rows [0 1 2] and [3 4 5].
    let nodes = vec![
        transpose_last_two("x", "xt"),
        node("MatMul", "/MatMul", &["x", "xt"], &["y"], vec![]),
    ];
    let g = import(nodes, vec![], &[1, 2, 3]);
    assert_eq!(kinds(&g), ["Select", "MatMul"]);
    assert_eq!(
        g.nodes[1].op,
        Op::MatMul {
            batch: 1,
            m: 2,
            k: 3,
            n: 2
        }
    );
    assert_eq!(out_shape(&g), [1, 2, 2]);
    assert_close(&run(&g, &iota(6)), &[5., 14., 14., 50.]);
}

#[test]
fn matmul_broadcasts_batch_axes() {
    // x [2, 2, 2] = [[1 2] [3 4]], [[5 6] [7 8]]; b = x[0:1] is [1, 2, 2].
    let inits = vec![int64_tensor("s", &[1], &[0]), int64_tensor("e", &[1], &[1])];
    let first = node("Slice", "first", &["x", "s", "e"], &["b"], vec![]);
    let x: Vec<f64> = (1..=8).map(f64::from).collect();
    let nodes = vec![
        first.clone(),
        node("MatMul", "mm", &["x", "b"], &["y"], vec![]),
    ];
    let g = import(nodes, inits.clone(), &[2, 2, 2]);
    assert_eq!(kinds(&g), ["Select", "Select", "MatMul"]);
    assert_eq!(g.nodes[1].name, "mm/broadcast_b");
    assert_eq!(g.nodes[1].shape, [2, 2, 2]);
    assert_eq!(out_shape(&g), [2, 2, 2]);
    assert_close(&run(&g, &x), &[7., 10., 15., 22., 23., 34., 31., 46.]);

    let nodes = vec![first, node("MatMul", "mm", &["b", "x"], &["y"], vec![])];
    let g = import(nodes, inits, &[2, 2, 2]);
    assert_eq!(g.nodes[1].name, "mm/broadcast_a");
    assert_close(&run(&g, &x), &[7., 10., 15., 22., 19., 22., 43., 50.]);
}

#[test]
fn matmul_by_a_constant_with_batch_axes() {
    // W [2, 3, 2] holds two matrices; x [2, 3] broadcasts against both (and xᵀ [3, 2] the
    // other way round): y[b] = x @ W[b], z[b] = W'[b] @ xᵀ.
    let w: Vec<f32> = (0..12).map(|v| v as f32 - 5.0).collect();
    let x: Vec<f64> = (0..6).map(|v| f64::from(v) * 0.5).collect();
    let ws: Vec<f64> = w.iter().map(|&v| f64::from(v)).collect();
    let mm = node("MatMul", "mm", &["x", "W"], &["y"], vec![]);
    let g = import(vec![mm], vec![float_tensor("W", &[2, 3, 2], &w)], &[2, 3]);
    assert_eq!(out_shape(&g), [2, 2, 2]);
    let want: Vec<f64> = (0..2)
        .flat_map(|b| (0..2).flat_map(move |i| (0..2).map(move |j| (b, i, j))))
        .map(|(b, i, j)| (0..3).map(|p| x[i * 3 + p] * ws[b * 6 + p * 2 + j]).sum())
        .collect();
    assert_close(&run(&g, &x), &want);
    let nodes = vec![
        node(
            "Transpose",
            "t",
            &["x"],
            &["xt"],
            vec![attr_ints("perm", &[1, 0])],
        ),
        node("MatMul", "mm", &["W", "xt"], &["y"], vec![]),
    ];
    let g = import(nodes, vec![float_tensor("W", &[2, 2, 3], &w)], &[2, 3]);
    let want: Vec<f64> = (0..2)
        .flat_map(|b| (0..2).flat_map(move |i| (0..2).map(move |j| (b, i, j))))
        .map(|(b, i, j)| (0..3).map(|p| ws[b * 6 + i * 3 + p] * x[j * 3 + p]).sum())
        .collect();
    assert_close(&run(&g, &x), &want);
}

#[test]
fn matmul_with_vectors() {
    // x [2, 3] = [[0 1 2] [3 4 5]]; v = x[0] = [0 1 2].
    let i = int64_tensor("i", &[], &[0]);
    let gather = node("Gather", "row", &["x", "i"], &["v"], vec![]);
    let t = node("Transpose", "t", &["x"], &["xt"], vec![]);
    let nodes = vec![
        gather.clone(),
        t,
        node("MatMul", "mm", &["v", "xt"], &["y"], vec![]),
    ];
    let g = import(nodes, vec![i.clone()], &[2, 3]);
    assert_eq!(out_shape(&g), [2]);
    assert_close(&run(&g, &iota(6)), &[5., 14.]);

    let nodes = vec![gather, node("MatMul", "mm", &["x", "v"], &["y"], vec![])];
    let g = import(nodes, vec![i], &[2, 3]);
    assert_eq!(out_shape(&g), [2]);
    assert_close(&run(&g, &iota(6)), &[5., 14.]);

    // By a constant vector: a Linear with one output, then the unit axis is dropped.
    let w = float_tensor("w", &[3], &[1., 1., 2.]);
    let g = import(
        vec![node("MatMul", "mm", &["x", "w"], &["y"], vec![])],
        vec![w],
        &[2, 3],
    );
    assert_eq!(kinds(&g), ["Linear", "Reshape"]);
    assert_eq!(g.nodes[0].shape, [2, 1]);
    assert_eq!(out_shape(&g), [2]);
    assert_close(&run(&g, &iota(6)), &[5., 17.]);
}

#[test]
fn constant_times_activation() {
    // C = [[1 0 0] [0 1 1]]; x = [[1 2] [3 4] [5 6]] -> [[1 2] [8 10]].
    let c = float_tensor("C", &[2, 3], &[1., 0., 0., 0., 1., 1.]);
    let mm = node("MatMul", "mm", &["C", "x"], &["y"], vec![]);
    let g = import(vec![mm.clone()], vec![c.clone()], &[3, 2]);
    assert_eq!(kinds(&g), ["Select", "Linear", "Select"]);
    assert_eq!(g.nodes[0].name, "mm/transpose_in");
    assert_eq!(g.nodes[2].name, "mm/transpose_out");
    assert_eq!(out_shape(&g), [2, 2]);
    assert_close(&run(&g, &[1., 2., 3., 4., 5., 6.]), &[1., 2., 8., 10.]);

    // A single column needs no transposes; nor does a vector.
    let g = import(vec![mm.clone()], vec![c.clone()], &[3, 1]);
    assert_eq!(kinds(&g), ["Reshape", "Linear", "Reshape"]);
    assert_eq!(g.nodes[0].shape, [1, 3], "the Linear reads a row of 3");
    assert_eq!(g.nodes[1].shape, [1, 2]);
    assert_eq!(out_shape(&g), [2, 1]);
    assert_close(&run(&g, &[1., 2., 3.]), &[1., 5.]);
    let g = import(vec![mm], vec![c], &[3]);
    assert_eq!(kinds(&g), ["Linear"]);
    assert_eq!(out_shape(&g), [2]);
    assert_close(&run(&g, &[1., 2., 3.]), &[1., 5.]);
}

#[test]
fn activation_times_constant_with_unit_batch() {
    let w = float_tensor("W", &[1, 3, 2], &[1., 0., 0., 1., 1., 1.]);
    let mm = node("MatMul", "mm", &["x", "W"], &["y"], vec![]);
    let g = import(vec![mm], vec![w], &[2, 3]);
    assert_eq!(kinds(&g), ["Linear"]);
    assert_eq!(out_shape(&g), [1, 2, 2]);
    assert_close(&run(&g, &iota(6)), &[2., 3., 8., 9.]);
}

#[test]
fn softmax_last_axis() {
    let sm = node(
        "Softmax",
        "/Softmax",
        &["x"],
        &["y"],
        vec![attr_int("axis", -1)],
    );
    let g = import(vec![sm], vec![], &[1, 3]);
    assert_eq!(g.nodes[0].op, Op::Softmax { group: 3 });
    let x = [0., 2f64.ln(), 5f64.ln()];
    assert_close(&run(&g, &x), &[0.125, 0.25, 0.625]);
}

#[test]
fn softmax_other_axis() {
    // Axis 0 of [2, 2]: columns [0, ln 3] and [0, -ln 3].
    let sm = node("Softmax", "/sm", &["x"], &["y"], vec![attr_int("axis", 0)]);
    let g = import(vec![sm], vec![], &[2, 2]);
    assert_eq!(kinds(&g), ["Select", "Softmax", "Select"]);
    let names: Vec<&str> = g.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["/sm/to_last", "/sm", "/sm/from_last"]);
    assert_eq!(out_shape(&g), [2, 2]);
    let l3 = 3f64.ln();
    assert_close(&run(&g, &[0., 0., l3, -l3]), &[0.25, 0.75, 0.75, 0.25]);

    // Axis 1 of [1, 3, 1]: contiguous, no transposes.
    let sm = node("Softmax", "sm", &["x"], &["y"], vec![attr_int("axis", 1)]);
    let g = import(vec![sm], vec![], &[1, 3, 1]);
    assert_eq!(kinds(&g), ["Softmax"]);
}

#[test]
fn softmax_middle_axis_matches_reference() {
    // [2, 3, 2], axis 1: compare with a direct computation along the axis.
    let sm = node("Softmax", "sm", &["x"], &["y"], vec![attr_int("axis", 1)]);
    let g = import(vec![sm], vec![], &[2, 3, 2]);
    let x: Vec<f64> = (0..12).map(|i| (i * 7 % 5) as f64 * 0.5).collect();
    let mut want = vec![0.0; 12];
    for a in 0..2 {
        for c in 0..2 {
            let at = |b: usize| a * 6 + b * 2 + c;
            let s: f64 = (0..3).map(|b| x[at(b)].exp()).sum();
            for b in 0..3 {
                want[at(b)] = x[at(b)].exp() / s;
            }
        }
    }
    assert_close(&run(&g, &x), &want);
}

#[test]
fn softmax_before_opset_13_flattens_trailing_axes() {
    // Default axis 1 of [1, 2, 2]: one group of 4 (values e^x = 1, 2, 3, 4).
    let x: Vec<f64> = [1f64, 2., 3., 4.].iter().map(|v| v.ln()).collect();
    let sm = node("Softmax", "sm", &["x"], &["y"], vec![]);
    let g = import_opset(vec![sm.clone()], vec![], &[1, 2, 2], 11);
    assert_eq!(g.nodes[0].op, Op::Softmax { group: 4 });
    assert_close(&run(&g, &x), &[0.1, 0.2, 0.3, 0.4]);
    // Opset 13: default axis -1, rows [1, 2] and [3, 4].
    let g = import(vec![sm], vec![], &[1, 2, 2]);
    assert_close(&run(&g, &x), &[1. / 3., 2. / 3., 3. / 7., 4. / 7.]);
}

#[test]
fn layer_norm_last_axis() {
    // Rows [1, 3] (mean 2, var 1) and [5, 5] (var 0); epsilon 3 makes the std 2 and √3.
    let gamma = float_tensor("g", &[2], &[2., 1.]);
    let beta = float_tensor("b", &[2], &[0., 1.]);
    let ln = node(
        "LayerNormalization",
        "/ln/LayerNormalization",
        &["x", "g", "b"],
        &["y"],
        vec![attr_int("axis", -1), attr_float("epsilon", 3.)],
    );
    let g = import(vec![ln], vec![gamma, beta], &[1, 2, 2]);
    let Op::LayerNorm { group, epsilon, .. } = &g.nodes[0].op else {
        panic!("{:?}", g.nodes[0].op)
    };
    assert_eq!((*group, *epsilon), (2, 3.));
    assert_eq!(out_shape(&g), [1, 2, 2]);
    assert_close(&run(&g, &[1., 3., 5., 5.]), &[-1., 1.5, 0., 1.]);
}

#[test]
fn layer_norm_over_two_axes_without_bias() {
    // axis 1 of [1, 2, 2]: one group [1, 3, 0, 4], mean 2, var 2.5; gamma [1, 2] broadcast.
    let gamma = float_tensor("g", &[2], &[1., 2.]);
    let ln = node(
        "LayerNormalization",
        "ln",
        &["x", "g"],
        &["y"],
        vec![attr_int("axis", 1), attr_float("epsilon", 0.)],
    );
    let g = import(vec![ln], vec![gamma], &[1, 2, 2]);
    let Op::LayerNorm {
        gamma, beta, group, ..
    } = &g.nodes[0].op
    else {
        panic!()
    };
    assert_eq!(
        (gamma.as_slice(), beta.as_slice(), *group),
        (&[1., 2., 1., 2.][..], &[0.; 4][..], 4)
    );
    let s = 2.5f64.sqrt();
    assert_close(
        &run(&g, &[1., 3., 0., 4.]),
        &[-1. / s, 2. / s, -2. / s, 4. / s],
    );
}
