//! The verifier's own soundness suite, on a committed key and proof of the bundled example
//! model: the honest proof passes; tampered proofs, keys and public values are rejected
//! with an error, never a panic.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zkinfer_ir::proof_file::ProofFile;
use zkinfer_verifier::{verify, VerifierKey, VerifyError};

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn load() -> (Vec<u8>, ProofFile) {
    let vk = std::fs::read(fixture("example_vk.bin")).unwrap();
    let proof = ProofFile::read(&fixture("example_proof.json")).unwrap();
    (vk, proof)
}

#[test]
fn committed_proof_verifies() {
    let (vk, proof) = load();
    let key = VerifierKey::from_bytes(&vk, Path::new("vk.bin")).unwrap();
    let out = verify(&key, &proof).unwrap();
    assert_eq!(out.output.ints, proof.output.ints);
}

#[test]
fn flipped_proof_bytes_are_rejected() {
    let (vk, proof) = load();
    let key = VerifierKey::from_bytes(&vk, Path::new("vk.bin")).unwrap();
    let bytes = hex::decode(&proof.proof).unwrap();
    // Every 4th byte, plus the first and last 64: covers every commitment and evaluation.
    let positions = (0..bytes.len()).filter(|i| i % 4 == 1 || *i < 64 || *i + 64 >= bytes.len());
    for i in positions {
        for mask in [0x01u8, 0x80] {
            let mut t = bytes.clone();
            t[i] ^= mask;
            let mut p = proof.clone();
            p.proof = hex::encode(&t);
            let r = verify(&key, &p);
            assert!(
                matches!(
                    r,
                    Err(VerifyError::ProofRejected(_) | VerifyError::Malformed(_))
                ),
                "byte {i}: {r:?}"
            );
        }
    }
}

#[test]
fn tampered_keys_are_rejected_without_panic() {
    let (vk, proof) = load();
    let path = Path::new("vk.bin");
    for i in (0..vk.len()).step_by(3) {
        let mut t = vk.clone();
        t[i] ^= 0x5a;
        if let Ok(key) = VerifierKey::from_bytes(&t, path) {
            // Header bytes that parse (e.g. whitespace-insensitive JSON) must still fail or
            // describe the same circuit; a changed VK must never accept.
            if t != vk {
                if let Ok(v) = verify(&key, &proof) {
                    // Only a change that leaves the key semantically identical may pass.
                    assert_eq!(v.output, proof.output, "byte {i}");
                    // The source/weights digests are informational (not part of the circuit);
                    // everything that defines the statement must be unchanged.
                    let mut a = key.header.clone();
                    let mut b = VerifierKey::from_bytes(&vk, path).unwrap().header;
                    for h in [&mut a, &mut b] {
                        h.source_sha256.clear();
                        h.weights_sha256.clear();
                    }
                    assert_eq!(a, b, "byte {i} changed the statement but the proof passed");
                }
            }
        }
    }
    for cut in [0, 7, 44, 60, vk.len() / 2, vk.len() - 1] {
        assert!(
            VerifierKey::from_bytes(&vk[..cut], path).is_err(),
            "cut at {cut}"
        );
    }
}

#[test]
fn random_garbage_never_panics() {
    let (vk, proof) = load();
    let key = VerifierKey::from_bytes(&vk, Path::new("vk.bin")).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for _ in 0..200 {
        let n = rng.gen_range(0..4000);
        let junk: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
        assert!(VerifierKey::from_bytes(&junk, Path::new("junk")).is_err());
        let mut p = proof.clone();
        p.proof = hex::encode(&junk);
        assert!(verify(&key, &p).is_err());
    }
    let text = proof.to_json();
    for _ in 0..300 {
        let mut bytes = text.clone().into_bytes();
        let i = rng.gen_range(0..bytes.len());
        bytes[i] = rng.gen_range(b' '..=b'~');
        if let Ok(s) = String::from_utf8(bytes) {
            if let Ok(p) = ProofFile::parse(&s, Path::new("p.json")) {
                let _ = verify(&key, &p);
            }
        }
    }
}

#[test]
fn public_value_mismatches_are_named() {
    let (vk, proof) = load();
    let key = VerifierKey::from_bytes(&vk, Path::new("vk.bin")).unwrap();
    let mut p = proof.clone();
    p.instances[3] = "00".repeat(32);
    assert!(
        matches!(verify(&key, &p), Err(VerifyError::Mismatch { field, .. }) if field == "instances[3]")
    );
    let mut p = proof.clone();
    p.output.ints.pop();
    assert!(
        matches!(verify(&key, &p), Err(VerifyError::Mismatch { field, .. }) if field == "output.ints")
    );
    let mut p = proof.clone();
    p.input.ints[0] = i64::MAX;
    assert!(matches!(
        verify(&key, &p),
        Err(VerifyError::Mismatch { .. } | VerifyError::InputOutOfRange { .. })
    ));
    let mut p = proof.clone();
    p.output.scale += 1;
    assert!(
        matches!(verify(&key, &p), Err(VerifyError::Mismatch { field, .. }) if field == "output.scale")
    );
}

#[test]
fn fuzz_body_survives_mutations_of_a_valid_seed() {
    let (vk, proof) = load();
    let seed = zkinfer_verifier::fuzzing::seed(&vk, &proof.to_json());
    zkinfer_verifier::fuzzing::verify_untrusted(&seed);
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for _ in 0..300 {
        let mut data = seed.clone();
        for _ in 0..rng.gen_range(1..4) {
            let i = rng.gen_range(0..data.len());
            data[i] = rng.gen();
        }
        if rng.gen_bool(0.1) {
            data.truncate(rng.gen_range(0..data.len()));
        }
        zkinfer_verifier::fuzzing::verify_untrusted(&data);
    }
}

#[test]
fn fuzz_regressions_do_not_panic() {
    // Inputs that once crashed the fuzz target (a VK with too few fixed commitments).
    let dir = fixture("fuzz_regressions");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        zkinfer_verifier::fuzzing::verify_untrusted(&data);
        seen += 1;
    }
    assert!(seen > 0);
}

#[test]
fn public_value_shapes_that_overflow_or_outgrow_the_circuit_are_named() {
    use zkinfer_ir::artifact::{self, ArtifactKind};
    let (vk, _) = load();
    let path = Path::new("vk.bin");
    let (hash, payload) = artifact::decode(ArtifactKind::VerifyingKey, &vk, path).unwrap();
    let (head, body) = artifact::split_header(payload).unwrap();
    let header: serde_json::Value = serde_json::from_slice(head).unwrap();
    let huge = usize::MAX / 2 + 1;
    for shape in [vec![huge, 2], vec![1, 1 << 27]] {
        let mut h = header.clone();
        h["input_shape"] = serde_json::json!(shape);
        let head = serde_json::to_vec(&h).unwrap();
        let bytes = artifact::encode(
            ArtifactKind::VerifyingKey,
            &hash,
            &artifact::join_header(&head, body),
        );
        let err = VerifierKey::from_bytes(&bytes, path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("do not fit a circuit"), "{shape:?}: {err}");
    }
}
