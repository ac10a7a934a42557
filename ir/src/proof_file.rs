//! `proof.json`: the public claim (input and output) and the proof bytes, as JSON with hex.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::ArtifactError;

/// Value of the `format` field.
pub const PROOF_FORMAT: &str = "zkinfer-proof";
/// Version of the proof JSON layout.
pub const PROOF_VERSION: u32 = 1;

/// A tensor as integers (what the proof is about) and the floats they stand for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TensorValues {
    /// Shape.
    pub shape: Vec<usize>,
    /// Power-of-two scale: `float = int / 2^scale`.
    pub scale: u32,
    /// The quantized values (the public instances).
    pub ints: Vec<i64>,
    /// `ints[i] / 2^scale`, for reading.
    pub floats: Vec<f64>,
}

impl TensorValues {
    /// Builds the pair from integers.
    pub fn from_ints(shape: Vec<usize>, scale: u32, ints: Vec<i64>) -> Self {
        let floats = ints
            .iter()
            .map(|&q| crate::input::dequantize(q, scale))
            .collect();
        TensorValues {
            shape,
            scale,
            ints,
            floats,
        }
    }

    /// The values split into `parts` (empty when there is at most one part, or when the sizes
    /// do not add up).
    pub fn named_parts(&self, parts: &[crate::IoPart]) -> Vec<NamedValues> {
        if parts.len() <= 1 {
            return Vec::new();
        }
        crate::interface::split(&self.ints, parts)
            .map(|slices| {
                parts
                    .iter()
                    .zip(slices)
                    .map(|(p, ints)| NamedValues {
                        name: p.name.clone(),
                        values: TensorValues::from_ints(p.shape.clone(), self.scale, ints.to_vec()),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Index of the first float that is not exactly `int / 2^scale`.
    pub fn first_inconsistent_float(&self) -> Option<usize> {
        if self.floats.len() != self.ints.len() {
            return Some(self.floats.len().min(self.ints.len()));
        }
        self.ints
            .iter()
            .zip(&self.floats)
            .position(|(&q, &f)| crate::input::dequantize(q, self.scale).to_bits() != f.to_bits())
    }
}

/// One graph output: its name and values (a part of the flat output).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedValues {
    /// ONNX name.
    pub name: String,
    /// Its values.
    #[serde(flatten)]
    pub values: TensorValues,
}

/// One graph input of a model whose inputs each have their own visibility: its values when
/// public, its commitment when hashed, neither when private.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartClaim {
    /// ONNX name.
    pub name: String,
    /// What the proof shows of it.
    pub visibility: crate::Visibility,
    /// Its values (public only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<TensorValues>,
    /// Its salted Poseidon commitment, 32-byte big-endian hex (hashed only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

/// The contents of `proof.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProofFile {
    /// Always [`PROOF_FORMAT`].
    pub format: String,
    /// Layout version, [`PROOF_VERSION`].
    pub version: u32,
    /// Hex SHA-256 of the compiled model this proof is for.
    pub model_hash: String,
    /// The input, when the model's input is public (absent when private or hashed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<TensorValues>,
    /// The input's salted Poseidon commitment (32-byte big-endian hex), when it is hashed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_hash: Option<String>,
    /// The graph inputs, when each has its own visibility (then `input` and `input_hash`
    /// are absent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_parts: Vec<PartClaim>,
    /// The output, when it is public (absent when private or hashed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<TensorValues>,
    /// The output's salted Poseidon commitment (32-byte big-endian hex), when it is hashed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_hash: Option<String>,
    /// The commitment to the model's weights and constants (32-byte big-endian hex), when
    /// they are hashed: the same in every proof of that model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param_hash: Option<String>,
    /// With committed parameters, the KZG commitment of the weights in each weight column
    /// of the key (64-byte hex points), which the verifier adds to its key; `param_hash` is
    /// then their Keccak-256 digest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub param_commitments: Vec<String>,
    /// The output split by graph output, when the model has several (the verifier checks
    /// that the parts are the output's values, with the names and shapes of its key).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<NamedValues>,
    /// The public instances: the input's, then the output's (for each, its values, its
    /// commitment, or none), then the parameters' commitment when hashed, as 32-byte
    /// big-endian field elements in hex.
    pub instances: Vec<String>,
    /// The proof bytes (SHPLONK, Keccak transcript), hex.
    pub proof: String,
    /// `"insecure-test"` when the SRS came from `--insecure-test-srs`.
    pub srs: String,
}

impl ProofFile {
    /// Parses proof JSON; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ArtifactError> {
        let file: ProofFile = serde_json::from_str(text).map_err(|e| ArtifactError::Json {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        if file.format != PROOF_FORMAT {
            return Err(ArtifactError::BadMagic {
                path: path.to_path_buf(),
                expected: "proof (.json)",
            });
        }
        if file.version != PROOF_VERSION {
            return Err(ArtifactError::Version {
                path: path.to_path_buf(),
                found: file.version,
                supported: PROOF_VERSION,
            });
        }
        Ok(file)
    }

    /// Reads and parses a proof file.
    pub fn read(path: &Path) -> Result<Self, ArtifactError> {
        let text = std::fs::read_to_string(path).map_err(|source| ArtifactError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Pretty JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}
