//! Errors of the prover crate.

use zkinfer_circuits::CircuitError;
use zkinfer_models::{ArtifactError, EvalError};

/// Errors during setup or proving.
#[derive(Debug, thiserror::Error)]
pub enum ProverError {
    /// Reading or writing an artifact failed.
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    /// The model could not be laid out.
    #[error(transparent)]
    Circuit(#[from] CircuitError),
    /// The input was rejected by the reference semantics.
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// The runtime failed.
    #[error("inference failed: {0}")]
    Runtime(String),
    /// The runtime and the reference semantics disagree (a bug; nothing is proven).
    #[error(
        "runtime output differs from the reference semantics at tensor {tensor}; refusing to prove"
    )]
    RuntimeMismatch {
        /// The first tensor that differs.
        tensor: usize,
    },
    /// halo2 rejected the circuit or failed to prove.
    #[error("{stage} failed: {detail}")]
    Halo2 {
        /// Key generation or proving.
        stage: &'static str,
        /// halo2's message.
        detail: String,
    },
    /// The SRS is smaller than the circuit needs.
    #[error("{path}: the SRS has k = {have}, the circuit needs k = {need}; regenerate it with --k {need} or larger")]
    SrsTooSmall {
        /// The SRS file.
        path: std::path::PathBuf,
        /// Its k.
        have: u32,
        /// Needed k.
        need: u32,
    },
}
