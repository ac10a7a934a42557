//! One real SHPLONK proof through a graph with a function lookup, a grouped max and a
//! division: key generation, proving and verification agree with MockProver on the new
//! gates (rotations, the tagged table and its padding), and a corrupted witness is rejected.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use halo2_proofs::dev::{MockProver, VerifyFailure};
use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_proofs::plonk::{create_proof, keygen_pk, keygen_vk, verify_proof, ProvingKey};
use halo2_proofs::poly::commitment::ParamsProver;
use halo2_proofs::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
use halo2_proofs::poly::kzg::multiopen::{ProverSHPLONK, VerifierSHPLONK};
use halo2_proofs::poly::kzg::strategy::SingleStrategy;
use halo2_proofs::transcript::{TranscriptReadBuffer, TranscriptWriterBuffer};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use zkinfer_circuits::corrupt::{Corruption, CorruptionKind};
use zkinfer_circuits::transcript::{EvmChallenge, EvmTranscriptRead, EvmTranscriptWrite};
use zkinfer_circuits::{plan, public_values_of, ModelCircuit};
use zkinfer_ir::testkit::qtensor;
use zkinfer_ir::{QGraph, QNode, QOp, QTensor, Table};

fn tensor(numel: usize, bound: u64) -> QTensor {
    qtensor(&[1, numel], 6, bound)
}

fn node(name: &str, op: QOp, inputs: Vec<usize>, out: QTensor) -> QNode {
    zkinfer_ir::testkit::node(name, op, &inputs, out)
}

/// `x` (8 values in [-20, 20]) → sigmoid table → max over pairs → + 1 = `b`;
/// `a = x[..4]`; output `Div(a, b)` with shift 4.
fn graph() -> QGraph {
    let sigmoid = Table {
        name: "sigmoid".into(),
        in_scale: 2,
        out_scale: 6,
        lo: -20,
        values: (-20..=20)
            .map(|x| (64.0 / (1.0 + (-f64::from(x) / 4.0).exp())).round() as i64)
            .collect(),
    };
    let pick = (0..4)
        .flat_map(|j| (0..8).map(move |i| i64::from(i == j)))
        .collect();
    QGraph {
        input_name: "input".into(),
        input: tensor(8, 20),
        nodes: vec![
            node("sigmoid", QOp::Lookup { table: 0 }, vec![0], tensor(8, 64)),
            node("max", QOp::Max { group: 2 }, vec![1], tensor(4, 64)),
            node(
                "b",
                QOp::Add {
                    coef_a: 1,
                    coef_b: 0,
                    constant: vec![1; 4],
                },
                vec![2],
                tensor(4, 65),
            ),
            node(
                "a",
                QOp::Linear {
                    weight: pick,
                    bias: vec![0; 4],
                    n_in: 8,
                    n_out: 4,
                },
                vec![0],
                tensor(4, 20),
            ),
            node("div", QOp::Div { shift: 4 }, vec![4, 3], tensor(4, 20 << 4)),
        ],
        output: 5,
        output_name: "output".into(),
        source_sha256: String::new(),
        weights_sha256: String::new(),
        tables: vec![sigmoid],
        max_lanes: None,
        input_parts: Vec::new(),
        output_parts: Vec::new(),
        no_input: false,
        input_kinds: Vec::new(),
        input_visibility: Default::default(),
        input_part_visibility: Vec::new(),
        output_visibility: Default::default(),
        param_visibility: Default::default(),
    }
}

fn prove(
    srs: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    circuit: ModelCircuit,
    instances: &[Fr],
) -> Vec<u8> {
    let mut transcript = EvmTranscriptWrite::init(Vec::new());
    create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, EvmChallenge, _, _, _>(
        srs,
        pk,
        &[circuit],
        &[&[instances]],
        ChaCha8Rng::seed_from_u64(1),
        &mut transcript,
    )
    .expect("proving");
    transcript.finalize()
}

fn verifies(
    srs: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    instances: &[Fr],
    proof: &[u8],
) -> bool {
    let mut transcript = EvmTranscriptRead::init(proof);
    verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK<'_, Bn256>, EvmChallenge, _, _>(
        srs.verifier_params(),
        pk.get_vk(),
        SingleStrategy::new(srs),
        &[&[instances]],
        &mut transcript,
    )
    .is_ok()
}

#[test]
fn lookup_max_and_div_prove_and_verify() {
    let g = graph();
    let input = vec![-20, 20, 3, -7, 0, 11, -1, 5];
    let trace = Arc::new(g.eval(&input).expect("eval"));
    let output = trace.get(g.output).unwrap().to_vec();
    let params = plan(&g).expect("plan").params;
    assert!(params.fn_table_rows > 0);
    let g = Arc::new(g);
    let srs = ParamsKZG::<Bn256>::setup(params.k, ChaCha8Rng::seed_from_u64(0));
    let keygen = ModelCircuit::keygen(g.clone(), params.clone());
    let vk = keygen_vk(&srs, &keygen).expect("vk");
    let pk = keygen_pk(&srs, vk, &keygen).expect("pk");
    let instances = public_values_of(&g, &params, &input, &output, Fr::zero());

    let honest = ModelCircuit::with_trace(g.clone(), params.clone(), trace.clone());
    let proof = prove(&srs, &pk, honest, &instances);
    assert!(verifies(&srs, &pk, &instances, &proof), "honest proof");

    // Claim quotient + 1 with the remainder that keeps the division gate happy: only the
    // remainder's range check objects.
    let mut lying = ModelCircuit::with_trace(g.clone(), params.clone(), trace.clone());
    lying.corruption = Some(Corruption {
        node: 4,
        element: 1,
        kind: CorruptionKind::DivQuotient(1),
    });
    let mut claimed = output.clone();
    claimed[1] += 1;
    let instances = public_values_of(&g, &params, &input, &claimed, Fr::zero());
    let mock = MockProver::run(params.k, &lying, vec![instances.clone()]).expect("mock");
    let failures = mock.verify().expect_err("the range check objects");
    assert!(
        matches!(failures.as_slice(), [VerifyFailure::Lookup { .. }]),
        "{failures:#?}"
    );
    let proof = prove(&srs, &pk, lying, &instances);
    assert!(
        !verifies(&srs, &pk, &instances, &proof),
        "corrupted quotient"
    );
}
