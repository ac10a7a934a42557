//! Quantizer tests for the convolution, pooling, lookup, softmax and normalization lowerings.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use zkinfer_compiler::error::EvalError;
use zkinfer_compiler::graph::{Node, Op, UnaryFn};
use zkinfer_compiler::quantize::*;
use zkinfer_compiler::testkit::uniform;
use zkinfer_compiler::{Graph, QuantizeError};
use zkinfer_ir::geometry::ConvGeom;
use zkinfer_ir::input::quantize_values;

fn calib(rng: &mut ChaCha8Rng, rows: usize, n: usize, amp: f64) -> Vec<Vec<f64>> {
    (0..rows)
        .map(|_| (0..n).map(|_| rng.gen_range(-amp..amp)).collect())
        .collect()
}

/// Compiles `g` on `rows` and returns (output error, output scale) measured on fresh rows.
fn check(g: &Graph, rows: &[Vec<f64>], fresh: &[Vec<f64>], max_err: f64) -> Quantized {
    let q = quantize(g, rows, QuantizeConfig::default(), "src").expect("quantize");
    let report = accuracy(g, &q, fresh).expect("accuracy on fresh rows");
    assert!(
        report.output_max_abs_error < max_err,
        "error {} >= {max_err}: {report:#?}",
        report.output_max_abs_error
    );
    assert_eq!(report.nodes.len(), g.nodes.len());
    q
}

#[test]
fn conv_relu_pools_are_accurate() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let geom = ConvGeom {
        in_channels: 2,
        in_h: 8,
        in_w: 8,
        out_channels: 3,
        kernel: [3, 3],
        stride: [1, 1],
        pads: [1, 1, 1, 1],
        dilation: [1, 1],
        groups: 1,
    };
    let pool = |c: usize, h: usize, k: usize, s: usize, p: usize| ConvGeom {
        in_channels: c,
        in_h: h,
        in_w: h,
        out_channels: c,
        kernel: [k, k],
        stride: [s, s],
        pads: [p; 4],
        dilation: [1, 1],
        groups: c,
    };
    let nodes = vec![
        Node::new(
            "conv",
            Op::Conv {
                weight: uniform(&mut rng, geom.weight_len(), 0.5),
                bias: uniform(&mut rng, 3, 0.5),
                geom,
            },
            vec![0],
            vec![1, 3, 8, 8],
        ),
        Node::new("relu", Op::Relu, vec![1], vec![1, 3, 8, 8]),
        Node::new(
            "avg",
            Op::AvgPool {
                geom: pool(3, 8, 2, 2, 0),
                count_include_pad: true,
            },
            vec![2],
            vec![1, 3, 4, 4],
        ),
        Node::new(
            "avg_pad",
            Op::AvgPool {
                geom: pool(3, 4, 3, 1, 1),
                count_include_pad: false,
            },
            vec![3],
            vec![1, 3, 4, 4],
        ),
        Node::new(
            "max",
            Op::MaxPool {
                geom: pool(3, 4, 2, 2, 1),
            },
            vec![4],
            vec![1, 3, 3, 3],
        ),
    ];
    let g = Graph::chain(vec![1, 2, 8, 8], nodes);
    let rows = calib(&mut rng, 4, 128, 1.0);
    let fresh = calib(&mut rng, 4, 128, 1.0);
    let q = check(&g, &rows, &fresh, 1e-3);
    let kinds: Vec<_> = q.graph.nodes.iter().map(|n| n.op.kind()).collect();
    assert!(kinds.contains(&"Conv") && kinds.contains(&"Max") && kinds.contains(&"MulConst"));
}

#[test]
fn sigmoid_table_is_accurate_and_out_of_domain_is_named() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let nodes = vec![
        Node::new(
            "fc",
            Op::Linear {
                weight: uniform(&mut rng, 32, 0.5),
                bias: uniform(&mut rng, 4, 0.5),
                n_in: 8,
                n_out: 4,
            },
            vec![0],
            vec![1, 4],
        ),
        Node::new(
            "sig",
            Op::Unary {
                func: UnaryFn::Sigmoid,
            },
            vec![1],
            vec![1, 4],
        ),
        Node::new("exp", Op::Unary { func: UnaryFn::Exp }, vec![2], vec![1, 4]),
    ];
    let g = Graph::chain(vec![1, 8], nodes);
    let rows = calib(&mut rng, 8, 8, 1.0);
    let q = check(&g, &rows, &rows, 2e-3);
    assert_eq!(q.graph.tables.len(), 2);
}

