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
use zkinfer_verifier::error::{KeyProblem, MalformedProof, ProofMismatch, PublicTensor};
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
    assert_eq!(
        out.output.as_ref().unwrap().ints,
        proof.output.as_ref().unwrap().ints
    );
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
            // Same length, valid hex: only the cryptography can refuse it.
            assert!(
                matches!(r, Err(VerifyError::ProofRejected(_))),
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
        let r = VerifierKey::from_bytes(&vk[..cut], path);
        assert!(
            matches!(
                r,
                Err(VerifyError::Artifact(_) | VerifyError::BadKey { .. })
            ),
            "cut at {cut}: {r:?}"
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
    match verify(&key, &p) {
        Err(VerifyError::Mismatch(m @ ProofMismatch::InstanceValue { index: 3 })) => {
            assert_eq!(m.field(), "instances[3]");
        }
        other => panic!("{other:?}"),
    }
    let mut p = proof.clone();
    p.instances[3] = "ff".repeat(32);
    assert!(matches!(
        verify(&key, &p),
        Err(VerifyError::Mismatch(ProofMismatch::InstanceEncoding {
            index: 3
        }))
    ));
    let mut p = proof.clone();
    p.instances.pop();
    let n = proof.instances.len();
    assert!(matches!(
        verify(&key, &p),
        Err(VerifyError::Mismatch(ProofMismatch::InstanceCount { expected, got }))
            if expected == n && got == n - 1
    ));
    let mut p = proof.clone();
    p.output.as_mut().unwrap().ints.pop();
    let n = proof.output.as_ref().unwrap().ints.len();
    match verify(&key, &p) {
        Err(VerifyError::Mismatch(
            m @ ProofMismatch::IntCount {
                tensor: PublicTensor::Output,
                expected,
                got,
            },
        )) if expected == n && got == n - 1 => assert_eq!(m.field(), "output.ints"),
        other => panic!("{other:?}"),
    }
    let mut p = proof.clone();
    if let Some(input) = p.input.as_mut() {
        input.ints[0] = i64::MAX;
    }
    assert!(matches!(
        verify(&key, &p),
        Err(VerifyError::Mismatch(ProofMismatch::Float {
            tensor: PublicTensor::Input,
            index: 0
        }) | VerifyError::InputOutOfRange {
            index: 0,
            value: i64::MAX,
            ..
        })
    ));
    let mut p = proof.clone();
    p.output.as_mut().unwrap().scale += 1;
    let scale = proof.output.as_ref().unwrap().scale;
    match verify(&key, &p) {
        Err(VerifyError::Mismatch(
            m @ ProofMismatch::Scale {
                tensor: PublicTensor::Output,
                expected,
                got,
            },
        )) if expected == scale && got == scale + 1 => assert_eq!(m.field(), "output.scale"),
        other => panic!("{other:?}"),
    }
    let mut p = proof.clone();
    if let Some(input) = p.input.as_mut() {
        input.shape.push(1);
    }
    let input_shape = proof
        .input
        .as_ref()
        .map(|i| i.shape.clone())
        .unwrap_or_default();
    assert!(matches!(
        verify(&key, &p),
        Err(VerifyError::Mismatch(ProofMismatch::Shape {
            tensor: PublicTensor::Input,
            ref expected,
            ref got,
        })) if *expected == input_shape && got.len() == input_shape.len() + 1
    ));
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
        let err = VerifierKey::from_bytes(&bytes, path).unwrap_err();
        assert!(
            matches!(
                &err,
                VerifyError::BadKey {
                    path: p,
                    problem: KeyProblem::ShapesDoNotFit { input_shape, .. },
                } if p == path && *input_shape == shape
            ),
            "{shape:?}: {err:?}"
        );
        let err = err.to_string();
        assert!(err.contains("do not fit a circuit"), "{shape:?}: {err}");
    }
}

/// A verifying key rewritten with `edit` applied to its JSON header and its payload.
fn rewrite_key(
    vk: &[u8],
    edit_header: impl FnOnce(&mut serde_json::Value),
    edit_body: impl FnOnce(&mut Vec<u8>),
) -> Vec<u8> {
    use zkinfer_ir::artifact::{self, ArtifactKind};
    let path = Path::new("vk.bin");
    let (hash, payload) = artifact::decode(ArtifactKind::VerifyingKey, vk, path).unwrap();
    let (head, body) = artifact::split_header(payload).unwrap();
    let mut header: serde_json::Value = serde_json::from_slice(head).unwrap();
    edit_header(&mut header);
    let mut body = body.to_vec();
    edit_body(&mut body);
    let head = serde_json::to_vec(&header).unwrap();
    artifact::encode(
        ArtifactKind::VerifyingKey,
        &hash,
        &artifact::join_header(&head, &body),
    )
}

