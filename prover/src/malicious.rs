//! Test-only: a malicious prover. It synthesizes the honest witness, lets the caller change
//! any advice cell and any public value, and still produces a real SHPLONK proof of the
//! result, so attack tests can check that the verifiers (offline and on-chain) reject what
//! the circuit does not allow. Compiled only with the `malicious-prover` feature; the
//! proving path ([`crate::prove()`]) never calls it.

use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_proofs::plonk::{create_proof_from_advice, synthesize_witness, ProvingKey};
use halo2_proofs::poly::kzg::commitment::KZGCommitmentScheme;
use halo2_proofs::poly::kzg::multiopen::ProverSHPLONK;
use halo2_proofs::transcript::TranscriptWriterBuffer;
use zkinfer_circuits::transcript::{EvmChallenge, EvmTranscriptWrite};
use zkinfer_circuits::ModelCircuit;

use crate::error::ProverError;
use crate::srs::LoadedSrs;

/// The advice cells of one synthesis, `[column][row]` in the Lagrange basis (blinding rows
/// zero: proving draws them).
pub type Advice = Vec<Vec<Fr>>;

fn halo2(stage: &'static str) -> impl Fn(halo2_proofs::plonk::Error) -> ProverError {
    move |e| ProverError::Halo2 {
        stage,
        detail: e.to_string(),
    }
}

/// The honest witness of `circuit` for `instances`.
pub fn honest_advice(
    srs: &LoadedSrs,
    pk: &ProvingKey<G1Affine>,
    circuit: ModelCircuit,
    instances: &[Fr],
) -> Result<Advice, ProverError> {
    let mut scratch = EvmTranscriptWrite::init(Vec::new());
    let (_, advice, _) = synthesize_witness::<
        KZGCommitmentScheme<Bn256>,
        ProverSHPLONK<'_, Bn256>,
        EvmChallenge,
        _,
        _,
        _,
    >(
        &srs.params,
        pk,
        &[circuit],
        &[&[instances]],
        rand::rngs::OsRng,
        &mut scratch,
    )
    .map_err(halo2("witness synthesis"))?;
    let single = advice.into_iter().next().ok_or(ProverError::Halo2 {
        stage: "witness synthesis",
        detail: "no advice for the circuit".into(),
    })?;
    Ok(single
        .advice_values
        .into_iter()
        .map(|column| column.to_vec())
        .collect())
}

/// A real proof of `advice` with public values `instances`, whatever they satisfy.
pub fn prove_advice(
    srs: &LoadedSrs,
    pk: &ProvingKey<G1Affine>,
    instances: &[Fr],
    advice: Advice,
) -> Result<Vec<u8>, ProverError> {
    let mut transcript = EvmTranscriptWrite::init(Vec::new());
    create_proof_from_advice::<
        KZGCommitmentScheme<Bn256>,
        ProverSHPLONK<'_, Bn256>,
        EvmChallenge,
        _,
        _,
    >(
        &srs.params,
        pk,
        &[instances],
        advice,
        rand::rngs::OsRng,
        &mut transcript,
    )
    .map_err(halo2("proving"))?;
    Ok(transcript.finalize())
}
