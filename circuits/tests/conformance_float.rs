//! End to end from float graphs: every float op the importer produces is quantized, run by
//! the reference semantics and the candle runtime (which must agree bit for bit), and proven
//! by the circuit (MockProver accepts the honest output and rejects it off by one).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use halo2_proofs::dev::MockProver;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zkinfer_circuits::{plan, public_values_of, Fr, ModelCircuit};
use zkinfer_compiler::graph::{Graph, Node, Op, UnaryFn};
use zkinfer_compiler::testkit::uniform;
use zkinfer_compiler::{quantize_tuned, Interpolation, QuantizeConfig};
use zkinfer_ir::geometry::ConvGeom;
use zkinfer_ir::input::quantize_values;

/// Quantizes `g` (small scales, small tables) on calibration rows in `[lo, hi)`, then checks
/// reference == runtime and the circuit on fresh inputs from the same range.
fn check(g: &Graph, lo: f64, hi: f64, seed: u64) {
    check_tuned(g, lo, hi, seed, &Interpolation::new()).expect("a plain table");
}

/// [`check`] with lookups interpolated as `interp` says; returns the compiled graph (`None`
/// when the compiler refuses the interpolation).
fn check_tuned(
    g: &Graph,
    lo: f64,
    hi: f64,
    seed: u64,
    interp: &Interpolation,
) -> Option<zkinfer_ir::QGraph> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = g.input_numel();
    let mut row = || -> Vec<f64> { (0..n).map(|_| rng.gen_range(lo..hi)).collect() };
    let calib: Vec<Vec<f64>> = (0..4).map(|_| row()).collect();
    let config = QuantizeConfig {
        scale: 7,
        weight_scale: 7,
        headroom_bits: 1,
        table_scale: 6,
        ..QuantizeConfig::DEFAULT
    };
    let q = quantize_tuned(
        g,
        &calib,
        config,
        &Default::default(),
        interp,
        "float-conformance",
    );
    let q = match q {
        Ok(q) => q.graph,
        // An interpolation grid that reaches a pole or an edge of the function is refused
        // (the compile search then keeps the plain table).
        Err(zkinfer_compiler::QuantizeError::Table { detail, .. })
            if !interp.is_empty() && detail.contains("interpolation grid") =>
        {
            return None;
        }
        Err(e) => panic!("{e}"),
    };
    for case in 0..2 {
        // A fresh row inside the calibrated range (the calibration rows' own hull).
        let x: Vec<f64> = (0..n)
            .map(|i| calib[case % calib.len()][i] * 0.75)
            .collect();
        let input = quantize_values(&x, q.input.scale);
        let reference = q.eval(&input).unwrap();
        let ran = zkinfer_runtime::run(&q, &input, &zkinfer_runtime::cpu()).unwrap();
        assert_eq!(ran, reference, "runtime != reference, case {case}");
        let output = reference.get(q.output).unwrap().to_vec();
        let params = plan(&q).unwrap().params;
        let circuit =
            ModelCircuit::with_trace(Arc::new(q.clone()), params.clone(), Arc::new(reference));
        let honest = MockProver::run(
            params.k,
            &circuit,
            vec![public_values_of(&q, &params, &input, &output, Fr::zero())],
        )
        .unwrap();
        assert_eq!(
            honest.verify(),
            Ok(()),
            "honest trace rejected, case {case}"
        );
        let mut wrong = output.clone();
        let at = case % wrong.len();
        wrong[at] += 1;
        let lying = MockProver::run(
            params.k,
            &circuit,
            vec![public_values_of(&q, &params, &input, &wrong, Fr::zero())],
        )
        .unwrap();
        assert!(
            lying.verify().is_err(),
            "wrong output accepted, case {case}"
        );
    }
    Some(q)
}

fn pool_geom(c: usize, h: usize, k: usize, s: usize, p: usize) -> ConvGeom {
    ConvGeom {
        in_channels: c,
        in_h: h,
        in_w: h,
        out_channels: c,
        kernel: [k, k],
        stride: [s, s],
        pads: [p; 4],
        dilation: [1, 1],
        groups: c,
    }
}

