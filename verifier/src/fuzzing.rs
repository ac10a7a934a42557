//! The body of the verifier's fuzz target, shared with a stable-Rust test so it runs in CI.

use std::path::Path;

use zkinfer_ir::proof_file::ProofFile;

use crate::{verify, VerifierKey};

/// Splits `data` into a key and a proof document (at the first `0xff 0xff` pair, or in
/// half) and verifies; any outcome but a panic is fine.
pub fn verify_untrusted(data: &[u8]) {
    let split = data
        .windows(2)
        .position(|w| w == [0xff, 0xff])
        .unwrap_or(data.len() / 2);
    let (key_bytes, rest) = data.split_at(split.min(data.len()));
    let proof_bytes = rest.get(2..).unwrap_or(&[]);
    let Ok(key) = VerifierKey::from_bytes(key_bytes, Path::new("fuzz-vk")) else {
        return;
    };
    // The on-chain key data is built from the same untrusted key.
    let _ = crate::evm::key_data(&key);
    let Ok(text) = std::str::from_utf8(proof_bytes) else {
        return;
    };
    let Ok(proof) = ProofFile::parse(text, Path::new("fuzz-proof")) else {
        return;
    };
    let _ = crate::calldata::encode(&proof);
    let _ = verify(&key, &proof);
}

/// A valid `key ‖ 0xff 0xff ‖ proof` seed, for mutation-based fuzzing.
pub fn seed(key: &[u8], proof_json: &str) -> Vec<u8> {
    let mut out = key.to_vec();
    out.extend_from_slice(&[0xff, 0xff]);
    out.extend_from_slice(proof_json.as_bytes());
    out
}
