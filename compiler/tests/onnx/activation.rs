//! Activations composed of existing ops (LeakyRelu, PRelu, Clip, HardSigmoid, HardSwish, the
//! n-ary Max/Min/Sum/Mean), the parametric table functions, Pow and Dropout.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::util::*;
use zkinfer_compiler::graph::{Op, Param, UnaryFn};
use zkinfer_compiler::onnx::encode::*;
use zkinfer_compiler::onnx::ImportError;

const X: [f64; 6] = [-3.0, -1.5, -0.25, 0.0, 0.75, 2.5];

fn scalar(name: &str, v: f32) -> zkinfer_compiler::onnx::proto::TensorProto {
    float_tensor(name, &[], &[v])
}

/// Imports `op` on `x` (shape `[1, 6]`) with `attrs` and extra constant inputs `extra`.
fn one(
    op: &str,
    attrs: Vec<zkinfer_compiler::onnx::proto::AttributeProto>,
) -> zkinfer_compiler::graph::Graph {
    import(
        vec![node(op, "/act", &["x"], &["y"], attrs)],
        vec![],
        &[1, 6],
    )
}

fn apply(f: impl Fn(f64) -> f64) -> Vec<f64> {
    X.iter().map(|&x| f(x)).collect()
}

#[test]
fn leaky_relu_and_prelu() {
    let g = one("LeakyRelu", vec![attr_float("alpha", 0.1)]);
    assert_eq!(kinds(&g), ["Relu", "MulConst", "MulConst", "Add"]);
    assert_eq!(g.nodes.last().unwrap().name, "/act");
    assert_close(&run(&g, &X), &apply(|x| if x < 0.0 { 0.1 * x } else { x }));

    let g = one("LeakyRelu", vec![]);
    assert_close(&run(&g, &X), &apply(|x| if x < 0.0 { 0.01 * x } else { x }));

    // A per-row slope broadcast over the columns.
    let nodes = vec![node("PRelu", "/p", &["x", "s"], &["y"], vec![])];
    let slope = float_tensor("s", &[2, 1], &[0.5, 0.25]);
    let g = import(nodes, vec![slope], &[2, 3]);
    let want: Vec<f64> = X
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let s = if i < 3 { 0.5 } else { 0.25 };
            if x < 0.0 {
                s * x
            } else {
                x
            }
        })
        .collect();
    assert_close(&run(&g, &X), &want);

    // A slope that does not broadcast is a shape error naming the node.
    let nodes = vec![node("PRelu", "/p", &["x", "s"], &["y"], vec![])];
    let e = import_err(nodes, vec![float_tensor("s", &[4], &[0.1; 4])], &[2, 3]);
    assert!(e.to_string().contains("/p"), "{e}");
}

#[test]
fn shrink_is_a_soft_shrink_and_a_jump_is_refused() {
    let g = one(
        "Shrink",
        vec![attr_float("lambd", 0.5), attr_float("bias", 0.5)],
    );
    assert_eq!(g.nodes.last().unwrap().name, "/act");
    let soft = |x: f64| {
        if x > 0.5 {
            x - 0.5
        } else if x < -0.5 {
            x + 0.5
        } else {
            0.0
        }
    };
    assert_close(&run(&g, &X), &apply(soft));
    // ONNX's default (bias 0) is a hard shrink: a jump at ±lambd.
    let nodes = vec![node("Shrink", "/s", &["x"], &["y"], vec![])];
    let e = import_err(nodes, vec![], &[1, 6]).to_string();
    assert!(e.contains("`/s`") && e.contains("bias = lambd"), "{e}");
}

