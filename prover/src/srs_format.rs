//! What an SRS file looks like: its point encodings and the largest k a BN254 SRS can have.
//! Shared by the loader, the importer and their errors.

use std::fmt;

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::PrimeField;

/// Largest k a BN254 SRS can have (2-adicity of the scalar field).
pub const MAX_K: u32 = Fr::S;

/// How the points of a file are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SrsFileFormat {
    /// Uncompressed, Montgomery-form coordinates (halo2 `SerdeFormat::RawBytes`).
    Raw,
    /// Compressed (halo2 `SerdeFormat::Processed`).
    Compressed,
}

impl SrsFileFormat {
    /// Bytes per G1 point.
    pub fn g1_len(self) -> usize {
        match self {
            SrsFileFormat::Raw => 64,
            SrsFileFormat::Compressed => 32,
        }
    }

    /// Bytes per G2 point.
    pub fn g2_len(self) -> usize {
        2 * self.g1_len()
    }

    /// Exact length of a file with this k.
    pub fn file_len(self, k: u32) -> u64 {
        4 + 2 * (1u64 << k) * self.g1_len() as u64 + 2 * self.g2_len() as u64
    }
}

impl fmt::Display for SrsFileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SrsFileFormat::Raw => "uncompressed (halo2 RawBytes)",
            SrsFileFormat::Compressed => "compressed (halo2 Processed)",
        })
    }
}