#[test]
fn conv_pools_and_batchnorm_style_scaling() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let geom = ConvGeom {
        in_channels: 2,
        in_h: 6,
        in_w: 6,
        out_channels: 2,
        kernel: [3, 3],
        stride: [1, 1],
        pads: [1, 1, 1, 1],
        dilation: [1, 1],
        groups: 2,
    };
    let nodes = vec![
        Node::new(
            "conv",
            Op::Conv {
                weight: uniform(&mut rng, geom.weight_len(), 0.5),
                bias: uniform(&mut rng, 2, 0.5),
                geom,
            },
            vec![0],
            vec![1, 2, 6, 6],
        ),
        Node::new("relu", Op::Relu, vec![1], vec![1, 2, 6, 6]),
        Node::new(
            "maxpool",
            Op::MaxPool {
                geom: pool_geom(2, 6, 2, 2, 1),
            },
            vec![2],
            vec![1, 2, 4, 4],
        ),
        Node::new(
            "avgpool",
            Op::AvgPool {
                geom: pool_geom(2, 4, 3, 1, 1),
                count_include_pad: false,
            },
            vec![3],
            vec![1, 2, 4, 4],
        ),
        Node::new(
            "scale",
            Op::MulConst {
                constant: uniform(&mut rng, 32, 1.5),
            },
            vec![4],
            vec![1, 2, 4, 4],
        ),
        Node::new(
            "global",
            Op::AvgPool {
                geom: pool_geom(2, 4, 4, 1, 0),
                count_include_pad: true,
            },
            vec![5],
            vec![1, 2, 1, 1],
        ),
    ];
    check(&Graph::chain(vec![1, 2, 6, 6], nodes), -1.0, 1.0, 11);
}

#[test]
fn every_table_function() {
    for func in UnaryFn::ALL {
        let nodes = vec![Node::new(
            func.name(),
            Op::Unary { func },
            vec![0],
            vec![1, 6],
        )];
        let (lo, hi) = func.spec().sample;
        check(&Graph::chain(vec![1, 6], nodes), lo, hi, 12);
    }
}

#[test]
fn every_table_function_interpolated() {
    // A table every 2^2 arguments, interpolated: the grid rescale, offset, two lookups,
    // product, correction and rounding agree between the reference, the runtime and the
    // circuit (the honest trace proves, a wrong output does not).
    let mut interpolated = 0;
    for func in UnaryFn::ALL {
        let nodes = vec![Node::new(
            func.name(),
            Op::Unary { func },
            vec![0],
            vec![1, 6],
        )];
        let (lo, hi) = func.spec().sample;
        let interp: Interpolation = [(func.name().to_string(), 2)].into_iter().collect();
        let q = check_tuned(&Graph::chain(vec![1, 6], nodes), lo, hi, 13, &interp);
        if q.is_some_and(|q| q.tables.iter().any(|t| t.name.ends_with(" rise"))) {
            interpolated += 1;
        }
    }
    // Every function whose table is wider than one grid step is interpolated.
    assert!(interpolated >= UnaryFn::ALL.len() / 2, "{interpolated}");
}

#[test]
fn attention_block_with_gelu() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (s, d) = (3usize, 4usize);
    let n = s * d;
    let linear = |rng: &mut ChaCha8Rng| Op::Linear {
        weight: uniform(rng, d * d, 0.5),
        bias: uniform(rng, d, 0.2),
        n_in: d,
        n_out: d,
    };
    let transpose: Vec<usize> = (0..n).map(|i| (i % s) * d + i / s).collect();
    let nodes = vec![
        Node::new(
            "ln",
            Op::LayerNorm {
                gamma: uniform(&mut rng, d, 1.0),
                beta: uniform(&mut rng, d, 0.5),
                epsilon: 1e-5,
                group: d,
            },
            vec![0],
            vec![1, s, d],
        ),
        Node::new("q", linear(&mut rng), vec![1], vec![1, s, d]),
        Node::new("k", linear(&mut rng), vec![1], vec![1, s, d]),
        Node::new(
            "kt",
            Op::Select { index: transpose },
            vec![3],
            vec![1, d, s],
        ),
        Node::new(
            "scores",
            Op::MatMul {
                batch: 1,
                m: s,
                k: d,
                n: s,
            },
            vec![2, 4],
            vec![1, s, s],
        ),
        Node::new(
            "scaled",
            Op::MulConst {
                constant: vec![0.5; s * s],
            },
            vec![5],
            vec![1, s, s],
        ),
        Node::new("softmax", Op::Softmax { group: s }, vec![6], vec![1, s, s]),
        Node::new(
            "mix",
            Op::MatMul {
                batch: 1,
                m: s,
                k: s,
                n: d,
            },
            vec![7, 3],
            vec![1, s, d],
        ),
        Node::new("residual", Op::Sub, vec![0, 8], vec![1, s, d]),
        Node::new(
            "erf",
            Op::Unary { func: UnaryFn::Erf },
            vec![9],
            vec![1, s, d],
        ),
        Node::new("gate", Op::Mul, vec![9, 10], vec![1, s, d]),
        Node::new(
            "shift",
            Op::AddConst {
                constant: vec![3.0; n],
            },
            vec![11],
            vec![1, s, d],
        ),
        Node::new("ratio", Op::Div, vec![8, 12], vec![1, s, d]),
    ];
    check(&Graph::chain(vec![1, s, d], nodes), -1.0, 1.0, 13);
}

