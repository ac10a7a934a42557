//! `zkinfer export-verifier`: the Solidity verifier of a model.

use std::path::Path;

use anyhow::{Context, Result};
use zkinfer::verifier::evm::{key_data, solidity};
use zkinfer::verifier::VerifierKey;

/// Writes `Verifier.sol` for the key in `dir` (DIR/vk.bin, or a vk.bin path).
pub fn run(dir: &Path, out: &Path) -> Result<()> {
    let vk_path = if dir.is_dir() {
        dir.join("vk.bin")
    } else {
        dir.to_path_buf()
    };
    let key = VerifierKey::read(&vk_path)?;
    let evm_key = key_data(&key)
        .with_context(|| format!("cannot build an EVM verifier for {}", vk_path.display()))?;
    let model = zkinfer::ir::artifact::hash_hex(&key.model_hash);
    let source = solidity::render(&evm_key, &model);
    super::write(out, source.as_bytes())?;
    outln!(
        "contract {}: generic verifier code plus a key contract of {} bytes",
        solidity::MODEL_CONTRACT,
        evm_key.data.len() + 1
    );
    outln!(
        "calldata: {} public values then the proof, {} bytes in all (zkinfer encode-calldata)",
        evm_key.instance_count,
        evm_key.calldata_len
    );
    outln!(
        "verifying costs {} elliptic-curve multiplications (6,000 gas each) and one 2-pair pairing check",
        evm_key.msm_terms
    );
    outln!(
        "key digest: {} (the deployed verifier's vkDigest() returns it)",
        key.digest()
    );
    outln!(
        "compile with solc 0.8.19 or later; the verifier returns 1 for a valid proof and reverts otherwise"
    );
    if key.insecure_srs() {
        eprintln!("WARNING: this key was made with an INSECURE test SRS; do not deploy it where proofs matter");
    }
    Ok(())
}
