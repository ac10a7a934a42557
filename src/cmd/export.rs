//! `zkinfer export-verifier`: the Solidity verifier of a model.

use std::path::Path;

use anyhow::Result;
use zkinfer::pipeline::export_verifier;
use zkinfer::verifier::evm::solidity;

/// Writes `Verifier.sol` for the key in `dir` (DIR/vk.bin, or a vk.bin path); with
/// committed parameters, for the weight set of the proof `weights_from`.
pub fn run(dir: &Path, out: &Path, weights_from: Option<&Path>) -> Result<()> {
    let v = export_verifier(dir, weights_from)?;
    super::write(out, v.source.as_bytes())?;
    outln!(
        "contract {}: generic verifier code plus a key contract of {} bytes",
        solidity::MODEL_CONTRACT,
        v.key_contract_bytes
    );
    outln!(
        "calldata: {} public values then the proof, {} bytes in all (zkinfer encode-calldata)",
        v.instance_count,
        v.calldata_len
    );
    outln!(
        "verifying costs {} elliptic-curve multiplications (6,000 gas each) and one 2-pair pairing check",
        v.msm_terms
    );
    outln!(
        "key digest: {} (the deployed verifier's vkDigest() returns it)",
        v.key_digest
    );
    outln!(
        "compile with solc 0.8.19 or later; the verifier returns 1 for a valid proof and reverts otherwise"
    );
    if v.insecure_srs {
        eprintln!("WARNING: this key was made with an INSECURE test SRS; do not deploy it where proofs matter");
    }
    Ok(())
}