/// The ONNX activations and reductions built from existing ops (LeakyRelu, PRelu, Clip,
/// HardSwish, n-ary Max/Min/Mean, every Reduce*), imported from ONNX bytes and proven.
#[test]
fn onnx_activation_and_reduction_compositions() {
    use zkinfer_compiler::onnx::encode::{
        attr_float, attr_int, attr_ints, float_tensor, graph, model_bytes, node, value_info_fixed,
        value_info_unshaped,
    };
    let one = |nodes, inits, dims: &[usize]| {
        let bytes = model_bytes(graph(
            nodes,
            inits,
            value_info_fixed("x", dims),
            value_info_unshaped("y"),
        ));
        zkinfer_compiler::onnx::import_bytes(&bytes).unwrap()
    };
    let scalar = |name: &str, v: f32| float_tensor(name, &[], &[v]);
    let elementwise = [
        node(
            "LeakyRelu",
            "leaky",
            &["x"],
            &["a"],
            vec![attr_float("alpha", 0.2)],
        ),
        node("PRelu", "prelu", &["a", "slope"], &["b"], vec![]),
        node("Clip", "clip", &["b", "lo", "hi"], &["c"], vec![]),
        node("HardSwish", "hswish", &["c"], &["d"], vec![]),
        node("Max", "max", &["d", "x", "half"], &["e"], vec![]),
        node("Min", "min", &["e", "a"], &["f"], vec![]),
        node("Mean", "mean", &["f", "x"], &["y"], vec![]),
    ];
    let inits = vec![
        float_tensor("slope", &[2, 1], &[0.5, -0.25]),
        scalar("lo", -0.75),
        scalar("hi", 0.9),
        scalar("half", -0.5),
    ];
    check(&one(elementwise.to_vec(), inits, &[2, 3]), -1.5, 1.5, 21);

    // Comparisons, logic and Where; then ArgMax, Hardmax and LogSoftmax along each axis.
    let logic = vec![
        node("Greater", "gt", &["x", "half"], &["p"], vec![]),
        node("LessOrEqual", "le", &["x", "neg"], &["q"], vec![]),
        node("Or", "or", &["p", "q"], &["r"], vec![]),
        node("Equal", "eq", &["x", "half"], &["e"], vec![]),
        node("Xor", "xor", &["r", "e"], &["c"], vec![]),
        node("Where", "where", &["c", "x", "half"], &["y"], vec![]),
    ];
    let inits = vec![scalar("half", 0.5), scalar("neg", -0.25)];
    check(&one(logic, inits, &[2, 3]), -1.0, 1.0, 23);
    for (op, axis) in [
        ("ArgMax", 0),
        ("ArgMin", 1),
        ("Hardmax", 0),
        ("Hardmax", 1),
        ("LogSoftmax", 0),
        ("LogSoftmax", 1),
    ] {
        let g = one(
            vec![node(op, op, &["x"], &["y"], vec![attr_int("axis", axis)])],
            vec![],
            &[3, 4],
        );
        check(&g, -1.0, 1.0, 24);
    }

    for op in [
        "ReduceSum",
        "ReduceMean",
        "ReduceSumSquare",
        "ReduceL1",
        "ReduceL2",
        "ReduceLogSumExp",
        "ReduceMax",
        "ReduceMin",
    ] {
        // Axes 1 of [2, 3, 2]: a reordering Select, then one value per group of 3.
        let (inputs, inits): (&[&str], _) = if op == "ReduceSum" {
            (
                &["x", "axes"],
                vec![zkinfer_compiler::onnx::encode::int64_tensor(
                    "axes",
                    &[1],
                    &[1],
                )],
            )
        } else {
            (&["x"], vec![])
        };
        let attrs = if op == "ReduceSum" {
            vec![attr_int("keepdims", 0)]
        } else {
            vec![attr_ints("axes", &[1]), attr_int("keepdims", 0)]
        };
        let g = one(vec![node(op, op, inputs, &["y"], attrs)], inits, &[2, 3, 2]);
        check(&g, -1.0, 1.0, 22);
    }
}
