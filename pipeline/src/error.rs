//! What can go wrong in a flow, one variant per cause.

use std::path::PathBuf;

use zkinfer_circuits::CircuitError;
use zkinfer_compiler::onnx::ImportError;
use zkinfer_compiler::QuantizeError;
use zkinfer_ir::ArtifactError;
use zkinfer_prover::{ProverError, SrsImportError};
use zkinfer_runtime::RuntimeError;
use zkinfer_verifier::VerifyError;

/// An error of one of the flows; its message names the file, option or value at fault.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// A file or directory could not be read or created.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was attempted: "read", "create".
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// An artifact (model, key, SRS, proof, input file) is malformed or mismatched.
    #[error(transparent)]
    Artifact(Box<ArtifactError>),
    /// The ONNX model could not be imported.
    #[error("{model}: {source}")]
    Import {
        /// The model file (or a label for bytes).
        model: String,
        /// The cause.
        #[source]
        source: Box<ImportError>,
    },
    /// Quantization failed.
    #[error("quantizing {model} with calibration {calibration}: {source}")]
    Quantize {
        /// The model file.
        model: String,
        /// The calibration data.
        calibration: String,
        /// The cause.
        #[source]
        source: Box<QuantizeError>,
    },
    /// Evaluating the compiled model on the calibration data failed.
    #[error("evaluating the compiled model on the calibration data: {0}")]
    Accuracy(#[source] Box<QuantizeError>),
    /// The compiled graph is inconsistent.
    #[error(transparent)]
    Invalid(Box<zkinfer_ir::InvalidModel>),
    /// The circuit could not be planned or built.
    #[error(transparent)]
    Circuit(Box<CircuitError>),
    /// Key generation or proving failed.
    #[error(transparent)]
    Prover(Box<ProverError>),
    /// A ceremony SRS could not be imported.
    #[error(transparent)]
    SrsImport(Box<SrsImportError>),
    /// The requested device is unavailable.
    #[error(transparent)]
    Runtime(Box<RuntimeError>),
    /// Running the model on the input failed (an input out of range, say).
    #[error("running the model on {input}: {source}")]
    Run {
        /// Where the input came from.
        input: String,
        /// The cause.
        #[source]
        source: Box<ProverError>,
    },
    /// An option has a value the flow cannot use.
    #[error("{option}: {reason}")]
    InvalidOption {
        /// The option, as the CLI spells it (`--max-error`).
        option: String,
        /// Why it is refused.
        reason: String,
    },
    /// An input sample does not fit the model.
    #[error("{origin}: {reason}")]
    BadInput {
        /// Where the input came from (a path, or "the request").
        origin: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The SRS is smaller than the circuit.
    #[error("{srs}: the SRS has k = {have}, the circuit needs k = {need}")]
    SrsTooSmall {
        /// The SRS file.
        srs: String,
        /// Its k.
        have: u32,
        /// The circuit's k.
        need: u32,
    },
    /// The SRS next to a proving key does not have the key's k.
    #[error(
        "{srs}: SRS has k = {have}, the proving key needs k = {need}; run `zkinfer setup` again"
    )]
    SrsKeyMismatch {
        /// The SRS file.
        srs: String,
        /// Its k.
        have: u32,
        /// The key's k.
        need: u32,
    },
    /// A proof does not verify.
    #[error("{proof} does not verify{} against {vk}: {source}", if *.evm { " in the EVM" } else { "" })]
    Rejected {
        /// The proof (path or label).
        proof: String,
        /// The verifying key (path or label).
        vk: String,
        /// Whether the EVM verifier rejected it.
        evm: bool,
        /// Why.
        #[source]
        source: Box<VerifyError>,
    },
    /// A verifying key could not be read or rebuilt.
    #[error(transparent)]
    Key(Box<VerifyError>),
    /// No EVM verifier can be built for this key.
    #[error("cannot build an EVM verifier for {vk}: {source}")]
    EvmKey {
        /// The verifying key.
        vk: String,
        /// Why.
        #[source]
        source: Box<VerifyError>,
    },
    /// The verifying key is not the one the compiled model and SRS give.
    #[error("{0}")]
    KeyMismatch(String),
    /// A commitment in the proof is not the expected one, or is absent.
    #[error("{0}")]
    CommitmentMismatch(String),
    /// A chunked proof bundle was refused (a chunk proof, a link, or the bundle itself).
    #[error("{0}")]
    ChunkRejected(Box<zkinfer_verifier::chunked::ChunkedError>),
    /// JSON could not be written.
    #[error("encoding JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl From<ProverError> for PipelineError {
    fn from(e: ProverError) -> Self {
        PipelineError::Prover(Box::new(e))
    }
}

