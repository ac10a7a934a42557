//! Why a proof was not accepted.
//!
//! Every variant of [`VerifyError`] that is not self-describing carries a typed cause, so a
//! caller can tell what went wrong by matching, without parsing messages:
//!
//! - [`KeyProblem`]: what is wrong with a verifying key file;
//! - [`ProofMismatch`]: which public field of a proof file disagrees with the key, and how;
//! - [`MalformedProof`]: why the proof bytes could not be checked at all;
//! - [`RejectReason`]: which step of halo2's verifier refused the proof;
//! - [`UnsupportedCircuit`]: what the on-chain verifier cannot handle;
//! - [`DeployFailure`] and [`EvmFailure`]: how a transaction in the embedded EVM failed.

use std::path::PathBuf;

use zkinfer_ir::ArtifactError;

/// The error type of the embedded EVM (revm with an in-memory database) when it refuses a
/// transaction before running it.
#[cfg(feature = "evm")]
pub type EvmTransactionError = revm::context::result::EVMError<
    std::convert::Infallible,
    revm::context::result::InvalidTransaction,
>;

/// Why the embedded EVM halted exceptionally (revm's reason).
#[cfg(feature = "evm")]
pub use revm::context::result::HaltReason;

mod evm_errors;
pub use evm_errors::{ColumnKind, DeployFailure, EvmFailure, UnsupportedCircuit};

/// Errors of offline verification. Every variant except [`VerifyError::ProofRejected`]
/// is raised before any cryptography runs.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// A file could not be read or is not the right kind of artifact.
    #[error(transparent)]
    Artifact(
        /// The artifact error (it names the file).
        #[from]
        ArtifactError,
    ),
    /// The verifying key file is damaged or was written for unsupported parameters.
    #[error("verifying key {}: {problem}", .path.display())]
    BadKey {
        /// The file (for a rebuilt key, the compiled model it was rebuilt from).
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        problem: KeyProblem,
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
    /// A field of the proof file disagrees with the key (shape, scale, count, value).
    #[error("proof field {0}")]
    Mismatch(
        /// Which field disagrees, and how.
        #[source]
        ProofMismatch,
    ),
    /// An input value lies outside the range the circuit was compiled for.
    #[error(
        "input[{index}] = {value} is outside the compiled range [{lo}, {hi}]",
        lo = zkinfer_ir::input_range::range(*bound).0,
        hi = zkinfer_ir::input_range::range(*bound).1
    )]
    InputOutOfRange {
        /// Flat index.
        index: usize,
        /// The value.
        value: i64,
        /// The bound.
        bound: u64,
    },
    /// The proof bytes are not valid hex, have the wrong length, or cannot be parsed.
    #[error("proof bytes: {0}")]
    Malformed(
        /// What is wrong with the bytes.
        #[source]
        MalformedProof,
    ),
    /// The cryptographic check failed: the proof does not prove this input and output.
    #[error("proof rejected: it does not prove this output for this input and model ({0})")]
    ProofRejected(
        /// Which check of halo2's verifier failed.
        #[source]
        RejectReason,
    ),
    /// The circuit uses a feature the on-chain verifier does not implement.
    #[error("the EVM verifier does not support this circuit: {0}")]
    EvmUnsupported(
        /// The unsupported feature.
        #[source]
        UnsupportedCircuit,
    ),
    /// The embedded EVM could not deploy the verifier.
    #[error("deploying the verifier in the embedded EVM failed: {0}")]
    EvmDeploy(
        /// Why the deployment failed.
        #[source]
        DeployFailure,
    ),
    /// The on-chain verifier rejected the proof (the call reverted, halted or did not return 1).
    #[error("the EVM verifier rejected the proof: the call {0}")]
    EvmRejected(
        /// How the verifying call failed.
        #[source]
        EvmFailure,
    ),
}

/// One of the three SRS points a verifying key's header records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SrsPoint {
    /// The G1 generator (`srs.g1`).
    G1,
    /// The G2 generator (`srs.g2`).
    G2,
    /// `τ·G2` (`srs.s_g2`).
    SG2,
}