#[test]
fn key_problems_can_be_matched_by_cause() {
    let (vk, _) = load();
    let path = Path::new("vk.bin");
    let problem = |bytes: &[u8]| match VerifierKey::from_bytes(bytes, path) {
        Err(VerifyError::BadKey { problem, .. }) => problem,
        other => panic!("expected a bad key, got {other:?}"),
    };
    // One byte after the halo2 key.
    let trailing = rewrite_key(&vk, |_| {}, |body| body.push(0));
    assert!(matches!(
        problem(&trailing),
        KeyProblem::TrailingBytes { count: 1 }
    ));
    // A parameter outside the supported range is named, with its value and the range.
    let no_lanes = rewrite_key(&vk, |h| h["circuit"]["lanes"] = 0.into(), |_| {});
    assert!(matches!(
        problem(&no_lanes),
        KeyProblem::ParameterOutOfRange {
            parameter: "lanes",
            value: 0,
            min: 1,
            ..
        }
    ));
    // The halo2 key's own k disagrees with the header's.
    let k = VerifierKey::from_bytes(&vk, path).unwrap().header.circuit.k;
    let other_k = rewrite_key(&vk, |_| {}, |body| body[1] ^= 1);
    assert!(matches!(
        problem(&other_k),
        KeyProblem::KMismatch { header_k, key_k } if header_k == k && key_k == k ^ 1
    ));
    // Compressed selectors.
    let compressed = rewrite_key(&vk, |_| {}, |body| body[5] = 1);
    assert!(matches!(
        problem(&compressed),
        KeyProblem::CompressedSelectors
    ));
    // A header that is not JSON keeps the parser's error.
    let (hash, payload) =
        zkinfer_ir::artifact::decode(zkinfer_ir::artifact::ArtifactKind::VerifyingKey, &vk, path)
            .unwrap();
    let (_, body) = zkinfer_ir::artifact::split_header(payload).unwrap();
    let not_json = zkinfer_ir::artifact::encode(
        zkinfer_ir::artifact::ArtifactKind::VerifyingKey,
        &hash,
        &zkinfer_ir::artifact::join_header(b"{\"circuit\":", body),
    );
    assert!(matches!(
        problem(&not_json),
        KeyProblem::Header { source } if source.is_eof()
    ));
}

#[test]
fn truncated_or_extended_proofs_give_the_length_cause() {
    let (vk, proof) = load();
    let key = VerifierKey::from_bytes(&vk, Path::new("vk.bin")).unwrap();
    let bytes = hex::decode(&proof.proof).unwrap();
    // Every proof for a key has one length, and the committed proof has it.
    assert_eq!(key.proof_len(), bytes.len());
    for len in [0, 32, bytes.len() / 2, bytes.len() - 32, bytes.len() - 1] {
        let mut p = proof.clone();
        p.proof = hex::encode(&bytes[..len]);
        match verify(&key, &p) {
            Err(VerifyError::Malformed(MalformedProof::Length { expected, got })) => {
                assert_eq!((expected, got), (bytes.len(), len));
            }
            other => panic!("cut to {len} bytes: {other:?}"),
        }
    }
    for extra in [1, 32] {
        let mut p = proof.clone();
        p.proof.push_str(&"00".repeat(extra));
        assert!(
            matches!(
                verify(&key, &p),
                Err(VerifyError::Malformed(MalformedProof::Length { expected, got }))
                    if expected == bytes.len() && got == bytes.len() + extra
            ),
            "{extra} extra bytes"
        );
    }
    // Not hex: the decoder's own error, with the offending character and its index.
    let mut p = proof.clone();
    p.proof.replace_range(10..11, "g");
    assert!(matches!(
        verify(&key, &p),
        Err(VerifyError::Malformed(MalformedProof::NotHex {
            source: hex::FromHexError::InvalidHexCharacter { c: 'g', index: 10 }
        }))
    ));
    let mut p = proof.clone();
    p.proof.push('0');
    assert!(matches!(
        verify(&key, &p),
        Err(VerifyError::Malformed(MalformedProof::NotHex {
            source: hex::FromHexError::OddLength
        }))
    ));
}
