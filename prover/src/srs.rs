//! KZG structured reference strings: insecure test generation, reading and writing.
//! Ceremony files are imported by the `srs_import` module.
//!
//! `srs.bin` = envelope(SRS, zero hash) with payload `flags (1 byte) | params` (halo2
//! `RawBytes`). Flags: bit 0 (1) = insecure test SRS, bit 1 (2) = ceremony file imported with
//! `--allow-unpinned` (its hash is not on the pinned list); other bits must be zero.

use std::path::Path;

use halo2_proofs::halo2curves::bn256::Bn256;
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_proofs::SerdeFormat;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkinfer_ir::artifact::{self, ArtifactKind};
use zkinfer_ir::ArtifactError;

/// KZG parameters on BN254.
pub type Srs = ParamsKZG<Bn256>;

/// An SRS with where it came from.
#[derive(Debug)]
pub struct LoadedSrs {
    /// The parameters.
    pub params: Srs,
    /// True for a locally generated test SRS (its secret is known to whoever ran it).
    pub insecure: bool,
    /// True for a ceremony file imported although its SHA-256 is not pinned: it passed the
    /// consistency checks, but nothing ties it to a public ceremony.
    pub unpinned: bool,
}

/// `srs.bin` flag: insecure test SRS.
const FLAG_INSECURE: u8 = 1;
/// `srs.bin` flag: imported ceremony file whose hash is not pinned.
const FLAG_UNPINNED: u8 = 2;

impl LoadedSrs {
    /// log2 of the SRS size.
    pub fn k(&self) -> u32 {
        self.params.k()
    }
}

/// Generates an **insecure** SRS of size `2^k` from a random secret. Anyone holding the
/// secret can forge proofs; use only for tests and demos.
pub fn generate_insecure(k: u32) -> LoadedSrs {
    generate_insecure_seeded(k, ChaCha20Rng::from_entropy())
}

/// Like [`generate_insecure`] with a caller-chosen RNG (deterministic test fixtures).
pub fn generate_insecure_seeded(k: u32, rng: ChaCha20Rng) -> LoadedSrs {
    LoadedSrs {
        params: crate::srs_gen::insecure_params(k, rng),
        insecure: true,
        unpinned: false,
    }
}

/// Serializes an SRS for `srs.bin`.
pub fn encode(srs: &LoadedSrs) -> Vec<u8> {
    let flags =
        if srs.insecure { FLAG_INSECURE } else { 0 } | if srs.unpinned { FLAG_UNPINNED } else { 0 };
    let mut payload = vec![flags];
    // Writing into a Vec cannot fail.
    let _ = srs.params.write_custom(&mut payload, SerdeFormat::RawBytes);
    artifact::encode(ArtifactKind::Srs, &[0u8; 32], &payload)
}

/// Reads `srs.bin`.
pub fn read(path: &Path) -> Result<LoadedSrs, ArtifactError> {
    let bytes = artifact::read_file(path)?;
    let (_, payload) = artifact::decode(ArtifactKind::Srs, &bytes, path)?;
    let corrupt = |detail: String| ArtifactError::Corrupt {
        path: path.to_path_buf(),
        detail,
    };
    let (&flags, mut rest) = payload
        .split_first()
        .ok_or_else(|| corrupt("empty SRS".into()))?;
    if flags & !(FLAG_INSECURE | FLAG_UNPINNED) != 0 {
        return Err(corrupt(format!("unknown SRS flags {flags:#04x}")));
    }
    // halo2's reader allocates 2^k points from the k it reads: check the length first.
    let k = rest
        .get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| corrupt("SRS data cut short".into()))?;
    if k > crate::srs_format::MAX_K
        || rest.len() as u64 != crate::srs_format::SrsFileFormat::Raw.file_len(k)
    {
        return Err(corrupt(format!(
            "SRS data is {} bytes, which does not fit its k = {k}",
            rest.len()
        )));
    }
    let params = ParamsKZG::<Bn256>::read_custom(&mut rest, SerdeFormat::RawBytes)
        .map_err(|e| corrupt(format!("bad SRS data: {e}")))?;
    Ok(LoadedSrs {
        params,
        insecure: flags & FLAG_INSECURE != 0,
        unpinned: flags & FLAG_UNPINNED != 0,
    })
}

/// Shrinks an SRS to `k` if it is larger.
pub fn downsize(srs: &mut LoadedSrs, k: u32) {
    if srs.params.k() > k {
        srs.params.downsize(k);
    }
}