impl std::fmt::Display for SrsPoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SrsPoint::G1 => "srs.g1",
            SrsPoint::G2 => "srs.g2",
            SrsPoint::SG2 => "srs.s_g2",
        })
    }
}

/// What is wrong with a verifying key ([`VerifyError::BadKey`]).
#[derive(Debug, thiserror::Error)]
pub enum KeyProblem {
    /// The payload ends before its JSON header does.
    #[error("the header is cut short")]
    HeaderCutShort,
    /// The JSON header does not parse as a key header.
    #[error("bad header: {source}")]
    Header {
        /// The JSON parser's error (it has the line and column).
        source: serde_json::Error,
    },
    /// A circuit parameter in the header is outside what this verifier accepts.
    #[error(
        "unsupported circuit parameters: {parameter} = {value} is outside the range {min}..={max}"
    )]
    ParameterOutOfRange {
        /// The parameter's name in the header's `circuit` object (`k`, `lanes`, `limbs`,
        /// `limb_bits`).
        parameter: &'static str,
        /// Its value in the header.
        value: u64,
        /// The smallest accepted value.
        min: u64,
        /// The largest accepted value.
        max: u64,
    },
    /// The header's SRS is not sized for the header's circuit.
    #[error(
        "unsupported circuit parameters: the SRS has k = {srs_k}, the circuit k = {circuit_k}"
    )]
    SrsSizeMismatch {
        /// `srs.k` in the header.
        srs_k: u32,
        /// `circuit.k` in the header.
        circuit_k: u32,
    },
    /// The public input and output together need more rows than the circuit has (or their
    /// sizes overflow).
    #[error(
        "input shape {input_shape:?} and output shape {output_shape:?} do not fit a circuit of \
         2^{k} rows"
    )]
    ShapesDoNotFit {
        /// The header's input shape.
        input_shape: Vec<usize>,
        /// The header's output shape.
        output_shape: Vec<usize>,
        /// The header's `circuit.k`.
        k: u32,
    },
    /// The halo2 key after the header is too short to hold its fixed-size prefix.
    #[error("the key is cut short after the header")]
    BodyCutShort,
    /// The halo2 key's own `k` is not the header's.
    #[error("the key's k ({key_k}) does not match its header's ({header_k})")]
    KMismatch {
        /// `circuit.k` in the header.
        header_k: u32,
        /// `k` in the halo2 key.
        key_k: u32,
    },
    /// The halo2 key was written with compressed selectors, which zkinfer never makes.
    #[error("compressed selectors are not supported")]
    CompressedSelectors,
    /// An SRS point in the header is not a valid curve point.
    #[error("{point} is not a curve point")]
    NotACurvePoint {
        /// Which point.
        point: SrsPoint,
    },
    /// halo2 panicked reading the key: its contents are inconsistent.
    #[error("malformed verifying key")]
    Unparseable,
    /// halo2 could not read the key.
    #[error("malformed verifying key: {source}")]
    Read {
        /// halo2's read error.
        source: std::io::Error,
    },
    /// The key holds a different number of commitments than its circuit has columns.
    #[error(
        "commitment counts do not match the circuit: {fixed_got} fixed commitments for \
         {fixed_expected} fixed columns, {permutation_got} permutation commitments for \
         {permutation_expected} permutation columns"
    )]
    CommitmentCounts {
        /// Fixed columns of the circuit.
        fixed_expected: usize,
        /// Fixed commitments in the key.
        fixed_got: usize,
        /// Columns in the circuit's permutation.
        permutation_expected: usize,
        /// Permutation commitments in the key.
        permutation_got: usize,
    },
    /// The weight columns are not increasing fixed columns of the circuit, or a key whose
    /// parameters are not committed lists some.
    #[error(
        "bad weight columns {columns:?} for {visibility} parameters and {fixed} fixed columns"
    )]
    ParamColumns {
        /// The header's list.
        columns: Vec<usize>,
        /// The key's parameter visibility.
        visibility: zkinfer_ir::ParamVisibility,
        /// Fixed columns of the circuit.
        fixed: usize,
    },
    /// The committed-parameter architecture key could not be rebuilt.
    #[error("committed parameters: {detail}")]
    Committed {
        /// What went wrong.
        detail: String,
    },
    /// Bytes follow the end of the halo2 key.
    #[error("{count} trailing bytes after the key")]
    TrailingBytes {
        /// How many.
        count: usize,
    },
    /// Rebuilding a key: the SRS given is not sized for the circuit.
    #[error("cannot rebuild the key: the SRS has k = {srs_k}, the circuit uses k = {circuit_k}")]
    RebuildSrsSize {
        /// The SRS's `k`.
        srs_k: u32,
        /// The circuit's `k`.
        circuit_k: u32,
    },
    /// Rebuilding a key: the compiled model is invalid.
    #[error("cannot rebuild the key: {source}")]
    InvalidModel {
        /// Why the model is refused.
        source: zkinfer_ir::InvalidModel,
    },
    /// Rebuilding a key: halo2's `keygen_vk` failed.
    #[error("cannot rebuild the key: {source}")]
    Keygen {
        /// halo2's error.
        source: halo2_proofs::plonk::Error,
    },
}

