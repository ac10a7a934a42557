//! Error paths: bad input, violated bounds, malformed graphs and i64 overflow.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use zkinfer_ir::geometry::ConvGeom;
use zkinfer_ir::{EvalError, QOp, QTensor};
use zkinfer_runtime::{
    available_devices, best_device, cpu, device_name, run, select_device, DeviceChoice,
    RuntimeError,
};

fn relu_graph(declared_out_bound: u64) -> zkinfer_ir::QGraph {
    let input = qtensor(&[4], 8, 100);
    let mut g = graph(
        input,
        vec![node(
            "block1.relu",
            QOp::Relu,
            &[0],
            qtensor(&[4], 8, declared_out_bound),
        )],
    );
    g.input_name = "pixels".to_string();
    g
}

#[test]
fn input_out_of_range_names_the_input_and_the_value() {
    let g = relu_graph(100);
    for device in available_devices() {
        let err = run(&g, &[1, 2, -250, 3], &device).unwrap_err();
        assert!(
            matches!(
                &err,
                RuntimeError::Input(EvalError::InputOutOfRange {
                    index: 2,
                    value: -250,
                    bound: 100,
                    ..
                })
            ),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains("pixels") && msg.contains("-250"), "{msg}");
        // The extremes themselves are accepted.
        assert!(run(&g, &[100, -100, 0, 1], &device).is_ok());
    }
}

#[test]
fn wrong_input_length_is_an_error() {
    let g = relu_graph(100);
    for device in available_devices() {
        let err = run(&g, &[1, 2, 3], &device).unwrap_err();
        assert!(
            matches!(
                err,
                RuntimeError::Input(EvalError::InputLength {
                    expected: 4,
                    got: 3
                })
            ),
            "{err:?}"
        );
        assert!(run(&g, &[0; 5], &device).is_err());
    }
}

#[test]
fn violated_bound_names_the_node() {
    let g = relu_graph(5);
    for device in available_devices() {
        // Within the bound: fine.
        assert!(run(&g, &[5, -100, 0, 4], &device).is_ok());
        let err = run(&g, &[5, -100, 7, 4], &device).unwrap_err();
        let RuntimeError::Bound(inner) = &err else {
            panic!("expected a bound error, got {err:?}");
        };
        assert_eq!(g.eval(&[5, -100, 7, 4]).err().as_ref(), Some(inner));
        let msg = err.to_string();
        assert!(msg.contains("block1.relu") && msg.contains('7'), "{msg}");
    }
}

#[test]
fn violated_bound_after_an_f64_linear_is_caught() {
    let input = qtensor(&[2], 0, 10);
    let op = QOp::Linear {
        weight: vec![3, 4],
        bias: vec![1],
        n_in: 2,
        n_out: 1,
    };
    // The true worst case is 71; declare 50.
    let g = graph(input, vec![node("fc", op, &[0], qtensor(&[1], 0, 50))]);
    let err = run(&g, &[10, 10], &cpu()).unwrap_err();
    assert!(
        matches!(&err, RuntimeError::Bound(EvalError::BoundViolated { node, value: 71, .. }) if node == "fc"),
        "{err:?}"
    );
}

#[test]
fn malformed_graphs_are_errors_naming_the_node() {
    let input = qtensor(&[4], 0, 10);
    let future = graph(
        input.clone(),
        vec![node("reads_future", QOp::Relu, &[1], input.clone())],
    );
    let bad_weights = graph(
        input.clone(),
        vec![node(
            "fc",
            QOp::Linear {
                weight: vec![1, 2, 3],
                bias: vec![0],
                n_in: 4,
                n_out: 1,
            },
            &[0],
            qtensor(&[1], 0, 100),
        )],
    );
    let bad_shape = graph(
        input.clone(),
        vec![node("reshape", QOp::Reshape, &[0], qtensor(&[3], 0, 10))],
    );
    let bad_constant = graph(
        input.clone(),
        vec![node(
            "add",
            QOp::Add {
                coef_a: 1,
                coef_b: 0,
                constant: vec![1, 2],
            },
            &[0],
            input,
        )],
    );
    for (g, name) in [
        (future, "reads_future"),
        (bad_weights, "fc"),
        (bad_shape, "reshape"),
        (bad_constant, "add"),
    ] {
        let err = run(&g, &[1, 2, 3, 4], &cpu()).unwrap_err();
        assert!(
            matches!(&err, RuntimeError::Malformed { node, .. } if node == name),
            "{err:?}"
        );
        assert!(err.to_string().contains(name));
    }
}

