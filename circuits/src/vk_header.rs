//! The header of a self-contained verifying key: everything a verifier needs besides the
//! halo2 VK bytes to rebuild the constraint system and check the public values.

use serde::{Deserialize, Serialize};

use crate::plan::CircuitParams;

/// Metadata stored in `vk.bin` before the halo2 verifying key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VkHeader {
    /// Parameters that `configure` needs.
    pub circuit: CircuitParams,
    /// Input shape.
    pub input_shape: Vec<usize>,
    /// Input scale (bits).
    pub input_scale: u32,
    /// Compiled input bound: the circuit's arithmetic is exact only for `|x| <= input_bound`.
    pub input_bound: u64,
    /// Output shape.
    pub output_shape: Vec<usize>,
    /// Output scale (bits).
    pub output_scale: u32,
    /// SHA-256 (hex) of the source ONNX file.
    pub source_sha256: String,
    /// SHA-256 (hex) of the quantized weights.
    pub weights_sha256: String,
    /// The KZG verifier parameters.
    pub srs: SrsHeader,
}

/// The part of the KZG parameters a verifier uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SrsHeader {
    /// True when the SRS was generated locally for testing: its secret is not destroyed.
    pub insecure: bool,
    /// SRS size (log2).
    pub k: u32,
    /// G1 generator, compressed, hex.
    pub g1: String,
    /// G2 generator, compressed, hex.
    pub g2: String,
    /// `τ·G2`, compressed, hex.
    pub s_g2: String,
}

impl VkHeader {
    /// Number of public values: inputs then outputs.
    pub fn instance_count(&self) -> usize {
        self.input_shape.iter().product::<usize>() + self.output_shape.iter().product::<usize>()
    }
}
