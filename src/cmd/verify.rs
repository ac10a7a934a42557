//! `zkinfer verify`: check a proof offline.

use std::path::Path;

use anyhow::{Context, Result};
use zkinfer::models::proof_file::ProofFile;
use zkinfer::verifier::{verify, VerifierKey};

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
    if verified.insecure_srs {
        eprintln!("WARNING: this key was made with an INSECURE test SRS; the proof only shows the setup was honest if you ran it yourself");
    }
    Ok(took)
}
