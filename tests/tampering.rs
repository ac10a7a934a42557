//! End to end: the example model proves and verifies, and every tampering is rejected
//! with a clear error (never a panic).

#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use std::path::Path;

use zkinfer::ir::proof_file::ProofFile;
use zkinfer::verifier::error::{MalformedProof, ProofMismatch, PublicTensor};
use zkinfer::verifier::{verify, VerifierKey, VerifyError};

fn key(bytes: &[u8]) -> VerifierKey {
    VerifierKey::from_bytes(bytes, Path::new("vk.bin")).expect("valid key")
}

#[test]
fn honest_proof_verifies_and_any_flipped_proof_byte_is_rejected() {
    let built = common::build_example();
    let vk = key(&built.vk_bytes);
    let proof = built.prove();
    let verified = verify(&vk, &proof).expect("honest proof");
    assert_eq!(verified.output, proof.output);
    assert!(verified.insecure_srs);

    let bytes = hex::decode(&proof.proof).expect("hex");
    for i in 0..bytes.len() {
        let mut tampered = bytes.clone();
        tampered[i] ^= 0xff;
        let mut p = proof.clone();
        p.proof = hex::encode(&tampered);
        match verify(&vk, &p) {
            Err(VerifyError::ProofRejected(_) | VerifyError::Malformed(_)) => {}
            other => panic!("byte {i}: expected rejection, got {other:?}"),
        }
    }
    // Truncated and extended proofs.
    for cut in [&bytes[..bytes.len() - 1], &bytes[..32], &[][..]] {
        let mut p = proof.clone();
        p.proof = hex::encode(cut);
        assert!(verify(&vk, &p).is_err());
    }
    let mut p = proof.clone();
    p.proof.push_str("00");
    assert!(matches!(
        verify(&vk, &p),
        Err(VerifyError::Malformed(MalformedProof::Length { expected, got }))
            if expected == bytes.len() && got == bytes.len() + 1
    ));
}

#[test]
fn changed_public_values_are_rejected() {
    let built = common::build_example();
    let vk = key(&built.vk_bytes);
    let proof = built.prove();

    // A different output integer, with consistent float and instance: the proof itself fails.
    for i in 0..proof.output.as_ref().unwrap().ints.len() {
        let mut p = proof.clone();
        p.output.as_mut().unwrap().ints[i] += 1;
        p.output = Some(zkinfer::ir::proof_file::TensorValues::from_ints(
            p.output.as_mut().unwrap().shape.clone(),
            p.output.as_mut().unwrap().scale,
            p.output.as_mut().unwrap().ints.clone(),
        ));
        let n_in = p.input.as_ref().unwrap().ints.len();
        p.instances[n_in + i] = zkinfer::prover::prove::fr_to_hex_be(
            &zkinfer::circuits::field::fr_from_i64(p.output.as_mut().unwrap().ints[i]),
        );
        assert!(
            matches!(verify(&vk, &p), Err(VerifyError::ProofRejected(_))),
            "output {i}"
        );
    }
    // Only the float changed: caught before cryptography.
    let mut p = proof.clone();
    p.output.as_mut().unwrap().floats[0] += 0.5;
    assert!(matches!(
        verify(&vk, &p),
        Err(VerifyError::Mismatch(ProofMismatch::Float {
            tensor: PublicTensor::Output,
            index: 0
        }))
    ));
    // Only the integer changed: the instances no longer match.
    let mut p = proof.clone();
    p.output.as_mut().unwrap().ints[1] -= 1;
    assert!(verify(&vk, &p).is_err());
    // A changed input.
    let mut p = proof.clone();
    let input = p.input.as_mut().unwrap();
    input.ints[0] += 1;
    input.floats[0] = input.ints[0] as f64 / f64::from(1u32 << input.scale);
    assert!(verify(&vk, &p).is_err());
    // Another model's proof.
    let mut p = proof.clone();
    p.model_hash = "00".repeat(32);
    assert!(matches!(
        verify(&vk, &p),
        Err(VerifyError::ModelMismatch { .. })
    ));
}

#[test]
fn verifying_key_is_pinned() {
    // An accidental change to the circuit (gates, layout, fixed columns) changes this key.
    let built = common::build_example();
    let pinned = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/example_vk.bin");
    let proof_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("verifier/tests/fixtures/example_proof.json");
    if std::env::var_os("ZKINFER_BLESS").is_some() {
        std::fs::write(&pinned, &built.vk_bytes).expect("write pinned key");
        std::fs::create_dir_all(proof_path.parent().expect("parent")).expect("mkdir");
        std::fs::write(proof_path.with_file_name("example_vk.bin"), &built.vk_bytes)
            .expect("write key");
        std::fs::write(&proof_path, built.prove().to_json()).expect("write proof");
    }
    let expected = std::fs::read(&pinned)
        .expect("tests/fixtures/example_vk.bin (regenerate with ZKINFER_BLESS=1)");
    assert!(
        expected == built.vk_bytes,
        "the example's verifying key changed; if intended, regenerate with ZKINFER_BLESS=1"
    );
    let proof = ProofFile::read(&proof_path).expect("pinned proof");
    verify(&key(&expected), &proof).expect("the pinned proof still verifies");
}
