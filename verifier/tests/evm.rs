//! The Solidity verifier in the embedded EVM, on the bundled example proof: a valid proof
//! passes; any change to the proof, the public values or the calldata's length reverts;
//! `vkDigest()` returns the key's digest and no proof call can reach it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;

use zkinfer_ir::proof_file::ProofFile;
use zkinfer_verifier::error::{EvmFailure, MalformedProof, ProofMismatch, PublicTensor};
use zkinfer_verifier::evm::exec::{self, verify_calldata_in_evm, verify_in_evm, Deployed};
use zkinfer_verifier::evm::key_data::hdr;
use zkinfer_verifier::evm::{key_data, solidity, EvmKey};
use zkinfer_verifier::{calldata, VerifierKey, VerifyError};

/// BN254 scalar field modulus, big-endian.
const R: &str = "30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001";
/// BN254 base field modulus, big-endian.
const P: &str = "30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47";

fn fixtures() -> (VerifierKey, ProofFile) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let key = VerifierKey::read(&dir.join("example_vk.bin")).unwrap();
    let proof = ProofFile::read(&dir.join("example_proof.json")).unwrap();
    (key, proof)
}

struct Harness {
    key: EvmKey,
    deployed: Deployed,
    calldata: Vec<u8>,
}

fn harness() -> Harness {
    let (key, proof) = fixtures();
    let evm_key = key_data(&key).unwrap();
    let code = solidity::creation_with_key(&solidity::generic_creation_code().unwrap(), &evm_key);
    let deployed = exec::deploy(code).unwrap();
    let calldata = calldata::encode(&proof).unwrap();
    Harness {
        key: evm_key,
        deployed,
        calldata,
    }
}

impl Harness {
    fn rejects(&mut self, data: &[u8], what: &str) {
        match self.deployed.call(data) {
            // A refusal is a REVERT, not an exceptional halt, well within the gas limit.
            Err(VerifyError::EvmRejected(EvmFailure::Reverted { gas_used, .. }))
                if gas_used < exec::GAS_LIMIT => {}
            other => panic!("{what}: expected a revert, got {other:?}"),
        }
    }
}

/// a + b on 32-byte big-endian words (no overflow for the values used here).
fn add_be(a: &[u8], b: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in (0..32).rev() {
        let s = u16::from(a[i]) + u16::from(b[i]) + carry;
        out[i] = s as u8;
        carry = s >> 8;
    }
    assert_eq!(carry, 0);
    out
}

fn one() -> [u8; 32] {
    let mut w = [0u8; 32];
    w[31] = 1;
    w
}

#[test]
fn valid_proof_verifies_within_the_size_limit() {
    let mut h = harness();
    assert_eq!(h.calldata.len(), h.key.calldata_len);
    let gas = h.deployed.call(&h.calldata).unwrap();
    eprintln!(
        "example: verify gas {gas}, verifier {} B, key data {} B, {} MSM terms",
        h.deployed.runtime_size,
        h.key.data.len(),
        h.key.msm_terms
    );
    assert!(h.deployed.runtime_size < 24_576);
    assert!(h.key.data.len() + 1 < 24_576);
    // 21,000 base + calldata + one ecMul (6,000) per MSM term + the pairing (113,000).
    assert!(
        gas > 21_000 + 6_000 * h.key.msm_terms as u64 + 113_000,
        "{gas}"
    );
    assert!(gas < exec::GAS_LIMIT / 10, "{gas}");
    // Verifying is read-only: the same calldata verifies again.
    h.deployed.call(&h.calldata).unwrap();
}

#[test]
fn every_proof_word_with_a_flipped_byte_reverts() {
    let mut h = harness();
    let start = 32 * h.key.instance_count;
    let words = (h.calldata.len() - start) / 32;
    for w in 0..words {
        // Two positions per word: a rotating byte, and the lowest bit of the last byte.
        for pos in [start + 32 * w + (w * 11) % 32, start + 32 * w + 31] {
            let mut data = h.calldata.clone();
            data[pos] ^= 0x01;
            h.rejects(&data, &format!("flip at calldata byte {pos}"));
        }
    }
}

#[test]
fn every_scalar_changed_to_another_canonical_value_reverts() {
    let mut h = harness();
    let ranges = h.key.scalar_ranges.clone();
    for range in ranges {
        for at in range.step_by(32) {
            let mut data = h.calldata.clone();
            // v - 1, or v + 1 when the last byte is 0 (no borrow, no carry: still canonical).
            let mut bumped = data[at..at + 32].to_vec();
            bumped[31] = if bumped[31] > 0 { bumped[31] - 1 } else { 1 };
            data[at..at + 32].copy_from_slice(&bumped);
            h.rejects(&data, &format!("scalar at calldata byte {at} changed"));
        }
    }
}

