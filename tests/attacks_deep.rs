//! Attacks on what deep models rely on: a value past a calibrated bound (a bound the compiler
//! set from the calibration set, so that bounds do not compound block after block). The
//! runtime refuses such an input naming the node, the value and the bound, and a real proof
//! of its witness is rejected by the offline and the Solidity verifier.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::attack::*;
use zkinfer::ir::testkit::{graph, node, qtensor};
use zkinfer::ir::{EvalError, QOp};
use zkinfer::runtime::RuntimeError;

/// `Rescale` by 2^4 of two values bounded by 2^16, with the calibrated output bound 100
/// (the operand implies 2^12).
#[test]
fn a_value_past_a_calibrated_bound_is_refused_and_its_forged_proof_rejected() {
    let g = graph(
        qtensor(&[1, 2], 8, 1 << 16),
        vec![node(
            "calibrated",
            QOp::Rescale { shift: 4 },
            &[0],
            qtensor(&[1, 2], 4, 100),
        )],
    );
    assert!(g.has_calibrated_bound(&g.nodes[0]));
    let t = target(g, &[1600, -1600]);
    assert_eq!(t.output(), &[100, -100], "exactly at the bound");
    let (values, advice) = t.honest();
    t.submit(&values, advice).assert_accepted();
    // 2400 / 16 = 150: inside the operand's bound, past the calibrated one.
    let x = [2400, 0];
    match zkinfer::runtime::run(&t.graph, &x, &zkinfer::runtime::cpu()) {
        Err(RuntimeError::Bound(EvalError::CalibratedBoundExceeded {
            node,
            index,
            value,
            bound,
            ..
        })) => assert_eq!(
            (node.as_str(), index, value, bound),
            ("calibrated", 0, 150, 100)
        ),
        other => panic!("expected the calibrated bound to refuse {x:?}, got {other:?}"),
    }
    let trace = unchecked_trace(&t.graph, &x);
    let (values, advice) = t.advice_of(&trace);
    t.submit(&values, advice)
        .assert_rejected("a value past a calibrated bound");
}
