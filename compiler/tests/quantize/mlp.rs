//! Quantizer tests.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use zkinfer_compiler::graph::{Node, Op};
use zkinfer_compiler::quantize::*;
use zkinfer_compiler::{Graph, QuantizeError};
use zkinfer_ir::QOp;

/// The 6 -> 5 -> 3 MLP these tests quantize.
fn mlp(seed: u64) -> Graph {
    zkinfer_compiler::testkit::mlp(seed, &[6, 5, 3])
}

#[test]
fn linear_layers_get_a_rescale_and_sound_bounds() {
    let g = mlp(1);
    let calib = vec![vec![0.5; 6], vec![-1.0; 6]];
    let q = quantize(&g, &calib, QuantizeConfig::default(), "src").expect("quantize");
    let kinds: Vec<_> = q.graph.nodes.iter().map(|n| n.op.kind()).collect();
    assert_eq!(kinds, ["Linear", "Rescale", "Relu", "Linear", "Rescale"]);
    assert_eq!(
        q.graph.input.bound,
        1 << 14,
        "calibrated 1.0 at scale 13, one headroom bit"
    );
    assert_eq!(q.float_to_q, vec![0, 2, 3, 5]);
    assert!(matches!(q.graph.nodes[1].op, QOp::Rescale { shift: 16 }));
    // Every input inside the compiled range evaluates within every static bound.
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for _ in 0..200 {
        let b = q.graph.input.bound as i64;
        let x: Vec<i64> = (0..6).map(|_| rng.gen_range(-b..=b)).collect();
        q.graph.eval(&x).expect("bounds hold");
    }
    let report = accuracy(&g, &q, &calib).expect("accuracy");
    assert!(report.output_max_abs_error < 1e-3, "{report:?}");
    assert_eq!(report.rows, 2);
}

#[test]
fn bad_settings_and_calibration_are_named() {
    let g = mlp(3);
    let cfg = QuantizeConfig::default();
    assert!(matches!(
        quantize(&g, &[], cfg, ""),
        Err(QuantizeError::EmptyCalibration)
    ));
    let short = quantize(&g, &[vec![0.0; 5]], cfg, "").expect_err("short row");
    assert!(short.to_string().contains("needs 6"), "{short}");
    let nan = quantize(&g, &[vec![f64::NAN; 6]], cfg, "").expect_err("nan");
    assert!(nan.to_string().contains("calibration row 0"), "{nan}");
    let bad = QuantizeConfig { scale: 40, ..cfg };
    assert!(matches!(
        quantize(&g, &[vec![0.0; 6]], bad, ""),
        Err(QuantizeError::BadSetting { .. })
    ));
    let huge = quantize(
        &g,
        &[vec![1e12; 6]],
        QuantizeConfig {
            scale: 24,
            weight_scale: 24,
            headroom_bits: 1,
            table_scale: 10,
            ..QuantizeConfig::DEFAULT
        },
        "",
    );
    assert!(
        matches!(huge, Err(QuantizeError::Overflow { .. })),
        "{huge:?}"
    );
}

#[test]
fn empty_linear_is_an_error_not_a_panic() {
    let nodes = vec![Node {
        name: "fc".into(),
        op: Op::Linear {
            weight: vec![],
            bias: vec![],
            n_in: 0,
            n_out: 0,
        },
        inputs: vec![0],
        shape: vec![1, 0],
        trained: true,
    }];
    let g = Graph {
        input_name: "x".into(),
        input_shape: vec![1, 2],
        nodes,
        output: 1,
        output_name: "y".into(),
        input_parts: Vec::new(),
        output_parts: Vec::new(),
        no_input: false,
        input_kinds: Vec::new(),
    };
    let err = quantize(&g, &[vec![0.0; 2]], QuantizeConfig::default(), "").expect_err("n_in = 0");
    assert!(matches!(err, QuantizeError::Malformed { .. }), "{err}");
}

#[test]
fn argmax_takes_the_first_maximum() {
    assert_eq!(argmax(&[1.0, 3.0, 3.0, -1.0]), Some(1));
    assert_eq!(argmax::<i64>(&[]), None);
    assert_eq!(argmax(&[-5i64, -2, -9]), Some(1));
}