/// One of the two public tensors of a proof file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PublicTensor {
    /// The `input` object.
    Input,
    /// The `output` object.
    Output,
}

impl std::fmt::Display for PublicTensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PublicTensor::Input => "input",
            PublicTensor::Output => "output",
        })
    }
}

/// Which public field of a proof file disagrees with the key, and how
/// ([`VerifyError::Mismatch`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofMismatch {
    /// A tensor's shape is not the key's.
    #[error("`{tensor}.shape`: {got:?}, the key expects {expected:?}")]
    Shape {
        /// Which tensor.
        tensor: PublicTensor,
        /// The key's shape.
        expected: Vec<usize>,
        /// The proof file's shape.
        got: Vec<usize>,
    },
    /// A tensor's fixed-point scale is not the key's.
    #[error("`{tensor}.scale`: {got}, the key expects {expected}")]
    Scale {
        /// Which tensor.
        tensor: PublicTensor,
        /// The key's scale (bits).
        expected: u32,
        /// The proof file's scale.
        got: u32,
    },
    /// A tensor has a different number of integer values than its shape.
    #[error("`{tensor}.ints`: {got} values, the key expects {expected}")]
    IntCount {
        /// Which tensor.
        tensor: PublicTensor,
        /// The number of elements of the key's shape.
        expected: usize,
        /// The number of values in the proof file.
        got: usize,
    },
    /// A tensor's float value is not its integer divided by `2^scale`.
    #[error("`{tensor}.floats[{index}]`: does not equal ints / 2^scale")]
    Float {
        /// Which tensor.
        tensor: PublicTensor,
        /// Flat index of the first inconsistent value.
        index: usize,
    },
    /// The file has a different number of public instances than the input and output give.
    #[error("`instances`: {got} values, expected {expected}")]
    InstanceCount {
        /// The number of input and output values.
        expected: usize,
        /// The number of instances in the file.
        got: usize,
    },
    /// An instance is not a canonical field element in 32-byte big-endian hex.
    #[error("`instances[{index}]`: not a 32-byte big-endian field element")]
    InstanceEncoding {
        /// Its index.
        index: usize,
    },
    /// The proof file splits the output into a different number of graph outputs than the
    /// key declares.
    #[error("`outputs`: {got} graph outputs, the key declares {expected}")]
    OutputPartCount {
        /// The key's number of graph outputs (0 when it has just one).
        expected: usize,
        /// The proof file's.
        got: usize,
    },
    /// A graph output in the proof file is not the key's part of the output.
    #[error("`outputs[{index}].{field}`: does not match graph output {index} of the key and the output values")]
    OutputPart {
        /// Which graph output.
        index: usize,
        /// The field that differs: `name`, `shape`, `scale`, `ints` or `floats`.
        field: &'static str,
    },
    /// An instance is a field element, but not the input or output value at its index.
    #[error("`instances[{index}]`: does not match the input and output values")]
    InstanceValue {
        /// Its index.
        index: usize,
    },
    /// The last instance is not the labels digest of the key's header: the key's labels
    /// (scales, shapes, parts, visibilities, hashes) were edited after setup, or the proof
    /// was made with another key.
    #[error("`instances[{index}]`: the proof was made for a key with other labels (scales, shapes, names, visibilities or hashes); this key's header was edited after setup, or belongs to another model")]
    Labels {
        /// Its index (the last).
        index: usize,
    },
    /// The proof file shows (or hides) the input or output against the key's visibility.
    #[error("`{field}`: the key's {tensor} is {visibility}, so the file must {must}")]
    Visibility {
        /// The input or the output.
        tensor: PublicTensor,
        /// `input`, `input_hash`, `output` or `output_hash`.
        field: &'static str,
        /// The key's visibility of that tensor.
        visibility: zkinfer_ir::Visibility,
        /// What the file must do with the field.
        must: &'static str,
    },
    /// The file's per-input claims are not one per graph input of the key.
    #[error("`input_parts`: {got} entries, the key has {expected} graph inputs with their own visibility")]
    InputPartCount {
        /// Entries the key asks for.
        expected: usize,
        /// Entries in the file.
        got: usize,
    },
    /// A per-input claim does not match the key's graph input at its index.
    #[error("`input_parts[{index}].{field}`: does not match graph input {index} of the key")]
    InputPart {
        /// Which graph input.
        index: usize,
        /// The field that differs.
        field: &'static str,
    },
    /// The proof file holds (or lacks) a parameter commitment against the key.
    #[error("`param_hash`: the key's parameters are {visibility}, so the file must {must}")]
    ParamVisibility {
        /// The key's parameter visibility.
        visibility: zkinfer_ir::ParamVisibility,
        /// What the file must do with the field.
        must: &'static str,
    },
    /// The proof file holds a number of weight points other than the key's weight columns.
    #[error("`param_commitments`: {got} points, the key has {expected} weight columns")]
    ParamPointCount {
        /// The key's weight columns.
        expected: usize,
        /// Points in the file.
        got: usize,
    },
    /// A weight point is not a curve point in the proof format.
    #[error("`param_commitments[{index}]`: not a G1 point (64 bytes hex, x then y little-endian, or zeros for the identity)")]
    ParamPoint {
        /// Its position.
        index: usize,
    },
    /// The file's `param_hash` is not the digest of its weight points.
    #[error("`param_hash`: {got}, but the weight points' digest is {expected}")]
    ParamDigest {
        /// The points' digest.
        expected: String,
        /// The file's value.
        got: String,
    },
}