#[test]
fn non_canonical_encodings_revert() {
    let mut h = harness();
    let r = hex::decode(R).unwrap();
    let p = hex::decode(P).unwrap();
    // A scalar plus the modulus is the same field element with another encoding.
    let scalar_at = h.key.scalar_ranges[1].start;
    let mut data = h.calldata.clone();
    let v = add_be(&data[scalar_at..scalar_at + 32], &r);
    data[scalar_at..scalar_at + 32].copy_from_slice(&v);
    h.rejects(&data, "scalar + r");
    // The same for a public value.
    let mut data = h.calldata.clone();
    let v = add_be(&data[..32], &r);
    data[..32].copy_from_slice(&v);
    h.rejects(&data, "public value + r");
    // A point coordinate plus the base field modulus.
    let point_at = h.key.point_ranges[0].start;
    let mut data = h.calldata.clone();
    let x = data[point_at..point_at + 32].to_vec();
    if x[0] < 0x30 {
        let v = add_be(&x, &p);
        data[point_at..point_at + 32].copy_from_slice(&v);
        h.rejects(&data, "x + p");
    }
    // The point at infinity, (0, 0).
    let mut data = h.calldata.clone();
    data[point_at..point_at + 64].fill(0);
    h.rejects(&data, "point at infinity");
}

#[test]
fn every_commitment_swapped_for_another_curve_point_reverts() {
    let mut h = harness();
    let mut points = Vec::new();
    for range in &h.key.point_ranges {
        points.extend(range.clone().step_by(64));
    }
    for (i, &at) in points.iter().enumerate() {
        // Another valid point of the same proof: the check is the math, not the encoding.
        let other = points[(i + 1) % points.len()];
        let mut data = h.calldata.clone();
        let replacement = h.calldata[other..other + 64].to_vec();
        data[at..at + 64].copy_from_slice(&replacement);
        h.rejects(&data, &format!("point at calldata byte {at} swapped"));
    }
}

#[test]
fn wrong_public_values_revert() {
    let mut h = harness();
    let n = h.key.instance_count;
    for (i, what) in [
        (n - 1, "last output"),
        (n - 2, "an output"),
        (0, "first input"),
    ] {
        let mut data = h.calldata.clone();
        let v = add_be(&data[32 * i..32 * i + 32], &one());
        data[32 * i..32 * i + 32].copy_from_slice(&v);
        h.rejects(&data, what);
    }
}

#[test]
fn truncated_or_extended_calldata_reverts() {
    let mut h = harness();
    let len = h.calldata.len();
    for cut in [1, 31, 32, 64, len / 2, len] {
        let data = h.calldata[..len - cut].to_vec();
        h.rejects(&data, &format!("calldata cut by {cut} bytes"));
    }
    let mut longer = h.calldata.clone();
    longer.push(0);
    h.rejects(&longer, "one extra byte");
    longer.extend([0u8; 31]);
    h.rejects(&longer, "one extra word");
}

#[test]
fn verify_in_evm_checks_the_proof_file_first() {
    let (key, proof) = fixtures();
    let verified = verify_in_evm(&key, &proof).unwrap();
    assert_eq!(verified.output, proof.output);
    assert_eq!(
        verified.calldata_len,
        calldata::encode(&proof).unwrap().len()
    );
    // An output that disagrees with the instances never reaches the EVM.
    let mut bad = proof.clone();
    bad.output.as_mut().unwrap().ints[0] += 1;
    bad.output.as_mut().unwrap().floats[0] = bad.output.as_mut().unwrap().ints[0] as f64
        / f64::from(1u32 << bad.output.as_mut().unwrap().scale);
    assert!(matches!(
        verify_in_evm(&key, &bad),
        Err(VerifyError::Mismatch(ProofMismatch::InstanceValue { index }))
            if index == proof.input.as_ref().map_or(0, |i| i.ints.len())
    ));
    // So does an inconsistent float.
    let mut bad = proof.clone();
    bad.output.as_mut().unwrap().floats[1] += 0.5;
    assert!(matches!(
        verify_in_evm(&key, &bad),
        Err(VerifyError::Mismatch(ProofMismatch::Float {
            tensor: PublicTensor::Output,
            index: 1
        }))
    ));
    // And a proof of the wrong length, with the same cause as offline.
    let mut bad = proof.clone();
    bad.proof.truncate(bad.proof.len() - 64);
    let got = hex::decode(&bad.proof).unwrap().len();
    assert!(matches!(
        verify_in_evm(&key, &bad),
        Err(VerifyError::Malformed(MalformedProof::Length { expected, got: g }))
            if expected == key.proof_len() && g == got && expected == got + 32
    ));
    // A consistent file whose proof bytes are wrong is rejected by the contract.
    let mut bad = proof.clone();
    let mut bytes = hex::decode(&bad.proof).unwrap();
    bytes[200] ^= 0x40;
    bad.proof = hex::encode(bytes);
    assert!(matches!(
        verify_in_evm(&key, &bad),
        Err(VerifyError::EvmRejected(EvmFailure::Reverted { .. }))
    ));
}

