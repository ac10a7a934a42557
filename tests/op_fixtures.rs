//! The op fixture collection (`tests/fixtures/ops`, written by `scripts/make_op_fixtures.py`):
//! every model compiles, proves and verifies, and the proven output matches onnxruntime's
//! float output within the error the compiler reports for the calibration samples.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::Value;
use zkinfer::circuits::plan;
use zkinfer::compiler::quantize::accuracy;
use zkinfer::compiler::{onnx, quantize, QuantizeConfig};
use zkinfer::ir::artifact::{encode_model, hash_hex, sha256};
use zkinfer::ir::input::{group_samples, quantize_values, read_input_rows};
use zkinfer::prover::keys::encode_vk;
use zkinfer::prover::srs::generate_insecure_seeded;
use zkinfer::prover::{prove, run_checked, setup};
use zkinfer::verifier::{verify, VerifierKey};

/// Compiles, proves and verifies one fixture; returns (k, reported error, error vs onnxruntime).
fn check(dir: &Path) -> (u32, f64, f64) {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let bytes = std::fs::read(dir.join("model.onnx")).unwrap();
    let graph = onnx::import_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    let input = dir.join("input.json");
    let rows = group_samples(read_input_rows(&input).unwrap(), &graph.inputs(), &input).unwrap();
    let q = quantize(
        &graph,
        &rows,
        QuantizeConfig::default(),
        &hash_hex(&sha256(&bytes)),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let reported = accuracy(&graph, &q, &rows).unwrap().output_max_abs_error;
    let (_, hash) = encode_model(&q.graph);
    let p = plan(&q.graph).unwrap_or_else(|e| panic!("{name}: {e}"));
    let srs = generate_insecure_seeded(p.params.k, ChaCha20Rng::seed_from_u64(1));
    let g = Arc::new(q.graph);
    let keys = setup(g.clone(), &p.params, &srs).unwrap_or_else(|e| panic!("{name}: {e}"));
    let x = quantize_values(&rows[0], g.input.scale);
    let trace = run_checked(&g, &x).unwrap_or_else(|e| panic!("{name}: {e}"));
    let proof = prove(
        g.clone(),
        &p.params,
        &keys.pk,
        &srs,
        trace,
        &hash_hex(&hash),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let vk = encode_vk(keys.pk.get_vk(), &keys.header, &hash);
    let key = VerifierKey::from_bytes(&vk, Path::new("vk.bin")).unwrap();
    let verified = verify(&key, &proof).unwrap_or_else(|e| panic!("{name}: {e}"));

    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let outputs = expected["outputs"].as_array().unwrap();
    let want: Vec<f64> = outputs
        .iter()
        .flat_map(|o| {
            o["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
        })
        .collect();
    let got = &verified.output.as_ref().unwrap().floats;
    assert_eq!(got.len(), want.len(), "{name}: output size");
    if outputs.len() > 1 {
        let names: Vec<&str> = proof.outputs.iter().map(|o| o.name.as_str()).collect();
        let onnx_names: Vec<&str> = outputs
            .iter()
            .map(|o| o["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, onnx_names, "{name}: named outputs");
    }
    // The reported error itself must be small, or a wrong lowering would pass by reporting it.
    let scale = want.iter().fold(1.0f64, |m, w| m.max(w.abs()));
    assert!(
        reported <= 5e-3 * scale,
        "{name}: reported error {reported} is too large for outputs up to {scale}"
    );
    let mut err = 0.0f64;
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        let e = (g - w).abs();
        // The float graph evaluates in f64, onnxruntime in f32: allow f32 rounding on top.
        let tol = reported + 1e-4 * (1.0 + w.abs());
        assert!(
            e <= tol,
            "{name}[{i}]: proven {g}, onnxruntime {w}, reported error {reported}"
        );
        err = err.max(e);
    }
    (p.params.k, reported, err)
}

fn fixture_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ops")
}

/// One test per fixture, so the harness runs them in parallel; `fixture_list_is_complete`
/// keeps this list and the folder in step.
macro_rules! fixtures {
    ($($name:ident),* $(,)?) => {
        const FIXTURES: &[&str] = &[$(stringify!($name)),*];
        $(
            #[test]
            fn $name() {
                let (k, reported, err) = check(&fixture_root().join(stringify!($name)));
                eprintln!(
                    "{:<28} k = {k:>2}  reported {reported:.2e}  vs onnxruntime {err:.2e}",
                    stringify!($name)
                );
            }
        )*
    };
}

fixtures!(
    abs,
    acos,
    acosh,
    argmax,
    argmin,
    asin,
    asinh,
    atan,
    bitshift_right,
    ceil,
    celu,
    clip,
    concat_constant_token,
    constant_output,
    conv1d,
    conv_transpose,
    cos,
    cosh,
    data_movement_only,
    decision_tree,
    dropout,
    elu,
    erf,
    exp,
    floor,
    gather_elements_computed,
    gather_elements_const,
    gather_embedding_computed,
    gather_nd_computed,
    gather_nd_const,
    gelu,
    gelu_tanh,
    generators,
    gradient_boosted_trees,
    gru,
    hard_sigmoid,
    hard_swish,
    hardmax,
    hb_decision_tree,
    hb_gradient_boosting,
    hb_random_forest,
    identity,
    instance_norm,
    integer_div,
    layer_norm,
    leaky_relu,
    lenet_small,
    log,
    logic_equal_cast,
    logic_where,
    logsoftmax,
    lp_pool_p1,
    lp_pool_p2,
    lstm,
    lstm_bidirectional,
    lstm_classifier,
    mish,
    mod_float_fmod,
    mod_int,
    mod_int_fmod,
    nary_max,
    nary_mean,
    nary_min,
    nary_sum,
    no_input,
    one_hot_computed,
    pad_constant,
    pad_edge,
    pad_reflect,
    pow_0_5,
    pow_1_5,
    pow_2_0,
    pow_3_0,
    pow_neg1_0,
    prelu,
    qdq_linear,
    random_forest,
    reciprocal,
    reduce_l1,
    reduce_l2,
    reduce_logsumexp,
    reduce_max,
    reduce_mean,
    reduce_min,
    reduce_prod,
    reduce_sum,
    reduce_sumsquare,
    resize_linear_align_corners,
    resize_linear_half_pixel,
    resize_nearest_asymmetric,
    rnn_tanh,
    round,
    rsqrt,
    scatter_elements_computed,
    scatter_elements_const,
    scatter_nd_add_computed,
    scatter_nd_const,
    selu,
    sigmoid,
    sign,
    sin,
    sinh,
    sklearn_decision_tree,
    sklearn_gradient_boosting,
    sklearn_random_forest,
    softmax,
    softplus,
    softsign,
    sqrt,
    tan,
    tanh,
    tile,
    topk_largest0,
    topk_largest1,
    torch_lenet,
    torch_lstm_classifier,
    torch_mlp,
    torch_transformer_dynamo,
    torch_transformer_ln_decomposed,
    torch_transformer_opset17,
    transformer_block_opset17,
    trilu_upper0,
    trilu_upper1,
    two_inputs_two_outputs,
    upsample_nearest,
);

#[test]
fn fixture_list_is_complete() {
    let mut dirs: Vec<String> = std::fs::read_dir(fixture_root())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("model.onnx").exists())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut listed: Vec<String> = FIXTURES.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(
        dirs, listed,
        "tests/fixtures/ops and the fixtures! list differ"
    );
    assert!(listed.len() >= 50, "fixtures missing: {}", listed.len());
}