impl From<VerifyError> for PipelineError {
    fn from(e: VerifyError) -> Self {
        PipelineError::Key(Box::new(e))
    }
}

impl From<ArtifactError> for PipelineError {
    fn from(e: ArtifactError) -> Self {
        PipelineError::Artifact(Box::new(e))
    }
}

impl From<CircuitError> for PipelineError {
    fn from(e: CircuitError) -> Self {
        PipelineError::Circuit(Box::new(e))
    }
}

impl From<zkinfer_ir::InvalidModel> for PipelineError {
    fn from(e: zkinfer_ir::InvalidModel) -> Self {
        PipelineError::Invalid(Box::new(e))
    }
}

impl From<SrsImportError> for PipelineError {
    fn from(e: SrsImportError) -> Self {
        PipelineError::SrsImport(Box::new(e))
    }
}

impl From<RuntimeError> for PipelineError {
    fn from(e: RuntimeError) -> Self {
        PipelineError::Runtime(Box::new(e))
    }
}

/// An error and its causes on one line, skipping causes the message already quotes.
pub fn one_line(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let c_text = c.to_string();
        if !text.contains(&c_text) {
            text.push_str(": ");
            text.push_str(&c_text);
        }
        cause = c.source();
    }
    text
}

/// Shorthand for the flows' results.
pub type Result<T, E = PipelineError> = std::result::Result<T, E>;

impl PipelineError {
    /// An [`PipelineError::Io`] error for reading `path`.
    pub fn read(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        PipelineError::Io {
            action: "read",
            path: path.into(),
            source,
        }
    }

    /// An [`PipelineError::InvalidOption`] error.
    pub fn option(option: impl Into<String>, reason: impl Into<String>) -> Self {
        PipelineError::InvalidOption {
            option: option.into(),
            reason: reason.into(),
        }
    }

    /// A short, stable name of the variant (for JSON errors and Python exception classes).
    pub fn kind(&self) -> &'static str {
        match self {
            PipelineError::Io { .. } => "io",
            PipelineError::Artifact(_) => "artifact",
            PipelineError::Import { .. } => "import",
            PipelineError::Quantize { .. } | PipelineError::Accuracy(_) => "quantize",
            PipelineError::Invalid(_) | PipelineError::Circuit(_) => "circuit",
            PipelineError::Prover(_) => "prover",
            PipelineError::SrsImport(_) => "srs",
            PipelineError::Runtime(_) => "runtime",
            PipelineError::Run { .. } => "run",
            PipelineError::InvalidOption { .. } => "invalid_option",
            PipelineError::BadInput { .. } => "bad_input",
            PipelineError::SrsTooSmall { .. } | PipelineError::SrsKeyMismatch { .. } => "srs",
            PipelineError::Rejected { .. } | PipelineError::ChunkRejected(_) => "rejected",
            PipelineError::Key(_) => "artifact",
            PipelineError::EvmKey { .. } => "evm",
            PipelineError::KeyMismatch(_) => "key_mismatch",
            PipelineError::CommitmentMismatch(_) => "commitment_mismatch",
            PipelineError::Json(_) => "json",
        }
    }
}
