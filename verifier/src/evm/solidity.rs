//! Rendering a model's `Verifier.sol`, and the precompiled generic verifier.

use crate::error::{DeployFailure, VerifyError};

use super::key_data::EvmKey;

/// The generic verifier's Solidity source.
pub const VERIFIER_SOURCE: &str = include_str!("../../evm/ZkinferVerifier.sol");

/// solc-js output for [`VERIFIER_SOURCE`] (`node evm/compile.js evm/ZkinferVerifier.sol`):
/// solc 0.8.19, optimizer on (200 runs), no metadata hash.
pub const VERIFIER_BUILD: &str = include_str!("../../evm/ZkinferVerifier.json");

/// Selector of the verifier's only function, `vkDigest()`: `bytes4(keccak256("vkDigest()"))`.
/// It is above `0x30644e72`, the largest first four bytes of a valid proof's calldata (a
/// public value below the scalar field modulus), so no proof call can reach it.
pub const VK_DIGEST_SELECTOR: [u8; 4] = [0x64, 0x8a, 0x89, 0xea];

/// Name of the per-model contract in an exported `Verifier.sol`.
pub const MODEL_CONTRACT: &str = "ModelVerifier";

/// The exported Solidity file: the generic verifier, then a contract that deploys it with
/// this model's key data.
pub fn render(key: &EvmKey, model_hash: &str) -> String {
    let digest = key
        .data
        .get(
            32 * super::key_data::hdr::TRANSCRIPT_REPR
                ..32 * (super::key_data::hdr::TRANSCRIPT_REPR + 1),
        )
        .map(|w| format!("0x{}", hex::encode(w)))
        .unwrap_or_default();
    format!(
        "{VERIFIER_SOURCE}
/// @notice Verifier for zkinfer model {model_hash}: {instances} public values (inputs, then
/// outputs), calldata of exactly {calldata} bytes. `vkDigest()` returns its key digest,
/// {digest}.
contract {MODEL_CONTRACT} is ZkinferVerifier {{
    constructor()
        ZkinferVerifier(
            hex\"{data}\"
        )
    {{}}
}}
",
        instances = key.instance_count,
        calldata = key.calldata_len,
        data = hex::encode(&key.data),
    )
}

/// The generic verifier's creation bytecode, from [`VERIFIER_BUILD`].
pub fn generic_creation_code() -> Result<Vec<u8>, VerifyError> {
    let build: serde_json::Value = serde_json::from_str(VERIFIER_BUILD)
        .map_err(|source| VerifyError::EvmDeploy(DeployFailure::BuildJson { source }))?;
    let code = build
        .pointer("/contracts/ZkinferVerifier/creation")
        .and_then(|v| v.as_str())
        .ok_or(VerifyError::EvmDeploy(DeployFailure::NoBytecode))?;
    hex::decode(code)
        .map_err(|source| VerifyError::EvmDeploy(DeployFailure::BytecodeHex { source }))
}

/// Creation code of the generic verifier followed by its ABI-encoded constructor argument
/// (`bytes keyData`).
pub fn creation_with_key(creation: &[u8], key: &EvmKey) -> Vec<u8> {
    let mut out = creation.to_vec();
    out.extend(super::words::word_u64(32));
    out.extend(super::words::word_u64(key.data.len() as u64));
    out.extend(&key.data);
    out.resize(out.len() + (32 - key.data.len() % 32) % 32, 0);
    out
}