#[test]
fn an_argument_beyond_the_calibrated_domain_is_a_named_error() {
    // y = tanh(x0 - x1): calibrated only on x0 = x1, so the table covers a narrow domain.
    let nodes = vec![
        Node::new(
            "diff",
            Op::Linear {
                weight: vec![1.0, -1.0],
                bias: vec![0.0],
                n_in: 2,
                n_out: 1,
            },
            vec![0],
            vec![1, 1],
        ),
        Node::new(
            "tanh",
            Op::Unary {
                func: UnaryFn::Tanh,
            },
            vec![1],
            vec![1, 1],
        ),
    ];
    let g = Graph::chain(vec![1, 2], nodes);
    let rows = vec![vec![0.5, 0.5], vec![-0.25, -0.25]];
    let q = quantize(&g, &rows, QuantizeConfig::default(), "src").expect("quantize");
    let table = q.graph.tables.first().expect("one table");
    assert!(table.values.len() < 1000, "{}", table.values.len());
    q.graph.eval(&[100, 100]).expect("inside the domain");
    let e = q
        .graph
        .eval(&[4096, -4096])
        .expect_err("outside the domain");
    match &e {
        EvalError::OutOfDomain {
            node,
            value,
            lo,
            hi,
            ..
        } => {
            assert_eq!(node, "tanh");
            assert_eq!(*value, 8192 >> 3, "rescaled to the table scale 2^10");
            assert!(*lo <= 0 && *hi < *value);
        }
        other => panic!("wrong error: {other}"),
    }
    let msg = e.to_string();
    assert!(
        msg.contains("`tanh`") && msg.contains("tanh table") && msg.contains("recompile"),
        "{msg}"
    );
}

#[test]
fn softmax_and_layernorm_are_accurate() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let nodes = vec![
        Node::new(
            "ln",
            Op::LayerNorm {
                gamma: uniform(&mut rng, 8, 1.0),
                beta: uniform(&mut rng, 8, 1.0),
                epsilon: 1e-5,
                group: 8,
            },
            vec![0],
            vec![1, 4, 8],
        ),
        Node::new("sm", Op::Softmax { group: 8 }, vec![1], vec![1, 4, 8]),
        Node::new(
            "bt",
            Op::Select {
                index: (0..32).map(|i| (i % 4) * 8 + i / 4).collect(),
            },
            vec![2],
            vec![1, 8, 4],
        ),
        Node::new(
            "mm",
            Op::MatMul {
                batch: 1,
                m: 4,
                k: 8,
                n: 4,
            },
            vec![2, 3],
            vec![1, 4, 4],
        ),
    ];
    let g = Graph::chain(vec![1, 4, 8], nodes);
    let rows = calib(&mut rng, 6, 32, 2.0);
    let q = check(&g, &rows, &rows, 2e-3);
    // Softmax rows sum to one within rounding.
    let trace = q
        .graph
        .eval(&quantize_values(rows.first().expect("row"), 13))
        .expect("eval");
    let sm = q.float_to_q.get(2).copied().expect("softmax");
    let p = trace.get(sm).expect("softmax values");
    for row in p.chunks(8) {
        let s: i64 = row.iter().sum();
        assert!((s - 8192).abs() <= 8, "{s}");
    }
}

/// The ONNX nodes and initializers that import as `func` applied to `x`, giving `y`.
fn onnx_nodes_for(
    func: UnaryFn,
) -> (
    Vec<zkinfer_compiler::onnx::proto::NodeProto>,
    Vec<zkinfer_compiler::onnx::proto::TensorProto>,
) {
    use zkinfer_compiler::onnx::encode::{
        attr_float, attr_string, float_tensor, node as onnx_node,
    };
    let one = |op: &str, attrs| vec![onnx_node(op, "/f", &["x"], &["y"], attrs)];
    match func {
        UnaryFn::Rsqrt => (
            vec![
                onnx_node("Sqrt", "/sqrt", &["x"], &["r"], vec![]),
                onnx_node("Reciprocal", "/f", &["r"], &["y"], vec![]),
            ],
            vec![],
        ),
        UnaryFn::Gelu => (one("Gelu", vec![]), vec![]),
        UnaryFn::Trunc => (
            one(
                "Cast",
                vec![zkinfer_compiler::onnx::encode::attr_int("to", 7)],
            ),
            vec![],
        ),
        UnaryFn::GeluTanh => (
            one("Gelu", vec![attr_string("approximate", "tanh")]),
            vec![],
        ),
        UnaryFn::Elu { alpha } | UnaryFn::Celu { alpha } => (
            one(
                func.spec().onnx_op,
                vec![attr_float("alpha", alpha.get() as f32)],
            ),
            vec![],
        ),
        UnaryFn::Selu { alpha, gamma } => (
            one(
                "Selu",
                vec![
                    attr_float("alpha", alpha.get() as f32),
                    attr_float("gamma", gamma.get() as f32),
                ],
            ),
            vec![],
        ),
        UnaryFn::Pow { exponent } => (
            vec![onnx_node("Pow", "/f", &["x", "e"], &["y"], vec![])],
            vec![float_tensor("e", &[], &[exponent.get() as f32])],
        ),
        plain => {
            assert_eq!(UnaryFn::from_onnx(plain.spec().onnx_op), Some(plain));
            (one(plain.spec().onnx_op, vec![]), vec![])
        }
    }
}

