//! Elementwise ops: functions, arithmetic with constants on either side, broadcasting between
//! activations, and constant folding.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::util::*;
use zkinfer_compiler::graph::{Op, UnaryFn};
use zkinfer_compiler::onnx::encode::*;

fn scalar(name: &str, v: f32) -> zkinfer_compiler::onnx::proto::TensorProto {
    float_tensor(name, &[], &[v])
}

#[test]
fn unary_functions() {
    let ln2 = std::f64::consts::LN_2;
    let ln3 = 3f64.ln();
    let cases: [(&str, UnaryFn, [f64; 2], [f64; 2]); 6] = [
        ("Sigmoid", UnaryFn::Sigmoid, [0., ln3], [0.5, 0.75]),
        ("Tanh", UnaryFn::Tanh, [0., ln2], [0., 0.6]),
        (
            "Erf",
            UnaryFn::Erf,
            [0., 0.5],
            [0., 0.520_499_877_813_046_5],
        ),
        ("Exp", UnaryFn::Exp, [0., ln2], [1., 2.]),
        ("Sqrt", UnaryFn::Sqrt, [4., 9.], [2., 3.]),
        ("Reciprocal", UnaryFn::Reciprocal, [4., -0.5], [0.25, -2.]),
    ];
    for (op, func, x, want) in cases {
        let n = node(op, &format!("/{op}"), &["x"], &["y"], vec![]);
        let g = import(vec![n], vec![], &[1, 2]);
        assert_eq!(g.nodes[0].op, Op::Unary { func }, "{op}");
        assert_eq!(g.nodes[0].shape, [1, 2], "{op}");
        assert_close(&run(&g, &x), &want);
    }
}

#[test]
fn reciprocal_of_sqrt_is_one_rsqrt() {
    let nodes = vec![
        node("Sqrt", "s", &["x"], &["r"], vec![]),
        node("Reciprocal", "inv", &["r"], &["y"], vec![]),
    ];
    let g = import(nodes, vec![], &[2]);
    assert_eq!(
        g.nodes[0].op,
        Op::Unary {
            func: UnaryFn::Rsqrt
        }
    );
    assert_eq!(g.nodes.len(), 1);
    assert_close(&run(&g, &[4., 16.]), &[0.5, 0.25]);

    // The square root is read twice: two nodes.
    let nodes = vec![
        node("Sqrt", "s", &["x"], &["r"], vec![]),
        node("Reciprocal", "inv", &["r"], &["i"], vec![]),
        node("Mul", "m", &["r", "i"], &["y"], vec![]),
    ];
    let g = import(nodes, vec![], &[2]);
    assert_eq!(kinds(&g), ["Sqrt", "Reciprocal", "Mul"]);
    assert_close(&run(&g, &[4., 16.]), &[1., 1.]);
}

#[test]
fn arithmetic_with_constants_on_either_side() {
    let x = [1., 2., 4.];
    let inits = || {
        vec![
            float_tensor("v", &[3], &[1., 2., 3.]),
            scalar("ten", 10.),
            scalar("two", 2.),
            scalar("eight", 8.),
            scalar("one", 1.),
        ]
    };
    let case = |op: &str, a: &str, b: &str| {
        let n = node(op, "/op", &[a, b], &["y"], vec![]);
        import(vec![n], inits(), &[3])
    };
    let g = case("Sub", "x", "v");
    assert_eq!(
        g.nodes[0].op,
        Op::AddConst {
            constant: vec![-1., -2., -3.]
        }
    );
    assert_close(&run(&g, &x), &[0., 0., 1.]);
    let g = case("Sub", "ten", "x");
    assert_eq!(kinds(&g), ["MulConst", "AddConst"]);
    assert_eq!(g.nodes[0].name, "/op/neg");
    assert_eq!(g.nodes[1].name, "/op");
    assert_close(&run(&g, &x), &[9., 8., 6.]);
    for (a, b) in [("x", "v"), ("v", "x")] {
        let g = case("Mul", a, b);
        assert_eq!(kinds(&g), ["MulConst"]);
        assert_close(&run(&g, &x), &[1., 4., 12.]);
        let g = case("Add", a, b);
        assert_eq!(kinds(&g), ["AddConst"]);
        assert_close(&run(&g, &x), &[2., 4., 7.]);
    }
    let g = case("Div", "x", "two");
    assert_eq!(
        g.nodes[0].op,
        Op::MulConst {
            constant: vec![0.5; 3]
        }
    );
    assert_close(&run(&g, &x), &[0.5, 1., 2.]);
    let g = case("Div", "eight", "x");
    assert_eq!(kinds(&g), ["Reciprocal", "MulConst"]);
    assert_close(&run(&g, &x), &[8., 4., 2.]);
    let g = case("Div", "one", "x");
    assert_eq!(kinds(&g), ["Reciprocal"]);
    assert_close(&run(&g, &x), &[1., 0.5, 0.25]);
}