#[test]
fn accumulators_beyond_i64_are_refused() {
    let input = qtensor(&[2], 0, 1 << 62);
    let linear = graph(
        input.clone(),
        vec![node(
            "fc",
            QOp::Linear {
                weight: vec![1, 1],
                bias: vec![0],
                n_in: 2,
                n_out: 1,
            },
            &[0],
            qtensor(&[1], 0, u64::MAX),
        )],
    );
    let add = graph(
        input,
        vec![node(
            "scale_up",
            QOp::Add {
                coef_a: 2,
                coef_b: 0,
                constant: Vec::new(),
            },
            &[0],
            qtensor(&[2], 0, u64::MAX),
        )],
    );
    for (g, name) in [(linear, "fc"), (add, "scale_up")] {
        let err = run(&g, &[1, 2], &cpu()).unwrap_err();
        assert!(
            matches!(&err, RuntimeError::Overflow { node, worst_case } if node == name && *worst_case == 1 << 63),
            "{err:?}"
        );
    }
}

#[test]
fn device_helpers() {
    assert!(cpu().is_cpu());
    let devices = available_devices();
    assert!(devices.first().is_some_and(|d| d.is_cpu()));
    #[cfg(not(feature = "cuda"))]
    {
        assert!(best_device().is_cpu());
        assert_eq!(devices.len(), 1);
    }
    #[cfg(feature = "cuda")]
    assert_eq!(devices.len(), 1 + usize::from(!best_device().is_cpu()));
}

