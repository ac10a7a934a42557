//! `zkinfer encode-calldata`: the exact bytes to send to an on-chain verifier.

use std::path::Path;

use anyhow::Result;
use zkinfer::ir::proof_file::ProofFile;

/// Writes the calldata of `proof` to `out`, raw or as `0x`-prefixed hex.
pub fn run(proof: &Path, out: &Path, hex_text: bool) -> Result<()> {
    let file = ProofFile::read(proof)?;
    let data = zkinfer::verifier::calldata::encode(&file)?;
    if hex_text {
        super::write(out, format!("0x{}\n", hex::encode(&data)).as_bytes())
    } else {
        super::write(out, &data)
    }
}