#[test]
fn constant_that_widens_the_shape() {
    // x [3] + c [2, 1] -> [2, 3]: x is repeated by a Select first.
    let c = float_tensor("c", &[2, 1], &[10., 20.]);
    let add = node("Add", "add", &["x", "c"], &["y"], vec![]);
    let g = import(vec![add], vec![c], &[3]);
    assert_eq!(kinds(&g), ["Select", "AddConst"]);
    assert_eq!(g.nodes[0].name, "add/broadcast");
    assert_eq!(out_shape(&g), [2, 3]);
    assert_close(&run(&g, &[1., 2., 3.]), &[11., 12., 13., 21., 22., 23.]);

    // Only a leading unit axis is added: a Reshape.
    let c = float_tensor("c", &[1, 3], &[1., 1., 1.]);
    let mul = node("Mul", "mul", &["x", "c"], &["y"], vec![]);
    let g = import(vec![mul], vec![c], &[3]);
    assert_eq!(kinds(&g), ["Reshape", "MulConst"]);
    assert_eq!(out_shape(&g), [1, 3]);
}

#[test]
fn broadcasting_between_activations() {
    // x = [[1,2,3],[4,5,6]]; r = first row [1, 3]; c = first column [2, 1].
    let starts = int64_tensor("s0", &[1], &[0]);
    let ends = int64_tensor("e1", &[1], &[1]);
    let ax0 = int64_tensor("ax0", &[1], &[0]);
    let ax1 = int64_tensor("ax1", &[1], &[1]);
    let inits = || vec![starts.clone(), ends.clone(), ax0.clone(), ax1.clone()];
    let row = node("Slice", "row", &["x", "s0", "e1", "ax0"], &["r"], vec![]);
    let col = node("Slice", "col", &["x", "s0", "e1", "ax1"], &["c"], vec![]);
    let x = [1., 2., 3., 4., 5., 6.];
    let cases: [(&str, [&str; 2], [f64; 6]); 4] = [
        ("Sub", ["x", "r"], [0., 0., 0., 3., 3., 3.]),
        ("Mul", ["r", "x"], [1., 4., 9., 4., 10., 18.]),
        ("Div", ["x", "r"], [1., 1., 1., 4., 2.5, 2.]),
        ("Add", ["c", "r"], [2., 3., 4., 5., 6., 7.]),
    ];
    for (op, [a, b], want) in cases {
        let nodes = vec![
            row.clone(),
            col.clone(),
            node(op, "/bin", &[a, b], &["y"], vec![]),
        ];
        let g = import(nodes, inits(), &[2, 3]);
        assert_eq!(out_shape(&g), [2, 3], "{op}");
        let last = g.nodes.last().unwrap();
        assert_eq!(last.op.kind(), op);
        assert!(
            last.inputs.iter().all(|&t| g.shape_of(t) == [2, 3]),
            "{op}: operands are materialized"
        );
        assert_close(&run(&g, &x), &want);
    }
}

#[test]
fn neg() {
    let g = import(vec![node("Neg", "n", &["x"], &["y"], vec![])], vec![], &[2]);
    assert_eq!(kinds(&g), ["MulConst"]);
    assert_close(&run(&g, &[1., -3.]), &[-1., 3.]);
}

