//! Errors of the circuits crate.

/// Errors while planning or synthesizing a model circuit.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CircuitError {
    /// The model does not fit in `2^max_k` rows.
    #[error("the model needs more than 2^{max_k} rows; it is too large for one circuit")]
    TooLarge {
        /// Largest supported k.
        max_k: u32,
    },
    /// The output is the input: there is no computation to prove.
    #[error("the model's output is its input; there is nothing to prove")]
    NothingToProve,
    /// The trace does not match the graph.
    #[error("the trace does not match the compiled model at tensor {tensor}")]
    TraceMismatch {
        /// The tensor id.
        tensor: usize,
    },
    /// The compiled model breaks a fact the circuit relies on (a corrupt or crafted file).
    #[error("refusing the compiled model: {0}")]
    InvalidModel(#[from] zkinfer_models::InvalidModel),
}
