//! Reductions over any axes, keepdims on and off, axes from attributes or input 1.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::util::*;
use zkinfer_compiler::onnx::encode::*;

const DIMS: [usize; 3] = [2, 3, 4];

/// `x` of shape [2, 3, 4]: distinct values of both signs.
fn x() -> Vec<f64> {
    (0..24).map(|i| (f64::from(i) * 0.37).sin() * 2.0).collect()
}

/// The reduction of `x` over `axes` by `f` (a group's values to one), keepdims layout-free.
fn reference(x: &[f64], axes: &[usize], f: &dyn Fn(&[f64]) -> f64) -> Vec<f64> {
    let kept: Vec<usize> = (0..3).filter(|a| !axes.contains(a)).collect();
    let size = |ax: &[usize]| ax.iter().map(|&a| DIMS[a]).product::<usize>();
    let mut out = Vec::new();
    for o in 0..size(&kept) {
        let mut group = Vec::new();
        for r in 0..size(axes) {
            // Unflatten o over kept and r over axes, then index x.
            let mut idx = [0usize; 3];
            let (mut oo, mut rr) = (o, r);
            for &a in kept.iter().rev() {
                idx[a] = oo % DIMS[a];
                oo /= DIMS[a];
            }
            for &a in axes.iter().rev() {
                idx[a] = rr % DIMS[a];
                rr /= DIMS[a];
            }
            group.push(x[(idx[0] * 3 + idx[1]) * 4 + idx[2]]);
        }
        out.push(f(&group));
    }
    out
}

fn sum(g: &[f64]) -> f64 {
    g.iter().sum()
}

