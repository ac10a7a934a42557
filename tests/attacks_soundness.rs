//! The soundness classes of a malicious-prover audit, one attack each: a private input past
//! its bound, a fractional integer input, an out-of-range or duplicate index, an inexact
//! integer quotient, a comparison half a step apart, and a relabelled key. Each either makes
//! a real SHPLONK proof that the offline and the Solidity verifier must both reject, or
//! shows that the runtime refuses the input with an error naming the check (and that the
//! proof a prover could still make of it is rejected), or that the answer is ONNX's.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::Path;
use std::sync::Arc;

use common::attack::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkinfer::circuits::field::fr_from_i64;
use zkinfer::circuits::plan;
use zkinfer::circuits::transcript::be_bytes;
use zkinfer::compiler::onnx::encode::{
    attr_int, attr_string, float_tensor, graph as onnx_graph, int64_tensor, model_bytes, node,
    value_info_fixed, value_info_typed,
};
use zkinfer::compiler::onnx::proto::tensor_proto::DataType;
use zkinfer::compiler::onnx::proto::GraphProto;
use zkinfer::ir::artifact::{encode_model, hash_hex};
use zkinfer::ir::input::quantize_values;
use zkinfer::ir::testkit::single_op;
use zkinfer::ir::{EvalError, QGraph, QOp, Visibility};
use zkinfer::prover::keys::encode_vk;
use zkinfer::prover::srs::generate_insecure_seeded;
use zkinfer::prover::{prove, setup};
use zkinfer::runtime::RuntimeError;
use zkinfer::verifier::evm::exec::{verify_calldata_in_evm, verify_in_evm};
use zkinfer::verifier::{check_proof, verify, VerifierKey};

/// The node whose check refuses `x` (the runtime's error), asserting it is a check failure.
fn refused_by(graph: &QGraph, x: &[i64]) -> String {
    match zkinfer::runtime::run(graph, x, &zkinfer::runtime::cpu()) {
        Err(RuntimeError::Input(EvalError::CheckFailed { node, .. })) => node,
        other => panic!("expected a check to refuse {x:?}, got {other:?}"),
    }
}

/// Quantizes one sample at the graph's input scale.
fn sample(graph: &QGraph, x: &[f64]) -> Vec<i64> {
    quantize_values(x, graph.input.scale)
}

/// The forged proof of `x` (every check ignored), which both verifiers must reject.
fn forged_proof_is_rejected(t: &Target, x: &[i64], attack: &str) {
    let trace = unchecked_trace(&t.graph, x);
    let (values, advice) = t.advice_of(&trace);
    t.submit(&values, advice).assert_rejected(attack);
}

/// `y = 2x` on one private input bounded by 100.
#[test]
fn a_private_input_past_its_bound_is_rejected() {
    let op = QOp::Linear {
        weight: vec![2],
        bias: vec![0],
        n_in: 1,
        n_out: 1,
    };
    let mut g = single_op(op, 1, 100, 1, 200, 1);
    g.input_visibility = Visibility::Private;
    let t = target(g, &[21]);
    let (values, advice) = t.honest();
    assert_eq!(values, vec![fr_from_i64(42)], "only the output is public");
    t.submit(&values, advice).assert_accepted();
    // x = 150 through the lower bound row (150 + 100 < 2^8, honest limbs) and the linear
    // lane; the upper row keeps the honest 21 (100 - 21 spelled honestly). Only the copy
    // tying the two rows to one cell can object.
    let (_, mut w) = t.honest();
    let rows = t.input_check_rows();
    set(&mut w, t.config.range.value, rows[0], fr_from_i64(150));
    t.set_limbs(&mut w, rows[0], 250, plan::signed_bits(100));
    assert_eq!(replace(&mut w, fr_from_i64(21), fr_from_i64(150)), 2);
    set(&mut w, t.config.range.value, rows[1], fr_from_i64(21));
    assert_eq!(replace(&mut w, fr_from_i64(42), fr_from_i64(300)), 1);
    t.submit(&[fr_from_i64(300)], w)
        .assert_rejected("private input past its bound");
}

/// `Gather(table, ids)` over a 4-row table of two columns, `ids` an INT64 graph input of
/// `n` indices.
fn embedding(n: usize) -> Vec<u8> {
    let table: Vec<f32> = (0..8).map(|i| i as f32 + 1.0).collect();
    let g: GraphProto = onnx_graph(
        vec![node("Gather", "embed", &["table", "ids"], &["y"], vec![])],
        vec![float_tensor("table", &[4, 2], &table)],
        value_info_typed("ids", &[n], DataType::Int64),
        value_info_fixed("y", &[n, 2]),
    );
    model_bytes(g)
}