impl ProofMismatch {
    /// The JSON path of the field in the proof file, e.g. `output.scale` or `instances[3]`.
    pub fn field(&self) -> String {
        match self {
            ProofMismatch::Shape { tensor, .. } => format!("{tensor}.shape"),
            ProofMismatch::Scale { tensor, .. } => format!("{tensor}.scale"),
            ProofMismatch::IntCount { tensor, .. } => format!("{tensor}.ints"),
            ProofMismatch::Float { tensor, index } => format!("{tensor}.floats[{index}]"),
            ProofMismatch::InstanceCount { .. } => "instances".into(),
            ProofMismatch::OutputPartCount { .. } => "outputs".into(),
            ProofMismatch::OutputPart { index, field } => format!("outputs[{index}].{field}"),
            ProofMismatch::InstanceEncoding { index }
            | ProofMismatch::InstanceValue { index }
            | ProofMismatch::Labels { index } => format!("instances[{index}]"),
            ProofMismatch::Visibility { field, .. } => (*field).into(),
            ProofMismatch::ParamVisibility { .. } | ProofMismatch::ParamDigest { .. } => {
                "param_hash".into()
            }
            ProofMismatch::ParamPointCount { .. } => "param_commitments".into(),
            ProofMismatch::ParamPoint { index } => format!("param_commitments[{index}]"),
            ProofMismatch::InputPartCount { .. } => "input_parts".into(),
            ProofMismatch::InputPart { index, field } => format!("input_parts[{index}].{field}"),
        }
    }
}

