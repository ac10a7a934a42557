//! Calibrated bounds: where a static bound compounds far above what calibration sees, a
//! `Rescale` gets a calibrated bound (checked on both sides in the circuit) so later bounds
//! start from it.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zkinfer_compiler::quantize::{accuracy, quantize};
use zkinfer_compiler::testkit::mlp;
use zkinfer_compiler::QuantizeConfig;
use zkinfer_ir::{EvalError, QOp};

/// 30 layers of 8 -> 8: each multiplies the worst case by about 4, the real values by far
/// less.
fn deep() -> zkinfer_compiler::Graph {
    mlp(5, &[8; 31])
}

fn calibration() -> Vec<Vec<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    (0..4)
        .map(|_| (0..8).map(|_| rng.gen_range(-1.0..1.0)).collect())
        .collect()
}

#[test]
fn compounding_bounds_get_calibrated_ones_and_the_model_compiles() {
    let g = deep();
    let rows = calibration();
    let q = quantize(&g, &rows, QuantizeConfig::default(), "src").expect("quantize");
    let calibrated: Vec<_> = q
        .graph
        .nodes
        .iter()
        .filter(|n| q.graph.has_calibrated_bound(n))
        .collect();
    assert!(!calibrated.is_empty(), "no calibrated bound placed");
    assert!(calibrated
        .iter()
        .all(|n| matches!(n.op, QOp::Rescale { .. })));
    // Static bounds alone would grow about 2 bits a layer (60 in all, past the 2^62 limit
    // at scale 13); the output's bound stays within 2^16 of what calibration saw.
    let out = q.graph.output_tensor().expect("output").bound;
    assert!(out < 1 << 40, "output bound 2^{}", 64 - out.leading_zeros());
    let report = accuracy(&g, &q, &rows).expect("accuracy");
    assert!(
        report.output_max_abs_error < 5e-2,
        "{:?}",
        report.output_max_abs_error
    );
}

#[test]
fn a_value_past_a_calibrated_bound_is_an_error_naming_the_node() {
    let g = deep();
    let q = quantize(&g, &calibration(), QuantizeConfig::default(), "src").expect("quantize");
    // The input's own bound admits 2x the calibrated range; values there push the deep
    // layers past 4x theirs somewhere, or evaluate. Either way nothing passes silently.
    let (lo, hi) = zkinfer_ir::input_range::range(q.graph.input.bound);
    let x: Vec<i64> = (0..8)
        .map(|i| if i % 2 == 0 { hi as i64 } else { lo as i64 })
        .collect();
    match q.graph.eval(&x) {
        Ok(_) => {}
        Err(EvalError::CalibratedBoundExceeded {
            node, value, bound, ..
        }) => {
            assert!(q.graph.nodes.iter().any(|n| n.name == node));
            assert!(value.unsigned_abs() > bound);
        }
        Err(other) => panic!("unexpected error {other}"),
    }
}

#[test]
fn shallow_models_keep_their_static_bounds() {
    let g = mlp(3, &[6, 5, 3]);
    let q = quantize(&g, &calibration_for(6), QuantizeConfig::default(), "src").expect("quantize");
    assert!(q
        .graph
        .nodes
        .iter()
        .all(|n| !q.graph.has_calibrated_bound(n)));
}

fn calibration_for(n: usize) -> Vec<Vec<f64>> {
    vec![vec![0.5; n], vec![-1.0; n]]
}
