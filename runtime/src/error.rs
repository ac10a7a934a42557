//! Errors of the candle runtime.

use zkinfer_ir::EvalError;

/// Why [`crate::run`] could not produce a trace.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The input was rejected (wrong length, or a value outside the compiled range), or it
    /// led a node to a value the reference rejects too: a lookup argument outside its
    /// table's domain ([`EvalError::OutOfDomain`]) or a divisor below 1
    /// ([`EvalError::Divisor`]).
    #[error(transparent)]
    Input(#[from] EvalError),
    /// A candle operation failed while executing `node`.
    #[error("node `{node}`: candle error: {source}")]
    Candle {
        /// Node name (`<input>` while uploading the input).
        node: String,
        /// The candle error.
        source: candle_core::Error,
    },
    /// A node produced a value beyond its bound: past a calibrated bound (an input the model
    /// was not calibrated for) or a static one (a compiler bug).
    #[error(transparent)]
    Bound(EvalError),
    /// The graph is inconsistent: an operand is missing or sizes disagree.
    #[error("node `{node}` is malformed: {detail}")]
    Malformed {
        /// Node name.
        node: String,
        /// What is wrong.
        detail: String,
    },
    /// The static bounds admit values that do not fit in i64, so exact execution is not guaranteed.
    #[error("node `{node}`: its accumulators could reach {worst_case}, beyond i64")]
    Overflow {
        /// Node name.
        node: String,
        /// The worst case computed from the operand bounds.
        worst_case: u128,
    },
    /// The requested device cannot be used.
    #[error("device `{device}` is unavailable: {reason}")]
    DeviceUnavailable {
        /// The device asked for.
        device: &'static str,
        /// Why it cannot be used.
        reason: String,
    },
}

/// Attaches a node name to candle errors.
pub(crate) trait AtNode<T> {
    /// Wraps a candle error into [`RuntimeError::Candle`] naming `node`.
    fn at(self, node: &str) -> Result<T, RuntimeError>;
}

impl<T> AtNode<T> for candle_core::Result<T> {
    fn at(self, node: &str) -> Result<T, RuntimeError> {
        self.map_err(|source| RuntimeError::Candle {
            node: node.to_string(),
            source,
        })
    }
}