/// Why proof bytes could not be checked ([`VerifyError::Malformed`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MalformedProof {
    /// The proof field is not hex.
    #[error("not hex: {source}")]
    NotHex {
        /// The hex decoder's error (the bad character and its index, or odd length).
        source: hex::FromHexError,
    },
    /// The proof is not the exact length a proof for this key has: cut short, or followed by
    /// trailing bytes.
    #[error("{got} bytes, but a proof for this key is {expected} bytes")]
    Length {
        /// The length of every proof for this key, in bytes.
        expected: usize,
        /// The length of this proof, in bytes.
        got: usize,
    },
    /// halo2's verifier panicked parsing the proof.
    #[error("the verifier could not parse the proof")]
    Unparseable,
    /// The EVM calldata (public values, then the proof) is not the length the on-chain
    /// verifier expects.
    #[error("the calldata is {got} bytes, the key expects {expected}")]
    CalldataLength {
        /// The calldata length the key data fixes, in bytes.
        expected: usize,
        /// The length of this calldata, in bytes.
        got: usize,
    },
}

/// Which step of halo2's verifier refused the proof ([`VerifyError::ProofRejected`]).
#[derive(Debug, thiserror::Error)]
pub enum RejectReason {
    /// The final KZG pairing check failed: the committed polynomials do not satisfy the
    /// constraints at the challenge point (halo2's `Error::ConstraintSystemFailure`).
    #[error("the final pairing check failed")]
    PairingCheck,
    /// The multi-opening argument could not be formed from the proof (halo2's
    /// `Error::Opening`).
    #[error("the multi-opening argument is invalid")]
    Opening,
    /// A commitment or evaluation in the proof is not a valid encoding (halo2's
    /// `Error::Transcript`): a coordinate or scalar not below its modulus, a point not on the
    /// curve, the point at infinity.
    #[error("a proof element is not valid: {source}")]
    Transcript {
        /// The transcript's read error.
        source: std::io::Error,
    },
    /// The key's circuit does not have exactly one public-value column (halo2's
    /// `Error::InvalidInstances`).
    #[error("the public values do not match the circuit's instance columns")]
    InstanceColumns,
    /// More public values than the circuit has usable rows (halo2's
    /// `Error::InstanceTooLarge`).
    #[error("{count} public values are more than the circuit has rows for")]
    TooManyPublicValues {
        /// The number of public values given.
        count: usize,
    },
    /// Another halo2 error, which its verifier does not raise today.
    #[error("halo2 error {halo2_variant}")]
    Other {
        /// The name of the `halo2_proofs::plonk::Error` variant.
        halo2_variant: &'static str,
    },
}

impl RejectReason {
    /// Classifies an error of halo2's `verify_proof` on `count` public values.
    pub(crate) fn from_halo2(e: halo2_proofs::plonk::Error, count: usize) -> Self {
        use halo2_proofs::plonk::Error;
        match e {
            Error::ConstraintSystemFailure => RejectReason::PairingCheck,
            Error::Opening => RejectReason::Opening,
            Error::Transcript(source) => RejectReason::Transcript { source },
            Error::InvalidInstances => RejectReason::InstanceColumns,
            Error::InstanceTooLarge => RejectReason::TooManyPublicValues { count },
            Error::Synthesis => RejectReason::Other {
                halo2_variant: "Synthesis",
            },
            Error::BoundsFailure => RejectReason::Other {
                halo2_variant: "BoundsFailure",
            },
            Error::NotEnoughRowsAvailable { .. } => RejectReason::Other {
                halo2_variant: "NotEnoughRowsAvailable",
            },
            Error::NotEnoughColumnsForConstants => RejectReason::Other {
                halo2_variant: "NotEnoughColumnsForConstants",
            },
            Error::ColumnNotInPermutation(_) => RejectReason::Other {
                halo2_variant: "ColumnNotInPermutation",
            },
            Error::TableError(_) => RejectReason::Other {
                halo2_variant: "TableError",
            },
        }
    }
}
