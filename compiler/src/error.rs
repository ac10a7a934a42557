//! Error types of the compiler crate.

pub use zkinfer_ir::error::{ArtifactError, EvalError};

/// Errors while quantizing a float graph.
#[derive(Debug, thiserror::Error)]
pub enum QuantizeError {
    /// No calibration rows were given.
    #[error("the calibration set is empty")]
    EmptyCalibration,
    /// A calibration row has the wrong length.
    #[error("calibration row {row} has {got} values, the model input `{input}` needs {expected}")]
    CalibrationLength {
        /// Row index.
        row: usize,
        /// Input name.
        input: String,
        /// Expected element count.
        expected: usize,
        /// Given element count.
        got: usize,
    },
    /// A value is NaN or infinite.
    #[error("{what} contains a non-finite value at index {index}")]
    NonFinite {
        /// Where it was found.
        what: String,
        /// Flat index.
        index: usize,
    },
    /// A static bound would exceed what the runtime and circuit support.
    #[error("node `{node}`: its values could reach 2^{bits}, over the supported 2^{max_bits}; lower --scale or --weight-scale")]
    Overflow {
        /// Node name.
        node: String,
        /// Bits of the bound.
        bits: u32,
        /// Supported maximum.
        max_bits: u32,
    },
    /// A scale setting is out of range.
    #[error("{what} = {value} is out of range ({range})")]
    BadSetting {
        /// Setting name.
        what: &'static str,
        /// Given value.
        value: String,
        /// Allowed range.
        range: &'static str,
    },
    /// The float graph is inconsistent.
    #[error("node `{node}` is malformed: {detail}")]
    Malformed {
        /// Node name.
        node: String,
        /// What is wrong.
        detail: String,
    },
    /// A lookup table cannot be built for this node.
    #[error("node `{node}`: {detail}")]
    Table {
        /// Node name.
        node: String,
        /// What is wrong, and what to change.
        detail: String,
    },
    /// Evaluating the quantized graph on calibration data failed.
    #[error(transparent)]
    Eval(#[from] EvalError),
}
