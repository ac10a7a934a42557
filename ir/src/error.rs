//! Error types of the IR crate.

use std::path::PathBuf;

/// Errors while evaluating a quantized graph with the reference semantics.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EvalError {
    /// The input has the wrong number of elements.
    #[error("input has {got} values, the model expects {expected}")]
    InputLength {
        /// Elements the model expects.
        expected: usize,
        /// Elements given.
        got: usize,
    },
    /// An input element is outside the range the model was compiled (calibrated) for.
    #[error(
        "input `{name}`[{index}] = {value} (real {real}) is outside the compiled range [{lo}, {hi}] (scale 2^{scale}); recompile with a calibration set that covers this input",
        real = *value as f64 / f64::from(1u32 << (*scale).min(31)),
        lo = crate::input_range::range(*bound).0,
        hi = crate::input_range::range(*bound).1
    )]
    InputOutOfRange {
        /// Input name.
        name: String,
        /// Flat element index.
        index: usize,
        /// Quantized value.
        value: i64,
        /// Compiled bound.
        bound: u64,
        /// Input scale.
        scale: u32,
    },
    /// A node produced a value beyond its static bound (a compiler bug; never proven).
    #[error("node `{node}`[{index}] = {value} exceeds its static bound {bound}")]
    BoundViolated {
        /// Node name.
        node: String,
        /// Flat element index.
        index: usize,
        /// Value produced.
        value: i64,
        /// Static bound.
        bound: u64,
    },
    /// A value past a calibrated bound (a bound the compiler set from the calibration set,
    /// checked in the circuit): no proof exists for this input.
    #[error(
        "node `{node}`[{index}] = {value} (real {real}) is past its calibrated bound |q| <= {bound} (scale 2^{scale}); recompile with a calibration set that covers this input, or with more --bound-headroom-bits",
        real = *value as f64 / f64::from(1u32 << (*scale).min(31))
    )]
    CalibratedBoundExceeded {
        /// Node name.
        node: String,
        /// Flat element index.
        index: usize,
        /// Value produced.
        value: i64,
        /// The calibrated bound.
        bound: u64,
        /// Scale of the value.
        scale: u32,
    },
    /// The graph is inconsistent (operand missing or shapes disagree).
    #[error("node `{node}` is malformed: operands missing or of the wrong size")]
    Malformed {
        /// Node name.
        node: String,
    },
    /// A lookup argument fell outside the table's calibrated domain.
    #[error(
        "node `{node}`[{index}]: argument {value} (real {real:.6}) is outside the {table} table's domain [{lo}, {hi}] (scale 2^{scale}); recompile with a calibration set that covers this input",
        real = *value as f64 / f64::from(1u32 << (*scale).min(31))
    )]
    OutOfDomain {
        /// Node name.
        node: String,
        /// Flat element index.
        index: usize,
        /// The argument.
        value: i64,
        /// Smallest argument in the table.
        lo: i64,
        /// Largest argument in the table.
        hi: i64,
        /// Scale of the argument.
        scale: u32,
        /// Table name.
        table: String,
    },
    /// A value outside what a check of the model allows (an index out of range, a
    /// fraction where the model takes integers): no proof exists for this input.
    #[error(
        "node `{node}`[{index}]: value {value} (real {real}) is outside [{lo}, {hi}] (scale 2^{scale}), which the model requires here; no proof exists for this input",
        real = *value as f64 / f64::from(1u32 << (*scale).min(31))
    )]
    CheckFailed {
        /// Node name (says what is checked).
        node: String,
        /// Flat element index.
        index: usize,
        /// The value.
        value: i64,
        /// Smallest value allowed.
        lo: i64,
        /// Largest value allowed.
        hi: i64,
        /// Scale of the value.
        scale: u32,
    },
    /// A division by a value below 1.
    #[error("node `{node}`[{index}]: divisor {value} is not positive")]
    Divisor {
        /// Node name.
        node: String,
        /// Flat element index.
        index: usize,
        /// The divisor.
        value: i64,
    },
}

/// Errors reading or writing artifact files and input JSON.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Not a zkinfer artifact of the expected kind.
    #[error("{path}: not a zkinfer {expected} file (bad magic tag)")]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The expected kind.
        expected: &'static str,
    },
    /// Written by an incompatible version.
    #[error("{path}: format version {found}, this build reads version {supported}")]
    Version {
        /// The file.
        path: PathBuf,
        /// Version found.
        found: u32,
        /// Version supported.
        supported: u32,
    },
    /// The file is cut short or its checksum does not match.
    #[error("{path}: {detail}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// Two artifacts belong to different compiled models.
    #[error("{path} belongs to model {found}, but {other} belongs to model {expected}")]
    ModelMismatch {
        /// The file that does not match.
        path: PathBuf,
        /// Its model hash.
        found: String,
        /// The file it was compared with.
        other: String,
        /// That file's model hash.
        expected: String,
    },
    /// JSON that does not have the expected structure.
    #[error("{path}: {detail}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        detail: String,
    },
}
