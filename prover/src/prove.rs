//! Proving one inference: run, check against the reference, build the witness, prove.

use std::sync::Arc;

use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_proofs::halo2curves::ff::PrimeField;
use halo2_proofs::plonk::{create_proof, ProvingKey};
use halo2_proofs::poly::kzg::commitment::KZGCommitmentScheme;
use halo2_proofs::poly::kzg::multiopen::ProverSHPLONK;
use halo2_proofs::transcript::TranscriptWriterBuffer;
use zkinfer_circuits::transcript::{EvmChallenge, EvmTranscriptWrite};
use zkinfer_circuits::{public_values_of, CircuitParams, ModelCircuit};
use zkinfer_ir::proof_file::{PartClaim, ProofFile, TensorValues, PROOF_FORMAT, PROOF_VERSION};
use zkinfer_ir::{ParamVisibility, QGraph, Trace, Visibility};

use crate::error::ProverError;
use crate::srs::LoadedSrs;

/// Runs the model in the runtime on the best device and checks the trace against the
/// reference semantics, so a runtime bug can never turn into a proof of a wrong output.
pub fn run_checked(graph: &QGraph, input: &[i64]) -> Result<Trace, ProverError> {
    run_checked_on(graph, input, &zkinfer_runtime::best_device())
}

/// [`run_checked`] on `device`.
pub fn run_checked_on(
    graph: &QGraph,
    input: &[i64],
    device: &zkinfer_runtime::Device,
) -> Result<Trace, ProverError> {
    let trace = zkinfer_runtime::run(graph, input, device)?;
    let reference = graph.eval(input)?;
    if let Some(tensor) = trace
        .tensors
        .iter()
        .zip(&reference.tensors)
        .position(|(a, b)| a != b)
    {
        return Err(ProverError::RuntimeMismatch { tensor });
    }
    if trace.tensors.len() != reference.tensors.len() {
        return Err(ProverError::RuntimeMismatch {
            tensor: trace.tensors.len().min(reference.tensors.len()),
        });
    }
    Ok(trace)
}

/// Hex of a field element as 32 bytes big-endian (the EVM's word order).
pub fn fr_to_hex_be(f: &Fr) -> String {
    let mut bytes = f.to_repr().as_ref().to_vec();
    bytes.reverse();
    hex::encode(bytes)
}

/// Proves `trace` (of `graph`) and returns the proof file. A hashed input is committed with
/// salt 0; use [`prove_with_salt`] to hide a guessable input.
pub fn prove(
    graph: Arc<QGraph>,
    params: &CircuitParams,
    pk: &ProvingKey<G1Affine>,
    srs: &LoadedSrs,
    trace: Trace,
    model_hash_hex: &str,
) -> Result<ProofFile, ProverError> {
    prove_with_salt(graph, params, pk, srs, trace, model_hash_hex, Fr::zero())
}

/// [`prove`] with the secret `salt` of a hashed input's commitment (ignored otherwise). The
/// salt never enters the proof file.
pub fn prove_with_salt(
    graph: Arc<QGraph>,
    params: &CircuitParams,
    pk: &ProvingKey<G1Affine>,
    srs: &LoadedSrs,
    trace: Trace,
    model_hash_hex: &str,
    salt: Fr,
) -> Result<ProofFile, ProverError> {
    let input = trace.get(0).unwrap_or(&[]).to_vec();
    let output = trace.get(graph.output).unwrap_or(&[]).to_vec();
    let instances = public_values_of(&graph, params, &input, &output, salt);
    let out_t = graph
        .output_tensor()
        .cloned()
        .unwrap_or_else(|| graph.input.clone());
    let circuits = [
        ModelCircuit::with_trace(graph.clone(), params.clone(), Arc::new(trace)).with_salt(salt),
    ];
    let mut transcript = EvmTranscriptWrite::init(Vec::new());
    create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, EvmChallenge, _, _, _>(
        &srs.params,
        pk,
        &circuits,
        &[&[&instances]],
        rand::rngs::OsRng,
        &mut transcript,
    )
    .map_err(|e| ProverError::from_halo2("proving", e, &circuits[0]))?;
    let proof = transcript.finalize();
    let output = TensorValues::from_ints(out_t.shape.clone(), out_t.scale, output);
    Ok(ProofFile {
        format: PROOF_FORMAT.into(),
        version: PROOF_VERSION,
        model_hash: model_hash_hex.to_string(),
        input_parts: input_claims(&graph, &input, &instances),
        input: (graph.input_visibility == Visibility::Public
            && graph.input_part_visibility.is_empty())
        .then(|| TensorValues::from_ints(graph.input.shape.clone(), graph.input.scale, input)),
        input_hash: (graph.input_visibility == Visibility::Hashed
            && graph.input_part_visibility.is_empty())
        .then(|| instances.first().map(|f| format!("0x{}", fr_to_hex_be(f))))
        .flatten(),
        output_hash: (graph.output_visibility == Visibility::Hashed)
            .then(|| instances.get(graph.input_instances()))
            .flatten()
            .map(|f| format!("0x{}", fr_to_hex_be(f))),
        // The parameters' commitment comes just before the labels digest.
        param_hash: (graph.param_visibility == ParamVisibility::Hashed)
            .then(|| instances.iter().rev().nth(1))
            .flatten()
            .map(|f| format!("0x{}", fr_to_hex_be(f))),
        // Committed parameters: the caller adds the weight points (see `Keys::param_points`).
        param_commitments: Vec::new(),
        outputs: match graph.output_visibility {
            Visibility::Public => output.named_parts(&graph.output_parts),
            _ => Vec::new(),
        },
        output: (graph.output_visibility == Visibility::Public).then_some(output),
        instances: instances.iter().map(fr_to_hex_be).collect(),
        proof: hex::encode(proof),
        srs: if srs.insecure {
            "insecure-test".into()
        } else {
            "imported".into()
        },
    })
}

/// The per-input claims of a model whose inputs each have their own visibility (empty
/// otherwise): values for public inputs, the commitment (from `instances`) for hashed ones.
fn input_claims(graph: &QGraph, input: &[i64], instances: &[Fr]) -> Vec<PartClaim> {
    if graph.input_part_visibility.is_empty() {
        return Vec::new();
    }
    let mut at = 0;
    graph
        .input_segments()
        .into_iter()
        .map(|s| {
            let values = input.get(s.start..s.start + s.len()).unwrap_or(&[]);
            let claim = PartClaim {
                name: s.name.clone(),
                visibility: s.visibility,
                values: (s.visibility == Visibility::Public).then(|| {
                    TensorValues::from_ints(s.shape.clone(), graph.input.scale, values.to_vec())
                }),
                hash: (s.visibility == Visibility::Hashed)
                    .then(|| instances.get(at))
                    .flatten()
                    .map(|f| format!("0x{}", fr_to_hex_be(f))),
            };
            at += s.visibility.instances(s.len());
            claim
        })
        .collect()
}
