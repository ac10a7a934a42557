//! Offline verification of a proof file against a verifying key.

use halo2_proofs::halo2curves::bn256::{Bn256, Fr};
use halo2_proofs::halo2curves::ff::PrimeField;
use halo2_proofs::plonk::verify_proof;
use halo2_proofs::poly::kzg::commitment::KZGCommitmentScheme;
use halo2_proofs::poly::kzg::multiopen::VerifierSHPLONK;
use halo2_proofs::poly::kzg::strategy::SingleStrategy;
use halo2_proofs::transcript::TranscriptReadBuffer;
use zkinfer_circuits::public_values;
use zkinfer_circuits::transcript::{EvmChallenge, EvmTranscriptRead};
use zkinfer_ir::artifact::hash_hex;
use zkinfer_ir::proof_file::{ProofFile, TensorValues};

use crate::error::VerifyError;
use crate::key::VerifierKey;

/// What a successful verification establishes.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The proven output.
    pub output: TensorValues,
    /// True when the key came from an insecure test SRS.
    pub insecure_srs: bool,
}

fn mismatch(field: &str, detail: String) -> VerifyError {
    VerifyError::Mismatch {
        field: field.to_string(),
        detail,
    }
}

fn check_tensor(
    field: &str,
    t: &TensorValues,
    shape: &[usize],
    scale: u32,
) -> Result<(), VerifyError> {
    if t.shape != shape {
        return Err(mismatch(
            &format!("{field}.shape"),
            format!("{:?}, the key expects {shape:?}", t.shape),
        ));
    }
    if t.scale != scale {
        return Err(mismatch(
            &format!("{field}.scale"),
            format!("{}, the key expects {scale}", t.scale),
        ));
    }
    let n: usize = shape.iter().product();
    if t.ints.len() != n {
        return Err(mismatch(
            &format!("{field}.ints"),
            format!("{} values, the key expects {n}", t.ints.len()),
        ));
    }
    if let Some(i) = t.first_inconsistent_float() {
        return Err(mismatch(
            &format!("{field}.floats[{i}]"),
            "does not equal ints / 2^scale".into(),
        ));
    }
    Ok(())
}

/// Parses a 32-byte big-endian hex field element; `None` unless canonical.
pub(crate) fn fr_from_hex_be(s: &str) -> Option<Fr> {
    let mut bytes = hex::decode(s).ok()?;
    if bytes.len() != 32 {
        return None;
    }
    bytes.reverse();
    let mut repr = <Fr as PrimeField>::Repr::default();
    repr.as_mut().copy_from_slice(&bytes);
    Option::from(Fr::from_repr(repr))
}

/// Checks everything but the cryptography: model identity, shapes, scales, the input range and
/// that the instances are the input and output values. Returns the instances.
pub(crate) fn check_public(key: &VerifierKey, proof: &ProofFile) -> Result<Vec<Fr>, VerifyError> {
    let key_model = hash_hex(&key.model_hash);
    if proof.model_hash != key_model {
        return Err(VerifyError::ModelMismatch {
            proof_model: proof.model_hash.clone(),
            key_model,
        });
    }
    let h = &key.header;
    check_tensor("input", &proof.input, &h.input_shape, h.input_scale)?;
    check_tensor("output", &proof.output, &h.output_shape, h.output_scale)?;
    if let Some((index, &value)) = proof
        .input
        .ints
        .iter()
        .enumerate()
        .find(|(_, v)| v.unsigned_abs() > h.input_bound)
    {
        return Err(VerifyError::InputOutOfRange {
            index,
            value,
            bound: h.input_bound,
        });
    }
    let instances = public_values(&proof.input.ints, &proof.output.ints);
    if proof.instances.len() != instances.len() {
        return Err(mismatch(
            "instances",
            format!(
                "{} values, expected {}",
                proof.instances.len(),
                instances.len()
            ),
        ));
    }
    for (i, (text, expected)) in proof.instances.iter().zip(&instances).enumerate() {
        if fr_from_hex_be(text) != Some(*expected) {
            return Err(mismatch(
                &format!("instances[{i}]"),
                "does not match the input and output values".into(),
            ));
        }
    }
    Ok(instances)
}

/// Checks `proof` against `key`: model identity, public values, then the proof itself.
pub fn verify(key: &VerifierKey, proof: &ProofFile) -> Result<Verified, VerifyError> {
    let instances = check_public(key, proof)?;
    let bytes =
        hex::decode(&proof.proof).map_err(|e| VerifyError::Malformed(format!("not hex: {e}")))?;
    check_proof(key, &instances, &bytes)?;
    Ok(Verified {
        output: proof.output.clone(),
        insecure_srs: key.insecure_srs(),
    })
}

/// Runs the SHPLONK/Keccak check of raw proof bytes against public values.
pub fn check_proof(key: &VerifierKey, instances: &[Fr], proof: &[u8]) -> Result<(), VerifyError> {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut transcript = EvmTranscriptRead::init(proof);
        let strategy = SingleStrategy::new(&key.params);
        let result = verify_proof::<
            KZGCommitmentScheme<Bn256>,
            VerifierSHPLONK<'_, Bn256>,
            EvmChallenge,
            _,
            _,
        >(
            &key.params,
            &key.vk,
            strategy,
            &[&[instances]],
            &mut transcript,
        );
        (result, transcript.into_reader().len())
    }));
    match outcome {
        Err(_) => Err(VerifyError::Malformed(
            "the verifier could not parse the proof".into(),
        )),
        Ok((Err(e), _)) => Err(VerifyError::ProofRejected(e.to_string())),
        Ok((Ok(()), 0)) => Ok(()),
        Ok((Ok(()), rest)) => Err(VerifyError::Malformed(format!(
            "{rest} trailing bytes after the proof"
        ))),
    }
}
