//! The Solidity verifier of a verifying key.

use std::path::{Path, PathBuf};

use zkinfer_verifier::evm::{key_data, solidity};
use zkinfer_verifier::VerifierKey;

use crate::error::{PipelineError, Result};

/// A rendered Solidity verifier and what verifying with it costs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExportedVerifier {
    /// The Solidity source (`Verifier.sol`).
    pub source: String,
    /// The key digest its `vkDigest()` returns.
    pub key_digest: String,
    /// Bytes of the key contract.
    pub key_contract_bytes: usize,
    /// Public values in the calldata.
    pub instance_count: usize,
    /// Calldata length in bytes.
    pub calldata_len: usize,
    /// Elliptic-curve multiplications per verification.
    pub msm_terms: usize,
    /// True when the key came from an insecure test SRS.
    pub insecure_srs: bool,
}

/// The verifying key named by `dir`: DIR/vk.bin, or `dir` itself when it is a file.
pub fn vk_path(dir: &Path) -> PathBuf {
    if dir.is_dir() {
        dir.join("vk.bin")
    } else {
        dir.to_path_buf()
    }
}

/// Renders the Solidity verifier for the key in `dir` (DIR/vk.bin, or a vk.bin path).
pub fn export_verifier(dir: &Path) -> Result<ExportedVerifier> {
    let vk = vk_path(dir);
    let key = VerifierKey::read(&vk)?;
    let evm_key = key_data(&key).map_err(|e| PipelineError::EvmKey {
        vk: vk.display().to_string(),
        source: Box::new(e),
    })?;
    let model = zkinfer_ir::artifact::hash_hex(&key.model_hash);
    Ok(ExportedVerifier {
        source: solidity::render(&evm_key, &model),
        key_digest: key.digest().to_string(),
        key_contract_bytes: evm_key.data.len() + 1,
        instance_count: evm_key.instance_count,
        calldata_len: evm_key.calldata_len,
        msm_terms: evm_key.msm_terms,
        insecure_srs: key.insecure_srs(),
    })
}
