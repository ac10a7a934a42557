//! `zkinfer bench`: setup, prove and verify times, peak memory, proof size.

use std::path::Path;

use anyhow::Result;
use zkinfer::ir::proof_file::ProofFile;
use zkinfer::layout::ModelDir;
use zkinfer::progress::peak_rss_bytes;
use zkinfer::runtime::DeviceChoice;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Benchmarks the model in `dir` (setup once with a test SRS, then `runs` proofs and verifications).
pub fn run(dir: &Path, input: &Path, runs: usize) -> Result<()> {
    let runs = runs.max(1);
    let d = ModelDir::new(dir);
    let setup = super::setup::run(dir, true, None)?;
    let proof_path = dir.join("bench-proof.json");
    let mut prove_s = Vec::with_capacity(runs);
    let mut verify_s = Vec::with_capacity(runs);
    for _ in 0..runs {
        prove_s.push(super::prove::run(
            dir,
            input,
            0,
            &proof_path,
            DeviceChoice::Auto,
            None,
        )?);
        verify_s.push(super::verify::run(&d.vk(), &proof_path)?);
    }
    let proof = ProofFile::read(&proof_path)?;
    let pk_size = std::fs::metadata(d.pk()).map(|m| m.len()).unwrap_or(0);
    let _ = std::fs::remove_file(&proof_path);
    outln!(
        "setup_s (test SRS + keygen): {:.3}",
        setup.srs_s + setup.keygen_s
    );
    outln!("  srs_gen_s: {:.3}", setup.srs_s);
    outln!("  keygen_s: {:.3}", setup.keygen_s);
    outln!("prove_s (median of {runs}): {:.3}", median(prove_s));
    outln!("verify_s (median of {runs}): {:.4}", median(verify_s));
    outln!(
        "peak_rss: {}",
        peak_rss_bytes()
            .map(super::human_bytes)
            .unwrap_or_else(|| "unknown".into())
    );
    outln!("proof_bytes: {}", proof.proof.len() / 2);
    outln!("pk_bytes: {pk_size}");
    Ok(())
}