type Reduction = (&'static str, fn(&[f64]) -> f64);

const ALL: [Reduction; 8] = [
    ("ReduceSum", sum),
    ("ReduceMean", |g| sum(g) / g.len() as f64),
    ("ReduceSumSquare", |g| g.iter().map(|v| v * v).sum()),
    ("ReduceL1", |g| g.iter().map(|v| v.abs()).sum()),
    ("ReduceL2", |g| g.iter().map(|v| v * v).sum::<f64>().sqrt()),
    ("ReduceLogSumExp", |g| {
        g.iter().map(|v| v.exp()).sum::<f64>().ln()
    }),
    ("ReduceMax", |g| g.iter().copied().fold(f64::MIN, f64::max)),
    ("ReduceMin", |g| g.iter().copied().fold(f64::MAX, f64::min)),
];

#[test]
fn every_reduction_over_every_axis_set_at_opset_17_and_18() {
    let axis_sets: [&[usize]; 5] = [&[2], &[1], &[0, 2], &[0, 1], &[0, 1, 2]];
    for (op, f) in ALL {
        for axes in axis_sets {
            for keepdims in [0, 1] {
                let want = reference(&x(), axes, &f);
                let shape: Vec<usize> = (0..3)
                    .filter(|a| keepdims == 1 || !axes.contains(a))
                    .map(|a| if axes.contains(&a) { 1 } else { DIMS[a] })
                    .collect();
                let ax: Vec<i64> = axes.iter().map(|&a| a as i64).collect();
                // Opset 17: axes attribute (ReduceSum reads input 1 from 13 on).
                let (nodes, inits) = if op == "ReduceSum" {
                    let n = node(
                        op,
                        "/r",
                        &["x", "axes"],
                        &["y"],
                        vec![attr_int("keepdims", keepdims)],
                    );
                    (vec![n], vec![int64_tensor("axes", &[ax.len()], &ax)])
                } else {
                    let attrs = vec![attr_ints("axes", &ax), attr_int("keepdims", keepdims)];
                    (vec![node(op, "/r", &["x"], &["y"], attrs)], vec![])
                };
                let g = import(nodes, inits, &DIMS);
                assert_eq!(out_shape(&g), shape, "{op} {axes:?} {keepdims}");
                assert_eq!(g.nodes.last().unwrap().name, "/r");
                assert_close(&run(&g, &x()), &want);

                // Opset 18: axes from input 1, negative axes allowed.
                let neg: Vec<i64> = ax.iter().map(|a| a - 3).collect();
                let n = node(
                    op,
                    "/r",
                    &["x", "axes"],
                    &["y"],
                    vec![attr_int("keepdims", keepdims)],
                );
                let g = import_opset(
                    vec![n],
                    vec![int64_tensor("axes", &[neg.len()], &neg)],
                    &DIMS,
                    18,
                );
                assert_eq!(out_shape(&g), shape, "{op} {axes:?} {keepdims} @18");
                assert_close(&run(&g, &x()), &want);
            }
        }
    }
}

#[test]
fn last_axis_needs_no_reordering_and_other_axes_one_select() {
    let attrs = |axes: &[i64]| vec![attr_ints("axes", axes)];
    let g = import(
        vec![node("ReduceMean", "/r", &["x"], &["y"], attrs(&[-1]))],
        vec![],
        &DIMS,
    );
    assert_eq!(kinds(&g), ["Reshape", "Linear", "Reshape"]);
    let g = import(
        vec![node("ReduceMax", "/r", &["x"], &["y"], attrs(&[1]))],
        vec![],
        &DIMS,
    );
    assert_eq!(kinds(&g), ["Select", "Reshape", "ReduceMax", "Reshape"]);
}

#[test]
fn default_and_empty_axes() {
    // No axes: every axis; keepdims defaults to 1.
    let g = import(
        vec![node("ReduceSum", "/r", &["x"], &["y"], vec![])],
        vec![],
        &DIMS,
    );
    assert_eq!(out_shape(&g), [1, 1, 1]);
    assert_close(&run(&g, &x()), &[sum(&x())]);
    // noop_with_empty_axes: the identity.
    let nodes = vec![
        node(
            "ReduceSum",
            "/r",
            &["x"],
            &["s"],
            vec![attr_int("noop_with_empty_axes", 1)],
        ),
        node("Relu", "/relu", &["s"], &["y"], vec![]),
    ];
    assert_eq!(kinds(&import(nodes, vec![], &DIMS)), ["Relu"]);
}

#[test]
fn constant_reductions_fold() {
    let nodes = vec![
        node(
            "ReduceMax",
            "/m",
            &["c"],
            &["m"],
            vec![attr_ints("axes", &[0]), attr_int("keepdims", 0)],
        ),
        node("Add", "/a", &["x", "m"], &["y"], vec![]),
    ];
    let c = float_tensor("c", &[2, 2], &[1.0, -4.0, 3.0, -5.0]);
    let g = import(nodes, vec![c], &[2]);
    assert_eq!(kinds(&g), ["AddConst"]);
    assert_close(&run(&g, &[0.5, 0.5]), &[3.5, -3.5]);
}

#[test]
fn bad_axes_are_named_errors() {
    let n = node(
        "ReduceMean",
        "/r",
        &["x"],
        &["y"],
        vec![attr_ints("axes", &[3])],
    );
    let e = import_err(vec![n], vec![], &DIMS);
    assert!(
        e.to_string().contains("/r") && e.to_string().contains("axes"),
        "{e}"
    );
    // Computed axes.
    let nodes = vec![
        node("Relu", "/relu", &["x"], &["a"], vec![]),
        node("ReduceSum", "/r", &["x", "a"], &["y"], vec![]),
    ];
    let e = import_err(nodes, vec![], &DIMS);
    assert!(e.to_string().contains("`a`"), "{e}");
}

#[test]
fn reduce_prod_over_any_axes() {
    let prod = |g: &[f64]| g.iter().product::<f64>();
    for axes in [vec![0usize], vec![1], vec![2], vec![0, 2], vec![0, 1, 2]] {
        let ax: Vec<i64> = axes.iter().map(|&a| a as i64).collect();
        let n = node(
            "ReduceProd",
            "rp",
            &["x"],
            &["y"],
            vec![attr_ints("axes", &ax), attr_int("keepdims", 0)],
        );
        let g = import_opset(vec![n], vec![], &DIMS, 17);
        let got = run(&g, &x());
        let want = reference(&x(), &axes, &prod);
        for (a, b) in got.iter().zip(&want) {
            assert!(
                (a - b).abs() < 1e-9 * (1.0 + b.abs()),
                "{axes:?}: {got:?} vs {want:?}"
            );
        }
    }
}