#[test]
fn a_fractional_token_id_is_refused_and_its_forged_proof_rejected() {
    let g = compile_onnx(&embedding(1), &[vec![0.0], vec![3.0]]);
    assert_eq!(g.input_kinds, vec![zkinfer::ir::NumberKind::Integer]);
    let honest = sample(&g, &[2.0]);
    let t = target(g, &honest);
    assert_eq!(t.output(), sample(&t.graph, &[5.0, 6.0]), "row 2");
    let (values, advice) = t.honest();
    t.submit(&values, advice).assert_accepted();
    // 1.5: a blend of rows 1 and 2 before integers were checked.
    let x = sample(&t.graph, &[1.5]);
    assert!(refused_by(&t.graph, &x).ends_with("/integer"));
    forged_proof_is_rejected(&t, &x, "fractional token id");
}

#[test]
fn negative_indices_wrap_and_out_of_range_ones_are_refused() {
    let g = compile_onnx(&embedding(2), &[vec![0.0, 3.0], vec![-4.0, 3.0]]);
    let x = sample(&g, &[-1.0, 0.0]);
    let t = target(g, &x);
    // ONNX: -1 is the last row.
    let want = sample(&t.graph, &[7.0, 8.0, 1.0, 2.0]);
    assert_eq!(t.output(), want);
    let (values, advice) = t.honest();
    t.submit(&values, advice).assert_accepted();
    for bad in [[4.0, 0.0], [0.0, -5.0]] {
        let x = sample(&t.graph, &bad);
        assert!(
            refused_by(&t.graph, &x).ends_with("index_in_range"),
            "{bad:?}"
        );
        forged_proof_is_rejected(&t, &x, "index out of range");
    }
}

/// `ScatterElements(data, idx, updates)` with reduction none, `idx` an INT64 graph input.
fn scatter() -> Vec<u8> {
    let g = onnx_graph(
        vec![node(
            "ScatterElements",
            "scatter",
            &["data", "idx", "updates"],
            &["y"],
            vec![attr_int("axis", 0), attr_string("reduction", "none")],
        )],
        vec![
            float_tensor("data", &[4], &[1.0, 2.0, 3.0, 4.0]),
            float_tensor("updates", &[2], &[10.0, 20.0]),
        ],
        value_info_typed("idx", &[2], DataType::Int64),
        value_info_fixed("y", &[4]),
    );
    model_bytes(g)
}

#[test]
fn duplicate_scatter_indices_are_refused_and_their_forged_proof_rejected() {
    let g = compile_onnx(&scatter(), &[vec![0.0, 3.0], vec![2.0, 1.0]]);
    let honest = sample(&g, &[3.0, 1.0]);
    let t = target(g, &honest);
    assert_eq!(t.output(), sample(&t.graph, &[1.0, 20.0, 3.0, 10.0]));
    let x = sample(&t.graph, &[1.0, 1.0]);
    assert!(refused_by(&t.graph, &x).ends_with("at_most_one"));
    forged_proof_is_rejected(&t, &x, "duplicate scatter indices");
}

/// `Div(x, 1000)` on an INT64 input: integer division.
fn divide_by_1000() -> Vec<u8> {
    let g = onnx_graph(
        vec![node("Div", "div", &["x", "c"], &["y"], vec![])],
        vec![int64_tensor("c", &[1], &[1000])],
        value_info_typed("x", &[1], DataType::Int64),
        value_info_typed("y", &[1], DataType::Int64),
    );
    model_bytes(g)
}

#[test]
fn integer_quotients_are_exact_or_refused_never_wrong() {
    let g = compile_onnx(&divide_by_1000(), &[vec![-60000.0], vec![60000.0]]);
    let scale = g.output_tensor().unwrap().scale;
    // 16401 div 7 was proven 2342, 39000 div 1000 was 38: now every quotient is exact.
    for x in (-60000i64..=60000)
        .step_by(997)
        .chain([39000, -39000, 999, -1000, 60000])
    {
        let q = sample(&g, &[x as f64]);
        let trace = zkinfer::runtime::run(&g, &q, &zkinfer::runtime::cpu())
            .unwrap_or_else(|e| panic!("{x}: {e}"));
        assert_eq!(
            trace.get(g.output).unwrap()[0],
            (x / 1000) << scale,
            "{x} div 1000"
        );
    }
    // The remainder check is what stands between an approximate quotient and a proof: with
    // the reciprocal 1% low, 39000 div 1000 computes 38, remainder 1000, and is refused.
    let mut rough = g.clone();
    let scaled = rough
        .nodes
        .iter_mut()
        .find(|n| n.name == "div/positive/quotient/scaled")
        .unwrap();
    if let QOp::MulConst { factor } = &mut scaled.op {
        factor.iter_mut().for_each(|f| *f -= *f / 100);
    }
    rough.validate().unwrap();
    let x = sample(&rough, &[1234.0]);
    let t = target(rough, &x);
    let (values, advice) = t.honest();
    t.submit(&values, advice).assert_accepted();
    let x = sample(&t.graph, &[39000.0]);
    let trace = unchecked_trace(&t.graph, &x);
    assert_eq!(trace.get(t.graph.output).unwrap()[0], 38 << scale);
    assert!(refused_by(&t.graph, &x).ends_with("remainder_in_range"));
    forged_proof_is_rejected(&t, &x, "inexact integer quotient");
}

