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

/// Renders the Solidity verifier for the key in `dir` (DIR/vk.bin, or a vk.bin path). With
/// committed parameters the contract is for one weight set: `weights_from` is a proof of
/// that set, whose weight points it takes (checked against the proof's `param_hash`).
pub fn export_verifier(dir: &Path, weights_from: Option<&Path>) -> Result<ExportedVerifier> {
    let vk = vk_path(dir);
    if !vk.exists() && crate::chunked::manifest_path(dir).exists() {
        return Err(PipelineError::option(
            "DIR",
            format!(
                "{} is a chunked model: each chunk has its own key and verifier                  (export-verifier {}/chunk-0, ...); one on-chain verification of the whole                  bundle needs aggregation",
                dir.display(),
                dir.display()
            ),
        ));
    }
    let arch = VerifierKey::read(&vk)?;
    let committed = arch.header.param_visibility == zkinfer_ir::ParamVisibility::Committed;
    let key = match (committed, weights_from) {
        (false, None) => std::borrow::Cow::Borrowed(&arch),
        (false, Some(_)) => {
            return Err(PipelineError::option(
                "--weights-from",
                format!(
                    "{}: this key's parameters are {}, not committed; its verifier needs no weight points",
                    vk.display(),
                    arch.header.param_visibility
                ),
            ))
        }
        (true, None) => {
            return Err(PipelineError::option(
                "--weights-from",
                format!(
                    "{}: this key's parameters are committed, so a contract verifies one weight set: pass a proof of it (--weights-from proof.json) for its weight points",
                    vk.display()
                ),
            ))
        }
        (true, Some(path)) => {
            let proof = zkinfer_ir::proof_file::ProofFile::read(path)?;
            arch.for_proof(&proof)
                .map_err(|e| PipelineError::Rejected {
                    proof: path.display().to_string(),
                    vk: vk.display().to_string(),
                    evm: false,
                    source: Box::new(e),
                })?
        }
    };
    let key = &*key;
    let evm_key = key_data(key).map_err(|e| PipelineError::EvmKey {
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
