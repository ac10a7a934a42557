//! Why a proof was not accepted.

use zkinfer_ir::ArtifactError;

/// Errors of offline verification. Every variant except [`VerifyError::ProofRejected`]
/// is raised before any cryptography runs.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// A file could not be read or is not the right kind of artifact.
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    /// The verifying key file is damaged or was written for unsupported parameters.
    #[error("verifying key {path}: {detail}")]
    BadKey {
        /// The file.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// The proof is for a different compiled model than the key.
    #[error(
        "the proof is for model {proof_model}, but the verifying key is for model {key_model}"
    )]
    ModelMismatch {
        /// Model hash in the proof.
        proof_model: String,
        /// Model hash in the key.
        key_model: String,
    },
    /// A field of the proof file disagrees with the key (shape, scale, count).
    #[error("proof field `{field}`: {detail}")]
    Mismatch {
        /// The JSON field.
        field: String,
        /// What is wrong.
        detail: String,
    },
    /// An input value lies outside the range the circuit was compiled for.
    #[error("input[{index}] = {value} is outside the compiled range |x| <= {bound}")]
    InputOutOfRange {
        /// Flat index.
        index: usize,
        /// The value.
        value: i64,
        /// The bound.
        bound: u64,
    },
    /// The proof bytes are not valid hex or are cut short.
    #[error("proof bytes: {0}")]
    Malformed(String),
    /// The cryptographic check failed: the proof does not prove this input and output.
    #[error("proof rejected: it does not prove this output for this input and model ({0})")]
    ProofRejected(String),
    /// The circuit uses a feature the on-chain verifier does not implement.
    #[error("the EVM verifier does not support this circuit: {0}")]
    EvmUnsupported(String),
    /// The embedded EVM could not deploy the verifier.
    #[error("deploying the verifier in the embedded EVM failed: {0}")]
    EvmDeploy(String),
    /// The on-chain verifier rejected the proof (the call reverted).
    #[error("the EVM verifier rejected the proof ({0})")]
    EvmRejected(String),
}
