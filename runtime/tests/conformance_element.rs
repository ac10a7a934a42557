//! Conformance: `zkinfer_runtime::run` against the reference `QGraph::eval`, bit for bit,
//! for the exact elementwise ops and `Check`, on every available device.
#![allow(clippy::unwrap_used, clippy::panic)]

#[macro_use]
mod common;

use common::*;
use rand_chacha::ChaCha8Rng;
use zkinfer_ir::{ElementOp, EvalError, QGraph, QOp};
use zkinfer_runtime::Device;

fn abs_graph(rng: &mut ChaCha8Rng, bound: u64) -> QGraph {
    let input = qtensor(&[3, 8], 8, bound);
    let scale = random_vec(rng, 24, 5);
    let mixed = qtensor(&[3, 8], 8, bound * 5);
    let abs = qtensor(&[3, 8], 8, bound * 5);
    let op = QOp::Elementwise { op: ElementOp::Abs };
    graph(
        input,
        vec![
            node("mix", QOp::MulConst { factor: scale }, &[0], mixed),
            node("abs", op, &[1], abs),
        ],
    )
}

conformance_test!(abs_small, |r: &mut _| abs_graph(r, 1 << 10));

/// `Check [-bound, bound]` after a mix: every value passes, the output is the operand.
fn check_graph(rng: &mut ChaCha8Rng, bound: u64) -> QGraph {
    let input = qtensor(&[3, 8], 8, bound);
    let scale = random_vec(rng, 24, 5);
    let mixed = qtensor(&[3, 8], 8, bound * 5);
    let limit = i64::try_from(bound * 5).unwrap();
    let op = QOp::Check {
        lo: -limit,
        hi: limit,
    };
    graph(
        input,
        vec![
            node("mix", QOp::MulConst { factor: scale }, &[0], mixed.clone()),
            node("check", op, &[1], mixed),
        ],
    )
}

conformance_test!(check_passes_values_in_range, |r: &mut _| check_graph(
    r,
    1 << 12
));

/// A value outside a check's range is the reference's error, on every device, naming the
/// node and the first element outside.
#[test]
fn a_value_outside_a_check_is_refused_like_the_reference() {
    let input = qtensor(&[4], 3, 100);
    let g = graph(
        input.clone(),
        vec![node(
            "idx/index_in_range",
            QOp::Check { lo: -4, hi: 3 },
            &[0],
            qtensor(&[4], 3, 4),
        )],
    );
    let x = [3, -4, 4, 0];
    let want = g.eval(&x).unwrap_err();
    assert_eq!(
        want,
        EvalError::CheckFailed {
            node: "idx/index_in_range".into(),
            index: 2,
            value: 4,
            lo: -4,
            hi: 3,
            scale: 3,
        }
    );
    for device in zkinfer_runtime::available_devices() {
        assert_same_error(&g, &x, "idx/index_in_range", &device);
    }
}

conformance_test!(abs_near_the_bound_limit, |r: &mut _| abs_graph(r, 1 << 59));