#[test]
fn device_choice_parses_selects_and_names() {
    for choice in [DeviceChoice::Auto, DeviceChoice::Cpu, DeviceChoice::Cuda] {
        assert_eq!(choice.to_string().parse::<DeviceChoice>(), Ok(choice));
    }
    let err = "gpu".parse::<DeviceChoice>().unwrap_err();
    assert!(err.contains("`gpu`") && err.contains("cuda"), "{err}");
    let cpu_device = select_device(DeviceChoice::Cpu).unwrap();
    assert!(cpu_device.is_cpu());
    assert_eq!(device_name(&cpu_device), "cpu");
    assert_eq!(
        select_device(DeviceChoice::Auto).unwrap().location(),
        best_device().location()
    );
    #[cfg(not(feature = "cuda"))]
    {
        let err = select_device(DeviceChoice::Cuda).unwrap_err();
        assert!(
            matches!(err, RuntimeError::DeviceUnavailable { device: "cuda", .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("--features cuda"), "{err}");
    }
    #[cfg(feature = "cuda")]
    if let Ok(device) = select_device(DeviceChoice::Cuda) {
        assert_eq!(device_name(&device), "cuda:0");
    }
}

fn conv_geom(in_channels: usize, out_channels: usize, groups: usize) -> ConvGeom {
    ConvGeom {
        in_channels,
        in_h: 2,
        in_w: 2,
        out_channels,
        kernel: [1, 1],
        stride: [1, 1],
        pads: [0; 4],
        dilation: [1, 1],
        groups,
    }
}

#[test]
fn malformed_new_ops_are_errors_naming_the_node() {
    // One input of 4 values; every graph reads it (or it twice).
    let input = qtensor(&[4], 0, 10);
    let out = |n: usize| qtensor(&[n], 0, 1 << 20);
    let one = |name: &str, op: QOp, inputs: &[usize], n: usize| {
        let mut g = graph(input.clone(), vec![node(name, op, inputs, out(n))]);
        g.tables = vec![zkinfer_ir::Table {
            name: "exp".to_string(),
            in_scale: 0,
            out_scale: 0,
            lo: -10,
            values: vec![1; 21],
        }];
        g
    };
    let cases = [
        one(
            "conv.groups",
            QOp::Conv {
                weight: vec![1; 4],
                bias: vec![0; 4],
                geom: conv_geom(1, 4, 2),
            },
            &[0],
            16,
        ),
        one(
            "conv.weights",
            QOp::Conv {
                weight: vec![1; 3],
                bias: vec![0; 2],
                geom: conv_geom(1, 2, 1),
            },
            &[0],
            8,
        ),
        one(
            "conv.input",
            QOp::Conv {
                weight: vec![1; 4],
                bias: vec![0; 2],
                geom: conv_geom(2, 2, 1),
            },
            &[0],
            8,
        ),
        one(
            "matmul.sizes",
            QOp::MatMul {
                batch: 1,
                m: 2,
                k: 2,
                n: 3,
            },
            &[0, 0],
            6,
        ),
        one(
            "matmul.one_operand",
            QOp::MatMul {
                batch: 1,
                m: 2,
                k: 2,
                n: 2,
            },
            &[0],
            4,
        ),
        one("mul.one_operand", QOp::Mul, &[0], 4),
        one(
            "mul_const.factors",
            QOp::MulConst { factor: vec![2; 3] },
            &[0],
            4,
        ),
        one("max.group_0", QOp::Max { group: 0 }, &[0], 1),
        one("max.group_3", QOp::Max { group: 3 }, &[0], 1),
        one("div.shift_63", QOp::Div { shift: 63 }, &[0, 0], 4),
        one("div.one_operand", QOp::Div { shift: 1 }, &[0], 4),
        one("lookup.table", QOp::Lookup { table: 1 }, &[0], 4),
        one(
            "select.index",
            QOp::Select {
                index: vec![0, 8, 1],
            },
            &[0, 0],
            3,
        ),
        one(
            "select.shape",
            QOp::Select {
                index: vec![0, 1, 2],
            },
            &[0],
            4,
        ),
    ];
    for g in &cases {
        let name = g.nodes[0].name.as_str();
        for device in available_devices() {
            let err = run(g, &[1, 2, 3, 4], &device).unwrap_err();
            assert!(
                matches!(&err, RuntimeError::Malformed { node, .. } if node == name),
                "{name}: {err:?}"
            );
            assert!(err.to_string().contains(name), "{err}");
        }
    }
}

#[test]
fn new_ops_beyond_i64_are_refused() {
    let big = qtensor(&[4], 0, 1 << 62);
    let wide = qtensor(&[4], 0, 1 << 32);
    let refuse = |g: zkinfer_ir::QGraph, input: QTensor, worst: u128| {
        let name = g.nodes.last().unwrap().name.clone();
        let x = vec![1; input.numel()];
        for device in available_devices() {
            let err = run(&g, &x, &device).unwrap_err();
            assert!(
                matches!(&err, RuntimeError::Overflow { node, worst_case } if *node == name && *worst_case == worst),
                "{name}: {err:?}"
            );
        }
    };
    let unbounded = qtensor(&[4], 0, u64::MAX);
    refuse(
        graph(
            wide.clone(),
            vec![node("mul", QOp::Mul, &[0, 0], unbounded.clone())],
        ),
        wide.clone(),
        1 << 64,
    );
    refuse(
        graph(
            big.clone(),
            vec![node(
                "mul_const",
                QOp::MulConst {
                    factor: vec![1, -2, 0, 1],
                },
                &[0],
                unbounded.clone(),
            )],
        ),
        big.clone(),
        1 << 63,
    );
    // (2^62 * 2 + 0) + 2^62 + 1 for the numerator.
    refuse(
        graph(
            big.clone(),
            vec![node(
                "div",
                QOp::Div { shift: 0 },
                &[0, 0],
                unbounded.clone(),
            )],
        ),
        big.clone(),
        (1 << 63) + (1 << 62),
    );
    // 2 terms of 2^32 * 2^32.
    refuse(
        graph(
            wide.clone(),
            vec![node(
                "matmul",
                QOp::MatMul {
                    batch: 1,
                    m: 2,
                    k: 2,
                    n: 2,
                },
                &[0, 0],
                unbounded.clone(),
            )],
        ),
        wide,
        1 << 65,
    );
    // One input channel, 1x1 kernel, weight 2: 2 * 2^62, plus a bias of 1.
    refuse(
        graph(
            big.clone(),
            vec![node(
                "conv",
                QOp::Conv {
                    weight: vec![2],
                    bias: vec![1],
                    geom: conv_geom(1, 1, 1),
                },
                &[0],
                unbounded,
            )],
        ),
        big,
        (1 << 63) + 1,
    );
}

#[test]
fn div_and_lookup_errors_match_the_reference_on_every_device() {
    let input = qtensor(&[4], 0, 10);
    let div = graph(
        input.clone(),
        vec![node(
            "div",
            QOp::Div { shift: 2 },
            &[0, 0],
            qtensor(&[4], 2, 41),
        )],
    );
    let mut lookup = graph(
        input.clone(),
        vec![node("lut", QOp::Lookup { table: 0 }, &[0], input)],
    );
    lookup.tables = vec![zkinfer_ir::Table {
        name: "tanh".to_string(),
        in_scale: 4,
        out_scale: 4,
        lo: -3,
        values: vec![-3, -2, -1, 0, 1, 2, 3],
    }];
    // An empty table rejects every argument.
    let mut empty = lookup.clone();
    empty.tables[0].values.clear();
    for device in available_devices() {
        for (g, x, name) in [
            (&div, [3, -4, 0, -1], "div"),
            (&lookup, [3, -3, 4, 0], "lut"),
            (&lookup, [-10, 0, 0, 10], "lut"),
            (&empty, [0, 0, 0, 0], "lut"),
        ] {
            let want = g.eval(&x).unwrap_err();
            let err = run(g, &x, &device).unwrap_err();
            assert!(
                matches!(&err, RuntimeError::Input(e) if *e == want),
                "{name}: {err:?}, want {want:?}"
            );
            assert!(err.to_string().contains(name));
        }
        // In range: the same values as the reference.
        assert_eq!(
            run(&div, &[3, 1, 7, 10], &device).unwrap(),
            div.eval(&[3, 1, 7, 10]).unwrap()
        );
        assert_eq!(
            run(&lookup, &[3, -3, 0, 1], &device).unwrap(),
            lookup.eval(&[3, -3, 0, 1]).unwrap()
        );
    }
}
