//! Errors of the prover crate.

use std::path::PathBuf;

use zkinfer_circuits::CircuitError;
use zkinfer_ir::{ArtifactError, EvalError};

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
    /// The runtime failed (its error names the node and keeps candle's cause).
    #[error("inference failed: {0}")]
    Runtime(#[from] zkinfer_runtime::RuntimeError),
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

/// Why a ceremony SRS file was refused (`zkinfer srs import`). Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum SrsImportError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Shorter than a header and one point.
    #[error("{}: {len} bytes is too short for a halo2 KZG SRS file (k, then the first G1 point)", path.display())]
    TooShort {
        /// The file.
        path: PathBuf,
        /// Its length.
        len: u64,
    },
    /// The header's k is out of range.
    #[error("{}: the header says k = {k}; a BN254 SRS has 1 <= k <= {max}", path.display())]
    BadK {
        /// The file.
        path: PathBuf,
        /// The k read.
        k: u32,
        /// The largest valid k.
        max: u32,
    },
    /// The first point is the G1 generator in neither encoding.
    #[error(
        "{}: not a halo2 KZG SRS file, or corrupt: its first G1 point is not the BN254 generator \
         in either halo2 encoding (uncompressed RawBytes, as in perpetual-powers-of-tau-raw-<k>, \
         or compressed)",
        path.display()
    )]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// Shorter than its header's k requires.
    #[error("{}: cut short: {len} bytes, but an SRS file with k = {k} in the {format} encoding has {expected}", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// The header's k.
        k: u32,
        /// The encoding found.
        format: crate::srs_format::SrsFileFormat,
        /// Its length.
        len: u64,
        /// The length for k.
        expected: u64,
    },
    /// Longer than its header's k requires.
    #[error("{}: {extra} bytes after the end of the SRS (an SRS file with k = {k} in the {format} encoding has {expected} bytes)", path.display())]
    TrailingBytes {
        /// The file.
        path: PathBuf,
        /// The header's k.
        k: u32,
        /// The encoding found.
        format: crate::srs_format::SrsFileFormat,
        /// The length for k.
        expected: u64,
        /// Bytes past it.
        extra: u64,
    },
    /// A point failed to decode.
    #[error("{}: {section} {index} (at byte {offset}) is invalid: {problem}", path.display())]
    BadPoint {
        /// The file.
        path: PathBuf,
        /// Which part of the file.
        section: PointSection,
        /// Index within that part.
        index: u64,
        /// Byte offset of the point in the file.
        offset: u64,
        /// What is wrong with it.
        problem: PointProblem,
    },
    /// The file's hash is not in the pinned list.
    #[error(
        "{}: SHA-256 {sha256} (k = {k}) is not a known ceremony file; zkinfer pins the \
         perpetual-powers-of-tau-raw-<k> files (k = 1..=26). Check where the file came from; \
         to import it anyway, pass --allow-unpinned (it is then marked unpinned)",
        path.display()
    )]
    Unpinned {
        /// The file.
        path: PathBuf,
        /// Its k.
        k: u32,
        /// Its SHA-256, hex.
        sha256: String,
    },
    /// The points are not the powers of one secret (or its Lagrange basis).
    #[error("{}: inconsistent SRS: {check}", path.display())]
    Inconsistent {
        /// The file.
        path: PathBuf,
        /// The check that failed.
        check: Inconsistency,
    },
    /// `--k` is 0 or larger than the file's k.
    #[error("{}: cannot import with k = {want}: the file has k = {have} (choose 1..={have})", path.display())]
    BadTargetK {
        /// The file.
        path: PathBuf,
        /// Requested k.
        want: u32,
        /// The file's k.
        have: u32,
    },
}

/// The part of an SRS file a point is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointSection {
    /// `[τ^i]G1`.
    Power,
    /// `[L_i(τ)]G1`.
    Lagrange,
    /// 0: the G2 generator, 1: `[τ]G2`.
    G2,
}

impl std::fmt::Display for PointSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PointSection::Power => "G1 power",
            PointSection::Lagrange => "G1 Lagrange point",
            PointSection::G2 => "G2 point",
        })
    }
}

/// What is wrong with a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PointProblem {
    /// A coordinate is not below the field modulus, or the flag bits are not halo2's.
    #[error(
        "non-canonical encoding (a coordinate is not below the field modulus, or bad flag bits)"
    )]
    NotCanonical,
    /// Not on the curve (or no y for a compressed x).
    #[error("not on the curve")]
    NotOnCurve,
    /// The point at infinity (an SRS never holds it).
    #[error("the point at infinity")]
    Infinity,
    /// A G2 point outside the order-r subgroup.
    #[error("not in the order-r subgroup")]
    NotInSubgroup,
}

/// A failed consistency check of an SRS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Inconsistency {
    /// The first G2 point is not the standard BN254 G2 generator.
    #[error("the first G2 point is not the BN254 G2 generator")]
    G2NotGenerator,
    /// τ = 1 (the secret is known).
    #[error("degenerate: [τ]G1 = G1 or [τ]G2 = G2 (τ = 1)")]
    Degenerate,
    /// `e([τ]G1, G2) != e(G1, [τ]G2)`.
    #[error("[τ]G1 and [τ]G2 do not hold the same τ (pairing check failed)")]
    TauMismatch,
    /// The G1 powers are not successive powers of τ.
    #[error("the G1 points are not successive powers of one τ (same-ratio pairing check failed)")]
    PowersNotGeometric,
    /// The Lagrange points are not the Lagrange basis of the powers.
    #[error("the Lagrange points do not match the powers (random-combination check failed)")]
    LagrangeMismatch,
}

impl ProverError {
    /// A halo2 error at `stage`, or the typed layout error behind it: halo2 reports every
    /// layout failure as a bare `Error::Synthesis`, the circuit keeps which node and why.
    pub(crate) fn from_halo2(
        stage: &'static str,
        e: halo2_proofs::plonk::Error,
        circuit: &zkinfer_circuits::ModelCircuit,
    ) -> Self {
        match (&e, circuit.failure()) {
            (halo2_proofs::plonk::Error::Synthesis, Some(cause)) => ProverError::Circuit(cause),
            _ => ProverError::Halo2 {
                stage,
                detail: e.to_string(),
            },
        }
    }
}
