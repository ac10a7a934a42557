//! Error paths: bad input, violated bounds, malformed graphs and i64 overflow.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use zkinfer_models::{EvalError, QOp};
use zkinfer_runtime::{available_devices, best_device, cpu, run, RuntimeError};

fn relu_graph(declared_out_bound: u64) -> zkinfer_models::QGraph {
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