#[test]
fn clip_from_inputs_and_from_attributes() {
    let clip = |x: f64| x.clamp(-1.0, 0.5);
    let nodes = vec![node("Clip", "/c", &["x", "lo", "hi"], &["y"], vec![])];
    let g = import(nodes, vec![scalar("lo", -1.0), scalar("hi", 0.5)], &[1, 6]);
    assert_eq!(g.nodes.last().unwrap().name, "/c");
    assert_close(&run(&g, &X), &apply(clip));

    // Opset 6 reads attributes.
    let attrs = vec![attr_float("min", -1.0), attr_float("max", 0.5)];
    let g = import_opset(
        vec![node("Clip", "/c", &["x"], &["y"], attrs)],
        vec![],
        &[1, 6],
        6,
    );
    assert_close(&run(&g, &X), &apply(clip));

    // Only a lower bound of 0 is one Relu; an empty name skips an input.
    let nodes = vec![node("Clip", "/c", &["x", "lo"], &["y"], vec![])];
    let g = import(nodes, vec![scalar("lo", 0.0)], &[1, 6]);
    assert_eq!(kinds(&g), ["Relu"]);
    let nodes = vec![node("Clip", "/c", &["x", "", "hi"], &["y"], vec![])];
    let g = import(nodes, vec![scalar("hi", 1.0)], &[1, 6]);
    assert_close(&run(&g, &X), &apply(|x| x.min(1.0)));

    // A computed bound is an error naming it.
    let nodes = vec![
        node("Relu", "/r", &["x"], &["r"], vec![]),
        node("Clip", "/c", &["x", "r"], &["y"], vec![]),
    ];
    let e = import_err(nodes, vec![], &[1, 6]);
    assert!(e.to_string().contains("`r`"), "{e}");
}

#[test]
fn hard_sigmoid_and_hard_swish() {
    let g = one("HardSigmoid", vec![]);
    assert_close(&run(&g, &X), &apply(|x| (0.2 * x + 0.5).clamp(0.0, 1.0)));
    let attrs = vec![attr_float("alpha", 0.5), attr_float("beta", 0.25)];
    let g = one("HardSigmoid", attrs);
    assert_close(&run(&g, &X), &apply(|x| (0.5 * x + 0.25).clamp(0.0, 1.0)));
    let g = one("HardSwish", vec![]);
    assert_eq!(g.nodes.last().unwrap().name, "/act");
    assert_close(
        &run(&g, &X),
        &apply(|x| x * (x / 6.0 + 0.5).clamp(0.0, 1.0)),
    );
}

#[test]
fn variadic_max_min_sum_mean_broadcast_and_merge_constants() {
    // y = op(x, relu(x), c, d): x and relu(x) of shape [2, 3], c of shape [3], d a scalar.
    let c = [0.5f32, -2.0, 1.0];
    let case = |op: &str| {
        let nodes = vec![
            node("Relu", "/r", &["x"], &["r"], vec![]),
            node(op, "/v", &["x", "r", "c", "d"], &["y"], vec![]),
        ];
        let inits = vec![float_tensor("c", &[3], &c), scalar("d", 0.25)];
        import(nodes, inits, &[2, 3])
    };
    let want = |f: &dyn Fn(&[f64]) -> f64| -> Vec<f64> {
        X.iter()
            .enumerate()
            .map(|(i, &x)| f(&[x, x.max(0.0), f64::from(c[i % 3]), 0.25]))
            .collect()
    };
    let max = |v: &[f64]| v.iter().copied().fold(f64::MIN, f64::max);
    let min = |v: &[f64]| v.iter().copied().fold(f64::MAX, f64::min);
    let sum = |v: &[f64]| v.iter().sum::<f64>();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / 4.0;
    for (op, f) in [
        ("Max", &max as &dyn Fn(&[f64]) -> f64),
        ("Min", &min),
        ("Sum", &sum),
        ("Mean", &mean),
    ] {
        let g = case(op);
        assert_eq!(g.nodes.last().unwrap().name, "/v", "{op}");
        assert_eq!(out_shape(&g), [2, 3], "{op}");
        assert_close(&run(&g, &X), &want(f));
    }

    // One operand is the identity; a broadcast activation operand is expanded.
    let g = import(
        vec![
            node("Max", "/v", &["x"], &["m"], vec![]),
            node("Relu", "/r", &["m"], &["y"], vec![]),
        ],
        vec![],
        &[2, 3],
    );
    assert_eq!(kinds(&g), ["Relu"]);
    let nodes = vec![
        node(
            "ReduceMax",
            "/rm",
            &["x"],
            &["m"],
            vec![attr_ints("axes", &[1])],
        ),
        node("Sum", "/v", &["x", "m"], &["y"], vec![]),
    ];
    let g = import(nodes, vec![], &[2, 3]);
    let want: Vec<f64> = X
        .iter()
        .enumerate()
        .map(|(i, &x)| x + if i < 3 { -0.25 } else { 2.5 })
        .collect();
    assert_close(&run(&g, &X), &want);
}

