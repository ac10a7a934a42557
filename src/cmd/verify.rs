//! `zkinfer verify`: check a proof offline, or in the embedded EVM.

use std::path::Path;

use anyhow::{Context, Result};
use zkinfer::models::proof_file::ProofFile;
use zkinfer::verifier::evm::exec::verify_in_evm;
use zkinfer::verifier::{verify, VerifierKey};

fn warn_insecure(insecure: bool) {
    if insecure {
        eprintln!("WARNING: this key was made with an INSECURE test SRS; the proof only shows the setup was honest if you ran it yourself");
    }
}

/// Verifies `proof` against `vk`; prints "verified" and the output on success.
pub fn run(vk: &Path, proof: &Path) -> Result<f64> {
    let start = std::time::Instant::now();
    let key = VerifierKey::read(vk)?;
    let file = ProofFile::read(proof)?;
    let verified = verify(&key, &file).with_context(|| {
        format!(
            "{} does not verify against {}",
            proof.display(),
            vk.display()
        )
    })?;
    let took = start.elapsed().as_secs_f64();
    println!("verified");
    println!("output: {:?}", verified.output.floats);
    warn_insecure(verified.insecure_srs);
    Ok(took)
}

/// Deploys the Solidity verifier for `vk` in an embedded EVM and sends it the proof's calldata.
pub fn run_evm(vk: &Path, proof: &Path) -> Result<()> {
    let key = VerifierKey::read(vk)?;
    let file = ProofFile::read(proof)?;
    let verified = verify_in_evm(&key, &file).with_context(|| {
        format!(
            "{} does not verify in the EVM against {}",
            proof.display(),
            vk.display()
        )
    })?;
    println!("verified (EVM)");
    println!("output: {:?}", verified.output.floats);
    println!(
        "gas: {} (verifying transaction, {} bytes of calldata)",
        verified.gas, verified.calldata_len
    );
    println!(
        "deployed: verifier {} bytes, key contract {} bytes, {} gas",
        verified.runtime_size, verified.key_size, verified.deploy_gas
    );
    warn_insecure(key.insecure_srs());
    Ok(())
}
