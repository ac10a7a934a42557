//! The exported Solidity compiles with solc-js (optimizer on and off) and the contract it
//! deploys verifies the example proof in revm and reports the key's digest; the precompiled
//! verifier matches its source.
//!
//! Needs `node` and `npm ci --prefix verifier/evm`. Without them these tests say so and pass,
//! unless ZKINFER_REQUIRE_SOLC=1 (set by CI), which turns a missing compiler into a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use zkinfer_ir::artifact::hash_hex;
use zkinfer_ir::proof_file::ProofFile;
use zkinfer_verifier::evm::{exec, key_data, solidity};
use zkinfer_verifier::{calldata, VerifierKey};

fn evm_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("evm")
}

/// True when solc-js can run; otherwise explains, and fails when CI requires it.
fn solc_available() -> bool {
    let node = Command::new("node").arg("--version").output();
    let module = evm_dir().join("node_modules/solc/package.json");
    if node.map(|o| o.status.success()).unwrap_or(false) && module.exists() {
        return true;
    }
    let why = "solc-js is not installed: run `npm ci --prefix verifier/evm` (needs node)";
    if std::env::var("ZKINFER_REQUIRE_SOLC").is_ok_and(|v| v == "1") {
        panic!("{why}");
    }
    eprintln!("skipping: {why}");
    false
}

/// Compiles `file` with `evm/compile.js`; returns its JSON output.
fn compile(file: &Path, optimize: bool) -> Value {
    let mut cmd = Command::new("node");
    cmd.arg(evm_dir().join("compile.js")).arg(file);
    if !optimize {
        cmd.arg("--no-optimize");
    }
    let out = cmd.output().expect("run node");
    assert!(
        out.status.success(),
        "solc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn code(build: &Value, contract: &str, which: &str) -> Vec<u8> {
    hex::decode(build["contracts"][contract][which].as_str().unwrap()).unwrap()
}

#[test]
fn exported_verifier_compiles_deploys_and_verifies() {
    if !solc_available() {
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let key = VerifierKey::read(&dir.join("example_vk.bin")).unwrap();
    let proof = ProofFile::read(&dir.join("example_proof.json")).unwrap();
    let evm_key = key_data(&key).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let sol = tmp.path().join("Verifier.sol");
    let source = solidity::render(&evm_key, &hash_hex(&key.model_hash));
    assert!(source.contains(&key.digest().to_string()), "{source}");
    std::fs::write(&sol, source).unwrap();
    let data = calldata::encode(&proof).unwrap();
    for optimize in [true, false] {
        let build = compile(&sol, optimize);
        let runtime = code(&build, solidity::MODEL_CONTRACT, "runtime");
        assert!(runtime.len() < 24_576, "{} bytes", runtime.len());
        let mut deployed =
            exec::deploy(code(&build, solidity::MODEL_CONTRACT, "creation")).unwrap();
        assert_eq!(deployed.runtime_size, runtime.len());
        // The deployed contract reports the key's digest, and names it in its source.
        assert_eq!(deployed.vk_digest().unwrap(), key.digest());
        let gas = deployed.call(&data).unwrap();
        eprintln!(
            "optimize={optimize}: runtime {} B, gas {gas}",
            runtime.len()
        );
        let mut bad = data.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(deployed.call(&bad).is_err());
    }
}

#[test]
fn precompiled_verifier_matches_its_source() {
    if !solc_available() {
        return;
    }
    let fresh = compile(&evm_dir().join("ZkinferVerifier.sol"), true);
    let shipped: Value = serde_json::from_str(solidity::VERIFIER_BUILD).unwrap();
    assert_eq!(
        fresh["contracts"]["ZkinferVerifier"], shipped["contracts"]["ZkinferVerifier"],
        "evm/ZkinferVerifier.json is stale: regenerate it with \
         `node verifier/evm/compile.js verifier/evm/ZkinferVerifier.sol > verifier/evm/ZkinferVerifier.json`"
    );
}