#[test]
fn parametric_table_functions_read_their_attributes() {
    let elu = one("Elu", vec![attr_float("alpha", 0.5)]);
    let func = UnaryFn::Elu {
        alpha: Param::new(0.5),
    };
    assert_eq!(elu.nodes[0].op, Op::Unary { func });
    assert_close(&run(&elu, &X), &apply(|x| func.eval(x)));

    let default = one("Selu", vec![]);
    let want = UnaryFn::Selu {
        alpha: Param::new(zkinfer_compiler::unary::SELU_ALPHA),
        gamma: Param::new(zkinfer_compiler::unary::SELU_GAMMA),
    };
    assert_eq!(default.nodes[0].op, Op::Unary { func: want });
    assert_close(
        &run(&default, &[-1.0, 0.0, 1.0, 2.0, -3.0, 0.5]),
        &[-1.0, 0.0, 1.0, 2.0, -3.0, 0.5].map(|x| {
            let (a, l) = (1.673_263_2, 1.050_701);
            if x > 0.0 {
                l * x
            } else {
                l * a * (f64::exp(x) - 1.0)
            }
        }),
    );

    let celu = one("Celu", vec![attr_float("alpha", 2.0)]);
    assert_close(
        &run(&celu, &X),
        &apply(|x| x.max(0.0) + (2.0 * ((x / 2.0).exp() - 1.0)).min(0.0)),
    );
    let e = import_err(
        vec![node(
            "Celu",
            "/c",
            &["x"],
            &["y"],
            vec![attr_float("alpha", 0.0)],
        )],
        vec![],
        &[1, 6],
    );
    assert!(matches!(e, ImportError::BadAttribute { .. }), "{e}");

    let exact = one("Gelu", vec![]);
    assert_eq!(
        exact.nodes[0].op,
        Op::Unary {
            func: UnaryFn::Gelu
        }
    );
    let tanh = one("Gelu", vec![attr_string("approximate", "tanh")]);
    assert_eq!(
        tanh.nodes[0].op,
        Op::Unary {
            func: UnaryFn::GeluTanh
        }
    );
    let a = run(&exact, &X);
    let b = run(&tanh, &X);
    for (p, q) in a.iter().zip(&b) {
        assert!((p - q).abs() < 1e-3 && (p - q).abs() > 0.0 || p.abs() < 1e-12);
    }
    let e = import_err(
        vec![node(
            "Gelu",
            "/g",
            &["x"],
            &["y"],
            vec![attr_string("approximate", "fast")],
        )],
        vec![],
        &[1, 6],
    );
    assert!(e.to_string().contains("fast"), "{e}");
}