/// Every tabulated function, from an ONNX node through import, tables and accuracy: a new
/// function added to `UnaryFn::ALL` is covered here without a new test.
#[test]
fn every_unary_function_imports_and_tabulates_accurately() {
    use zkinfer_compiler::onnx::encode::{graph as onnx_graph, model_bytes, value_info_fixed};
    assert_eq!(UnaryFn::from_onnx("Rsqrt"), None, "not a standard ONNX op");
    for func in UnaryFn::ALL {
        let spec = func.spec();
        let (nodes, inits) = onnx_nodes_for(func);
        let bytes = model_bytes(onnx_graph(
            nodes,
            inits,
            value_info_fixed("x", &[1, 64]),
            value_info_fixed("y", &[1, 64]),
        ));
        let g = zkinfer_compiler::onnx::import_bytes(&bytes).expect("import");
        assert_eq!(g.nodes.len(), 1, "{}", spec.name);
        assert!(
            matches!(g.nodes[0].op, Op::Unary { func: f } if f == func),
            "{}: {:?}",
            spec.name,
            g.nodes[0].op
        );
        let (lo, hi) = spec.sample;
        let row: Vec<f64> = (0..64)
            .map(|i| lo + (hi - lo) * f64::from(i) / 63.0)
            .collect();
        let q = quantize(
            &g,
            std::slice::from_ref(&row),
            QuantizeConfig::default(),
            "src",
        )
        .expect("quantize");
        // Floor, Ceil, Trunc and Round are exact rescales; every other function is one table.
        let table_free = matches!(
            func,
            UnaryFn::Floor | UnaryFn::Ceil | UnaryFn::Trunc | UnaryFn::Round
        );
        assert_eq!(
            q.graph.tables.len(),
            usize::from(!table_free),
            "{}",
            spec.name
        );
        if !table_free {
            assert_eq!(q.graph.tables[0].name, spec.name);
        }
        let report = accuracy(&g, &q, std::slice::from_ref(&row)).expect("accuracy");
        // Arguments at 2^10, values at 2^13: the error is the argument's rounding times the
        // slope, plus half an output ulp.
        // (The sample points of the step functions sit away from their jumps.)
        let slope = row
            .windows(2)
            .map(|w| ((func.eval(w[1]) - func.eval(w[0])) / (w[1] - w[0])).abs())
            .fold(0.0f64, f64::max);
        let tol = slope * 2f64.powi(-11) * 1.5 + 2e-4;
        assert!(
            report.output_max_abs_error <= tol,
            "{}: {} > {tol}",
            spec.name,
            report.output_max_abs_error
        );
    }
}

/// Floor, Ceil and Trunc lower to rescales, exact on every representable argument: integers, halves
/// and values just either side of them, over a range no table would cover cheaply.
#[test]
fn floor_and_ceil_are_exact_without_a_table() {
    for func in [UnaryFn::Floor, UnaryFn::Ceil, UnaryFn::Trunc] {
        let g = Graph::chain(
            vec![1, 161],
            vec![Node::new("f", Op::Unary { func }, vec![0], vec![1, 161])],
        );
        // Multiples of 1/8 in [-1000, 1000]: exact at the input scale.
        let row: Vec<f64> = (0..161)
            .map(|i| f64::from(i - 80) * 12.5 + f64::from(i % 8) / 8.0)
            .collect();
        let q = quantize(
            &g,
            std::slice::from_ref(&row),
            QuantizeConfig::default(),
            "src",
        )
        .expect("quantize");
        assert!(q.graph.tables.is_empty());
        let report = accuracy(&g, &q, std::slice::from_ref(&row)).expect("accuracy");
        assert_eq!(report.output_max_abs_error, 0.0, "{func:?}: {report:#?}");
    }
}