#[test]
fn abs_imports_folds_and_quantizes_exactly() {
    use zkinfer_compiler::graph::ElementOp;
    let g = import(vec![node("Abs", "a", &["x"], &["y"], vec![])], vec![], &[3]);
    assert_eq!(g.nodes[0].op, Op::Elementwise { op: ElementOp::Abs });
    assert_close(&run(&g, &[-1.5, 0., 2.25]), &[1.5, 0., 2.25]);
    // On a constant it folds away: Abs(-2) + x.
    let nodes = vec![
        node("Abs", "k", &["m2"], &["two"], vec![]),
        node("Add", "a", &["x", "two"], &["y"], vec![]),
    ];
    let g = import(nodes, vec![scalar("m2", -2.)], &[2]);
    assert_eq!(kinds(&g), ["AddConst"]);
    assert_close(&run(&g, &[1., -3.]), &[3., -1.]);
    // Quantized, it is one exact integer node at the input's scale and bound.
    let g = import(vec![node("Abs", "a", &["x"], &["y"], vec![])], vec![], &[3]);
    let config = zkinfer_compiler::QuantizeConfig::default();
    let q = zkinfer_compiler::quantize(&g, &[vec![-1.0, 0.5, 1.0]], config, "abs").unwrap();
    let last = q.graph.nodes.last().unwrap();
    assert_eq!(last.op.kind(), "Abs");
    assert_eq!(last.out.bound, q.graph.input.bound);
    let x = zkinfer_ir::input::quantize_values(&[-0.75, 0.0, 0.5], config.scale);
    let y = q.graph.eval(&x).unwrap();
    let want: Vec<i64> = x.iter().map(|v| v.abs()).collect();
    assert_eq!(y.get(q.graph.output).unwrap(), want.as_slice());
}

#[test]
fn constants_fold() {
    // ((2 * 3) - 1) / 2 = 2.5 and Sqrt(16) = 4 computed at import; sigmoid(0) too.
    let nodes = vec![
        node(
            "Constant",
            "k",
            &[],
            &["three"],
            vec![attr_float("value_float", 3.)],
        ),
        node("Mul", "m", &["two", "three"], &["six"], vec![]),
        node("Sub", "s", &["six", "one"], &["five"], vec![]),
        node("Div", "d", &["five", "two"], &["c"], vec![]),
        node("Sqrt", "q", &["sixteen"], &["four"], vec![]),
        node("Sigmoid", "sg", &["zero"], &["half"], vec![]),
        node("Neg", "ng", &["half"], &["mhalf"], vec![]),
        node("Add", "a", &["x", "c"], &["t"], vec![]),
        node("Mul", "m2", &["t", "four"], &["u"], vec![]),
        node("Add", "a2", &["u", "mhalf"], &["y"], vec![]),
    ];
    let inits = vec![
        scalar("two", 2.),
        scalar("one", 1.),
        scalar("sixteen", 16.),
        scalar("zero", 0.),
    ];
    let g = import(nodes, inits, &[1]);
    assert_eq!(kinds(&g), ["AddConst", "MulConst", "AddConst"]);
    assert_close(&run(&g, &[1.]), &[13.5]);

    // Integer shape arithmetic stays integer: Reshape to [2 * 3 / 2, -1].
    let nodes = vec![
        node("Mul", "m", &["a", "b"], &["ab"], vec![]),
        node("Div", "d", &["ab", "c"], &["q"], vec![]),
        node(
            "Concat",
            "cat",
            &["q", "m1"],
            &["s"],
            vec![attr_int("axis", 0)],
        ),
        node("Reshape", "r", &["x", "s"], &["y"], vec![]),
    ];
    let inits = vec![
        int64_tensor("a", &[1], &[2]),
        int64_tensor("b", &[1], &[3]),
        int64_tensor("c", &[1], &[2]),
        int64_tensor("m1", &[1], &[-1]),
    ];
    let g = import(nodes, inits, &[1, 6]);
    assert_eq!(kinds(&g), ["Reshape"]);
    assert_eq!(out_shape(&g), [3, 2]);
}