#[test]
fn pow_by_a_constant_exponent() {
    let pow = |e: f32| {
        let nodes = vec![
            node("Pow", "/p", &["x", "e"], &["q"], vec![]),
            node("Relu", "/r", &["q"], &["y"], vec![]),
        ];
        import(nodes, vec![scalar("e", e)], &[1, 6])
    };
    let pos = [0.25, 0.5, 1.0, 2.0, 3.0, 4.0];
    let relu_of = |f: &dyn Fn(f64) -> f64| pos.map(|x| f(x).max(0.0));
    assert_eq!(kinds(&pow(1.0)), ["Relu"]);
    assert_eq!(kinds(&pow(2.0)), ["Mul", "Relu"]);
    assert_close(&run(&pow(2.0), &X), &apply(|x| (x * x).max(0.0)));
    assert_eq!(kinds(&pow(3.0)), ["Mul", "Mul", "Relu"]);
    assert_close(&run(&pow(3.0), &X), &apply(|x| (x * x * x).max(0.0)));
    let table = |e: f32| match pow(e).nodes[0].op {
        Op::Unary { func } => func,
        ref other => panic!("{other:?}"),
    };
    assert_eq!(table(0.5), UnaryFn::Sqrt);
    assert_eq!(table(-0.5), UnaryFn::Rsqrt);
    assert_eq!(table(-1.0), UnaryFn::Reciprocal);
    assert_eq!(
        table(1.5),
        UnaryFn::Pow {
            exponent: Param::new(1.5)
        }
    );
    assert_close(&run(&pow(1.5), &pos), &relu_of(&|x| x.powf(1.5)));
    assert_close(&run(&pow(-0.5), &pos), &relu_of(&|x| 1.0 / x.sqrt()));

    // A computed exponent: exp(y·ln x) on a positive base, tensor or constant.
    let nodes = vec![
        node("Abs", "/a", &["x"], &["base"], vec![]),
        node("Relu", "/r", &["x"], &["e"], vec![]),
        node("Pow", "/p", &["base", "e"], &["y"], vec![]),
    ];
    let g = import(nodes, vec![], &[1, 6]);
    assert_eq!(g.nodes.last().unwrap().name, "/p");
    let xs = [0.5, 1.5, 2.0, 0.25, 3.0, 1.0];
    let want: Vec<f64> = xs.iter().map(|&x: &f64| x.abs().powf(x.max(0.0))).collect();
    assert_close(&run(&g, &xs), &want);
    let nodes = vec![node("Pow", "/p", &["two", "x"], &["y"], vec![])];
    let g = import(nodes, vec![float_tensor("two", &[], &[2.0])], &[1, 6]);
    let want: Vec<f64> = xs.iter().map(|&x: &f64| 2f64.powf(x)).collect();
    assert_close(&run(&g, &xs), &want);
    // A non-positive constant base has no logarithm: an unsupported use naming the node.
    let nodes = vec![node("Pow", "/p", &["neg", "x"], &["y"], vec![])];
    let e = import_err(nodes, vec![float_tensor("neg", &[], &[-2.0])], &[1, 6]);
    assert!(
        e.to_string().contains("/p") && e.to_string().contains("positive base"),
        "{e}"
    );
    // An exponent of several constant values is refused.
    let nodes = vec![node("Pow", "/p", &["x", "e"], &["y"], vec![])];
    let e = import_err(nodes, vec![float_tensor("e", &[2], &[2.0, 3.0])], &[1, 6]);
    assert!(e.to_string().contains("one constant"), "{e}");
}

#[test]
fn constant_operands_fold() {
    // LeakyRelu, Clip, HardSwish and Pow of constants become one constant added to x.
    let nodes = vec![
        node(
            "LeakyRelu",
            "/l",
            &["c"],
            &["a"],
            vec![attr_float("alpha", 0.5)],
        ),
        node("Clip", "/c", &["a", "lo"], &["b"], vec![]),
        node("HardSwish", "/h", &["b"], &["d"], vec![]),
        node("Pow", "/p", &["d", "two"], &["e"], vec![]),
        node("Add", "/add", &["x", "e"], &["y"], vec![]),
    ];
    let inits = vec![
        float_tensor("c", &[2], &[-4.0, 3.0]),
        scalar("lo", -1.5),
        scalar("two", 2.0),
    ];
    let g = import(nodes, inits, &[2]);
    assert_eq!(kinds(&g), ["AddConst"]);
    let hs = |x: f64| x * (x / 6.0 + 0.5).clamp(0.0, 1.0);
    let fold = |c: f64| hs((if c < 0.0 { 0.5 * c } else { c }).max(-1.5)).powi(2);
    assert_close(&run(&g, &[1.0, 2.0]), &[1.0 + fold(-4.0), 2.0 + fold(3.0)]);
}

#[test]
fn dropout_is_the_identity_at_inference() {
    let nodes = vec![
        node("Dropout", "/d", &["x"], &["z"], vec![]),
        node("Relu", "/r", &["z"], &["y"], vec![]),
    ];
    assert_eq!(kinds(&import(nodes, vec![], &[3])), ["Relu"]);

    let training = |on: bool| {
        let nodes = vec![
            node("Dropout", "/d", &["x", "ratio", "train"], &["z"], vec![]),
            node("Relu", "/r", &["z"], &["y"], vec![]),
        ];
        let train = zkinfer_compiler::onnx::proto::TensorProto {
            name: "train".into(),
            data_type: 9, // BOOL
            int32_data: vec![i32::from(on)],
            ..Default::default()
        };
        (nodes, vec![scalar("ratio", 0.5), train])
    };
    let (nodes, inits) = training(false);
    assert_eq!(kinds(&import(nodes, inits, &[3])), ["Relu"]);
    let (nodes, inits) = training(true);
    let e = import_err(nodes, inits, &[3]);
    assert!(e.to_string().contains("training_mode"), "{e}");
}