#[test]
fn vk_digest_returns_the_keys_digest_and_no_proof_call_can_reach_it() {
    let (key, _) = fixtures();
    let mut h = harness();
    let digest = key.digest();
    // The digest is the key data's transcript word, the value the proof transcript starts from.
    let word = &h.key.data[32 * hdr::TRANSCRIPT_REPR..32 * (hdr::TRANSCRIPT_REPR + 1)];
    assert_eq!(word, digest.0);
    assert_eq!(digest.to_string(), format!("0x{}", hex::encode(word)));
    assert_eq!(h.deployed.vk_digest().unwrap(), digest);
    // Exactly one ABI word comes back.
    let out = h
        .deployed
        .call_selector(solidity::VK_DIGEST_SELECTOR)
        .unwrap();
    assert_eq!(out, digest.0.to_vec());
    // The selector is keccak256("vkDigest()")[..4], and it is above the largest first four
    // bytes of any canonical public value (r's), so no valid proof call is diverted.
    let hash = revm::primitives::keccak256(b"vkDigest()");
    assert_eq!(hash[..4], solidity::VK_DIGEST_SELECTOR);
    let r = hex::decode(R).unwrap();
    assert!(solidity::VK_DIGEST_SELECTOR > [r[0], r[1], r[2], r[3]]);
    // Calldata of proof length, or any length but 4, starting with the selector reverts: only
    // a valid proof makes a long call succeed.
    let mut diverted = h.calldata.clone();
    diverted[..4].copy_from_slice(&solidity::VK_DIGEST_SELECTOR);
    h.rejects(
        &diverted,
        "proof-length calldata starting with the selector",
    );
    let mut padded = solidity::VK_DIGEST_SELECTOR.to_vec();
    padded.extend([0u8; 32]);
    h.rejects(&padded, "the selector with an argument");
    // Any other selector-sized call reaches the fallback, which reverts.
    h.rejects(&[0x12, 0x34, 0x56, 0x78], "an unknown selector");
    h.rejects(&[], "empty calldata");
    // The proof still verifies, at the usual cost.
    let gas = h.deployed.call(&h.calldata).unwrap();
    eprintln!("example: verify gas {gas} with the vkDigest() dispatcher");
}

#[test]
fn verify_calldata_in_evm_sends_the_bytes_as_given() {
    let (key, proof) = fixtures();
    let data = calldata::encode(&proof).unwrap();
    let gas = verify_calldata_in_evm(&key, &data).unwrap();
    // The same gas as the harness's call: nothing else is sent.
    let mut h = harness();
    assert_eq!(h.deployed.call(&data).unwrap(), gas);
    // A wrong public value, which `verify_in_evm` would refuse in Rust, reaches the contract
    // and the contract reverts.
    let mut bad = data.clone();
    let v = add_be(&bad[..32], &one());
    bad[..32].copy_from_slice(&v);
    assert!(matches!(
        verify_calldata_in_evm(&key, &bad),
        Err(VerifyError::EvmRejected(EvmFailure::Reverted { .. }))
    ));
    // So does calldata of the wrong length (no Rust length check first).
    assert!(matches!(
        verify_calldata_in_evm(&key, &data[..data.len() - 32]),
        Err(VerifyError::EvmRejected(EvmFailure::Reverted { .. }))
    ));
}

#[test]
fn the_offline_proof_length_is_the_calldata_layouts() {
    let (key, proof) = fixtures();
    let evm_key = key_data(&key).unwrap();
    assert_eq!(
        32 * evm_key.instance_count + key.proof_len(),
        evm_key.calldata_len
    );
    assert_eq!(
        calldata::encode(&proof).unwrap().len(),
        evm_key.calldata_len
    );
}

#[test]
fn a_call_that_does_not_return_one_is_rejected_with_its_output() {
    let mut h = harness();
    // `vkDigest()` succeeds, but its output is the digest, not the word 1.
    let digest = h
        .deployed
        .call_selector(solidity::VK_DIGEST_SELECTOR)
        .unwrap();
    match h.deployed.call(&solidity::VK_DIGEST_SELECTOR) {
        Err(VerifyError::EvmRejected(EvmFailure::ReturnedNotOne { gas_used, output })) => {
            assert_eq!(output, digest);
            assert!(
                gas_used > 21_000 && gas_used < exec::GAS_LIMIT,
                "{gas_used}"
            );
        }
        other => panic!("expected ReturnedNotOne, got {other:?}"),
    }
}