/// A table domain too large to build is a named error suggesting the fix, not a panic or an
/// allocation of billions of rows.
#[test]
fn an_oversized_table_is_a_named_error() {
    let nodes = vec![Node::new(
        "exp",
        Op::Unary { func: UnaryFn::Exp },
        vec![0],
        vec![1, 2],
    )];
    let g = Graph::chain(vec![1, 2], nodes);
    let config = QuantizeConfig {
        table_scale: 20,
        ..QuantizeConfig::default()
    };
    let err = quantize(&g, &[vec![-1000.0, 1000.0]], config, "src").expect_err("too large");
    assert!(
        matches!(&err, QuantizeError::Table { node, .. } if node == "exp"),
        "{err}"
    );
    assert!(err.to_string().contains("--table-scale"), "{err}");
}

/// A Select reads positions in the concatenation of all its operands, empty ones included,
/// in the float path as in the integer one.
#[test]
fn select_over_an_empty_operand_keeps_positions() {
    let nodes = vec![
        Node::new("empty", Op::Select { index: vec![] }, vec![0], vec![0]),
        Node::new(
            "concat",
            Op::Select {
                index: vec![3, 2, 1, 0],
            },
            vec![1, 0],
            vec![1, 4],
        ),
    ];
    let g = Graph::chain(vec![1, 4], nodes);
    let x = vec![0.5, -0.25, 0.125, 1.0];
    let floats = g.eval_f64(&x);
    assert_eq!(floats[2], vec![1.0, 0.125, -0.25, 0.5]);
    let q = quantize(
        &g,
        std::slice::from_ref(&x),
        QuantizeConfig::default(),
        "src",
    )
    .expect("quantize");
    let report = accuracy(&g, &q, &[x]).expect("accuracy");
    assert_eq!(report.output_max_abs_error, 0.0);
}

#[test]
fn a_mean_over_300_values_keeps_its_precision() {
    // ReduceMean imports as a Linear of weights 1/300: at the default weight scale 1/300 would
    // keep under 8 significant bits (an error of 0.1 on a mean of 50).
    let n = 300;
    let g = Graph::chain(
        vec![1, n],
        vec![Node::new(
            "mean",
            Op::Linear {
                weight: vec![1.0 / n as f32; n],
                bias: vec![0.0],
                n_in: n,
                n_out: 1,
            },
            vec![0],
            vec![1, 1],
        )],
    );
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let rows: Vec<Vec<f64>> = (0..3)
        .map(|_| (0..n).map(|_| rng.gen_range(40.0..60.0)).collect())
        .collect();
    let q = quantize(&g, &rows, QuantizeConfig::default(), "src").expect("quantize");
    let report = accuracy(&g, &q, &rows).expect("accuracy");
    assert!(
        report.output_max_abs_error < 1.5e-4 * 60.0,
        "{}",
        report.output_max_abs_error
    );
}

#[test]
fn a_layer_norm_over_large_values_compiles_at_a_fine_scale() {
    // At 2^18, values near 64 square to 2^50 and their sum over 48 to 2^56: the variance's
    // multiply by 2^22/48 would pass 2^62, so the sum of squares first drops fraction bits.
    let group = 48;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let g = Graph::chain(
        vec![1, 2, group],
        vec![Node::new(
            "ln",
            Op::LayerNorm {
                gamma: uniform(&mut rng, group, 1.0),
                beta: uniform(&mut rng, group, 1.0),
                epsilon: 1e-5,
                group,
            },
            vec![0],
            vec![1, 2, group],
        )],
    );
    let rows = calib(&mut rng, 4, 2 * group, 64.0);
    let config = QuantizeConfig {
        scale: 18,
        ..QuantizeConfig::DEFAULT
    };
    let q = quantize(&g, &rows, config, "src").expect("the variance fits after dropping bits");
    let drop = q
        .graph
        .nodes
        .iter()
        .find(|n| n.name == "ln/var/drop")
        .expect("a rescale drops the sum of squares' low bits");
    assert!(matches!(drop.op, zkinfer_ir::QOp::Rescale { .. }));
    let report = accuracy(&g, &q, &rows).expect("accuracy");
    assert!(
        report.output_max_abs_error < 1e-4,
        "{}",
        report.output_max_abs_error
    );
}
