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
use zkinfer_circuits::vk_header::VkHeader;
use zkinfer_ir::artifact::hash_hex;
use zkinfer_ir::proof_file::{ProofFile, TensorValues};
use zkinfer_ir::{ParamVisibility, Visibility};

use crate::error::{MalformedProof, ProofMismatch, PublicTensor, RejectReason, VerifyError};
use crate::key::VerifierKey;

/// What a successful verification establishes.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The proven output (absent when the key hides it).
    pub output: Option<TensorValues>,
    /// True when the key came from an insecure test SRS.
    pub insecure_srs: bool,
}

fn check_tensor(
    tensor: PublicTensor,
    t: &TensorValues,
    shape: &[usize],
    scale: u32,
) -> Result<(), ProofMismatch> {
    if t.shape != shape {
        return Err(ProofMismatch::Shape {
            tensor,
            expected: shape.to_vec(),
            got: t.shape.clone(),
        });
    }
    if t.scale != scale {
        return Err(ProofMismatch::Scale {
            tensor,
            expected: scale,
            got: t.scale,
        });
    }
    let n: usize = shape.iter().product();
    if t.ints.len() != n {
        return Err(ProofMismatch::IntCount {
            tensor,
            expected: n,
            got: t.ints.len(),
        });
    }
    if let Some(index) = t.first_inconsistent_float() {
        return Err(ProofMismatch::Float { tensor, index });
    }
    Ok(())
}

