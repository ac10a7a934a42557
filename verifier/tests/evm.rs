//! The Solidity verifier in the embedded EVM, on the bundled example proof.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;

use zkinfer_models::proof_file::ProofFile;
use zkinfer_verifier::evm::{exec, key_data, solidity};
use zkinfer_verifier::{calldata, VerifierKey};

fn fixtures() -> (VerifierKey, ProofFile) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let key = VerifierKey::read(&dir.join("example_vk.bin")).unwrap();
    let proof = ProofFile::read(&dir.join("example_proof.json")).unwrap();
    (key, proof)
}

#[test]
fn valid_proof_verifies() {
    let (key, proof) = fixtures();
    let evm_key = key_data(&key).unwrap();
    let code = solidity::creation_with_key(&solidity::generic_creation_code().unwrap(), &evm_key);
    let mut deployed = exec::deploy(code).unwrap();
    let data = calldata::encode(&proof).unwrap();
    assert_eq!(data.len(), evm_key.calldata_len);
    let gas = deployed.call(&data).unwrap();
    eprintln!("gas {gas}, runtime {} B, key {} B", deployed.runtime_size, evm_key.data.len());
}

#[test]
fn quick_flip() {
    let (key, proof) = fixtures();
    let evm_key = key_data(&key).unwrap();
    let code = solidity::creation_with_key(&solidity::generic_creation_code().unwrap(), &evm_key);
    let mut deployed = exec::deploy(code).unwrap();
    let data = calldata::encode(&proof).unwrap();
    let mut ok = 0;
    let mut bad = 0;
    for pos in (0..data.len()).step_by(7) {
        let mut d = data.clone();
        d[pos] ^= 1;
        match deployed.call(&d) { Ok(_) => { ok += 1; eprintln!("ACCEPTED flip at {pos}") }, Err(_) => bad += 1 }
    }
    eprintln!("accepted {ok} rejected {bad}");
    assert_eq!(ok, 0);
}
