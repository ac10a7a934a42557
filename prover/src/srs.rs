//! KZG structured reference strings: insecure test generation, reading and writing.
//!
//! `srs.bin` = envelope(SRS, zero hash) with payload `flags (1 byte: 1 = insecure) | params`.

use std::path::Path;

use halo2_proofs::halo2curves::bn256::Bn256;
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_proofs::SerdeFormat;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkinfer_models::artifact::{self, ArtifactKind};
use zkinfer_models::ArtifactError;

/// KZG parameters on BN254.
pub type Srs = ParamsKZG<Bn256>;

/// An SRS with where it came from.
#[derive(Debug)]
pub struct LoadedSrs {
    /// The parameters.
    pub params: Srs,
    /// True for a locally generated test SRS (its secret is known to whoever ran it).
    pub insecure: bool,
}

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
    }
}

/// Serializes an SRS for `srs.bin`.
pub fn encode(srs: &LoadedSrs) -> Vec<u8> {
    let mut payload = vec![u8::from(srs.insecure)];
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
    let params = ParamsKZG::<Bn256>::read_custom(&mut rest, SerdeFormat::RawBytes)
        .map_err(|e| corrupt(format!("bad SRS data: {e}")))?;
    Ok(LoadedSrs {
        params,
        insecure: flags & 1 == 1,
    })
}

/// Shrinks an SRS to `k` if it is larger.
pub fn downsize(srs: &mut LoadedSrs, k: u32) {
    if srs.params.k() > k {
        srs.params.downsize(k);
    }
}