/// The named graph outputs of the proof file are exactly the key's, each holding its part of
/// the (already checked) flat output.
fn check_output_parts(h: &VkHeader, proof: &ProofFile) -> Result<(), ProofMismatch> {
    // A hidden output shows no parts either.
    let parts: &[zkinfer_ir::IoPart] = if h.output_visibility.is_public() {
        &h.output_parts
    } else {
        &[]
    };
    if proof.outputs.len() != parts.len() {
        return Err(ProofMismatch::OutputPartCount {
            expected: parts.len(),
            got: proof.outputs.len(),
        });
    }
    let mut rest = proof.output.as_ref().map_or(&[][..], |t| t.ints.as_slice());
    for (index, (got, want)) in proof.outputs.iter().zip(parts).enumerate() {
        let bad = |field| ProofMismatch::OutputPart { index, field };
        if got.name != want.name {
            return Err(bad("name"));
        }
        if got.values.shape != want.shape {
            return Err(bad("shape"));
        }
        if got.values.scale != h.output_scale {
            return Err(bad("scale"));
        }
        let (head, tail) = rest.split_at_checked(want.numel()).ok_or(bad("ints"))?;
        if got.values.ints != head {
            return Err(bad("ints"));
        }
        if got.values.first_inconsistent_float().is_some() {
            return Err(bad("floats"));
        }
        rest = tail;
    }
    if !parts.is_empty() && !rest.is_empty() {
        return Err(ProofMismatch::OutputPartCount {
            expected: parts.len(),
            got: proof.outputs.len(),
        });
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
    let mut instances = if h.input_part_visibility.is_empty() {
        if !proof.input_parts.is_empty() {
            return Err(VerifyError::Mismatch(ProofMismatch::InputPartCount {
                expected: 0,
                got: proof.input_parts.len(),
            }));
        }
        public_group(
            PublicTensor::Input,
            h.input_visibility,
            proof.input.as_ref(),
            proof.input_hash.as_ref(),
            &h.input_shape,
            h.input_scale,
        )
        .map_err(VerifyError::Mismatch)?
    } else {
        public_input_parts(h, proof).map_err(VerifyError::Mismatch)?
    };
    instances.extend(
        public_group(
            PublicTensor::Output,
            h.output_visibility,
            proof.output.as_ref(),
            proof.output_hash.as_ref(),
            &h.output_shape,
            h.output_scale,
        )
        .map_err(VerifyError::Mismatch)?,
    );
    instances.extend(public_param_hash(h, proof).map_err(VerifyError::Mismatch)?);
    // The last public value is computed from the key's own header, never read from the proof
    // file: a relabelled header gives another value, which the circuit's fixed cell refuses.
    instances.push(h.labels_digest());
    check_output_parts(h, proof).map_err(VerifyError::Mismatch)?;
    if let Some((index, &value)) = proof
        .input
        .iter()
        .chain(proof.input_parts.iter().filter_map(|p| p.values.as_ref()))
        .flat_map(|t| t.ints.iter())
        .enumerate()
        .find(|(_, v)| !zkinfer_ir::input_range::admits(h.input_bound, **v))
    {
        return Err(VerifyError::InputOutOfRange {
            index,
            value,
            bound: h.input_bound,
        });
    }
    if proof.instances.len() != instances.len() {
        return Err(VerifyError::Mismatch(ProofMismatch::InstanceCount {
            expected: instances.len(),
            got: proof.instances.len(),
        }));
    }
    for (index, (text, expected)) in proof.instances.iter().zip(&instances).enumerate() {
        match fr_from_hex_be(text) {
            None => {
                return Err(VerifyError::Mismatch(ProofMismatch::InstanceEncoding {
                    index,
                }))
            }
            Some(value) if value != *expected => {
                let labels = index + 1 == instances.len();
                return Err(VerifyError::Mismatch(if labels {
                    ProofMismatch::Labels { index }
                } else {
                    ProofMismatch::InstanceValue { index }
                }));
            }
            Some(_) => {}
        }
    }
    Ok(instances)
}

/// One tensor's public values as the key's visibility says: the checked values, the
/// commitment in the hash field, or nothing; a file that shows a hidden tensor, or hides a
/// public one, is refused.
fn public_group(
    tensor: PublicTensor,
    visibility: Visibility,
    values: Option<&TensorValues>,
    hash: Option<&String>,
    shape: &[usize],
    scale: u32,
) -> Result<Vec<Fr>, ProofMismatch> {
    let (field, hash_field) = match tensor {
        PublicTensor::Input => ("input", "input_hash"),
        PublicTensor::Output => ("output", "output_hash"),
    };
    let refuse = |field, must| ProofMismatch::Visibility {
        tensor,
        field,
        visibility,
        must,
    };
    match (visibility, values, hash) {
        (Visibility::Public, Some(t), None) => {
            check_tensor(tensor, t, shape, scale)?;
            Ok(public_values(&t.ints, &[]))
        }
        (Visibility::Public, None, _) => Err(refuse(field, "hold it")),
        (Visibility::Public, Some(_), Some(_)) => Err(refuse(hash_field, "not hold it")),
        (_, Some(_), _) => Err(refuse(field, "not hold it")),
        (Visibility::Private, None, None) => Ok(Vec::new()),
        (Visibility::Private, None, Some(_)) => Err(refuse(hash_field, "not hold it")),
        (Visibility::Hashed, None, None) => Err(refuse(hash_field, "hold it")),
        (Visibility::Hashed, None, Some(hash)) => fr_from_hex_be(hash.trim_start_matches("0x"))
            .map(|f| vec![f])
            .ok_or(refuse(
                hash_field,
                "hold a 32-byte big-endian field element",
            )),
    }
}

/// The instances of a key whose graph inputs each have their own visibility: the file's
/// `input_parts` must name the key's inputs in order, each with its values, its commitment
/// or nothing, as its visibility says (and `input`, `input_hash` must be absent).
fn public_input_parts(h: &VkHeader, proof: &ProofFile) -> Result<Vec<Fr>, ProofMismatch> {
    let refuse = |field, must| ProofMismatch::Visibility {
        tensor: PublicTensor::Input,
        field,
        visibility: h.input_visibility,
        must,
    };
    if proof.input.is_some() {
        return Err(refuse(
            "input",
            "not hold it (the inputs are in `input_parts`)",
        ));
    }
    if proof.input_hash.is_some() {
        return Err(refuse(
            "input_hash",
            "not hold it (the inputs are in `input_parts`)",
        ));
    }
    let segments = h.input_segments();
    if proof.input_parts.len() != segments.len() {
        return Err(ProofMismatch::InputPartCount {
            expected: segments.len(),
            got: proof.input_parts.len(),
        });
    }
    let mut out = Vec::new();
    for (index, (claim, seg)) in proof.input_parts.iter().zip(&segments).enumerate() {
        let bad = |field| ProofMismatch::InputPart { index, field };
        if claim.name != seg.name {
            return Err(bad("name"));
        }
        if claim.visibility != seg.visibility {
            return Err(bad("visibility"));
        }
        out.extend(
            public_group(
                PublicTensor::Input,
                seg.visibility,
                claim.values.as_ref(),
                claim.hash.as_ref(),
                &seg.shape,
                h.input_scale,
            )
            .map_err(|e| match e {
                ProofMismatch::Visibility { .. } => bad("values or hash"),
                other => other,
            })?,
        );
    }
    Ok(out)
}

/// The parameters' commitment when the key says they are hashed; a file that holds one for
/// another key is refused.
fn public_param_hash(h: &VkHeader, proof: &ProofFile) -> Result<Vec<Fr>, ProofMismatch> {
    let refuse = |must| ProofMismatch::ParamVisibility {
        visibility: h.param_visibility,
        must,
    };
    match (h.param_visibility, &proof.param_hash) {
        (ParamVisibility::Hashed, None) => Err(refuse("hold it")),
        (ParamVisibility::Hashed, Some(hash)) => fr_from_hex_be(hash.trim_start_matches("0x"))
            .map(|f| vec![f])
            .ok_or(refuse("hold a 32-byte big-endian field element")),
        // Not a public value: the weight points' digest, checked by `VerifierKey::for_proof`.
        (ParamVisibility::Committed, Some(_)) => Ok(Vec::new()),
        (ParamVisibility::Committed, None) => Err(refuse("hold the weight points' digest")),
        (_, Some(_)) => Err(refuse("not hold it")),
        (_, None) => Ok(Vec::new()),
    }
}

/// Checks `proof` against `key`: model identity, public values, then the proof itself.
pub fn verify(key: &VerifierKey, proof: &ProofFile) -> Result<Verified, VerifyError> {
    let instances = check_public(key, proof)?;
    let key = key.for_proof(proof)?;
    let bytes = hex::decode(&proof.proof)
        .map_err(|source| VerifyError::Malformed(MalformedProof::NotHex { source }))?;
    check_proof(&key, &instances, &bytes)?;
    Ok(Verified {
        output: proof.output.clone(),
        insecure_srs: key.insecure_srs(),
    })
}

/// Runs the SHPLONK/Keccak check of raw proof bytes against public values. A proof that is
/// not [`VerifierKey::proof_len`] bytes long is refused before any cryptography runs.
pub fn check_proof(key: &VerifierKey, instances: &[Fr], proof: &[u8]) -> Result<(), VerifyError> {
    let expected = key.proof_len();
    if proof.len() != expected {
        return Err(VerifyError::Malformed(MalformedProof::Length {
            expected,
            got: proof.len(),
        }));
    }
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
        Err(_) => Err(VerifyError::Malformed(MalformedProof::Unparseable)),
        Ok((Err(e), _)) => Err(VerifyError::ProofRejected(RejectReason::from_halo2(
            e,
            instances.len(),
        ))),
        Ok((Ok(()), 0)) => Ok(()),
        // Unreachable while `proof_len` is exact; halo2's own reading is the backstop.
        Ok((Ok(()), rest)) => Err(VerifyError::Malformed(MalformedProof::Length {
            expected: proof.len().saturating_sub(rest),
            got: proof.len(),
        })),
    }
}