/// `TopK(x, 1)` over two floats: values and indices.
fn top1() -> Vec<u8> {
    let mut g = onnx_graph(
        vec![node("TopK", "top", &["x", "k"], &["v", "i"], vec![])],
        vec![int64_tensor("k", &[1], &[1])],
        value_info_fixed("x", &[1, 2]),
        value_info_fixed("v", &[1, 1]),
    );
    g.output
        .push(value_info_typed("i", &[1, 1], DataType::Int64));
    model_bytes(g)
}

#[test]
fn values_half_a_table_step_apart_rank_as_onnx_ranks_them() {
    // 2^-11 apart: a table at scale 10 once rounded both to one step, and each ranked
    // first.
    let x = [5.0, 5.000_488_281_25];
    let g = compile_onnx(&top1(), &[vec![0.0, 8.0], vec![8.0, 0.0]]);
    let q = sample(&g, &x);
    let t = target(g, &q);
    let out_scale = t.graph.output_tensor().unwrap().scale;
    let want_value = (x[1] * f64::from(out_scale).exp2()).round() as i64;
    assert_eq!(t.output()[0], want_value, "the larger value");
    assert_eq!(t.output()[1], 1 << out_scale, "its index, 1");
    let (values, advice) = t.honest();
    t.submit(&values, advice).assert_accepted();
}

#[test]
fn a_relabelled_key_verifies_nothing_and_the_digest_names_the_labels() {
    let op = QOp::Linear {
        weight: vec![2],
        bias: vec![0],
        n_in: 1,
        n_out: 1,
    };
    let g = single_op(op, 1, 100, 1, 200, 1);
    let params = plan(&g).unwrap().params;
    let srs = generate_insecure_seeded(params.k, ChaCha20Rng::seed_from_u64(3));
    let g = Arc::new(g);
    let keys = setup(g.clone(), &params, &srs).unwrap();
    let (_, hash) = encode_model(&g);
    let trace = g.eval(&[21]).unwrap();
    let proof = prove(g.clone(), &params, &keys.pk, &srs, trace, &hash_hex(&hash)).unwrap();
    let key_with = |header| {
        let bytes = encode_vk(keys.pk.get_vk(), &header, &hash);
        VerifierKey::from_bytes(&bytes, Path::new("vk.bin")).unwrap()
    };
    let key = key_with(keys.header.clone());
    verify(&key, &proof).unwrap();
    verify_in_evm(&key, &proof).unwrap();
    // Output scale 8 relabelled 2: the same halo2 key, so the same digest, but the proof
    // (and its file, rewritten to the new scale) is refused by both verifiers.
    let mut header = keys.header.clone();
    header.output_scale = 2;
    let relabelled = key_with(header);
    assert_eq!(relabelled.digest(), key.digest());
    let mut file = proof.clone();
    if let Some(out) = file.output.as_mut() {
        out.scale = 2;
        out.floats = out.ints.iter().map(|&v| v as f64 / 4.0).collect();
    }
    assert!(verify(&relabelled, &file).is_err(), "offline");
    assert!(verify_in_evm(&relabelled, &file).is_err(), "EVM");
    // The contract itself, given the public values the relabelled header implies.
    let bytes = hex::decode(&proof.proof).unwrap();
    let mut calldata: Vec<u8> = [
        fr_from_i64(21),
        fr_from_i64(42),
        relabelled.header.labels_digest(),
    ]
    .iter()
    .flat_map(be_bytes)
    .collect();
    calldata.extend(&bytes);
    assert!(
        verify_calldata_in_evm(&relabelled, &calldata).is_err(),
        "contract"
    );
    assert!(check_proof(
        &relabelled,
        &[
            fr_from_i64(21),
            fr_from_i64(42),
            relabelled.header.labels_digest()
        ],
        &bytes
    )
    .is_err());
    // The same circuit compiled with the other label is another key: the digest differs.
    let mut other = (*g).clone();
    other.nodes[0].out.scale = 2;
    let other_keys = setup(Arc::new(other), &params, &srs).unwrap();
    let other_key = {
        let bytes = encode_vk(other_keys.pk.get_vk(), &other_keys.header, &hash);
        VerifierKey::from_bytes(&bytes, Path::new("vk.bin")).unwrap()
    };
    assert_ne!(other_key.digest(), key.digest());
}
