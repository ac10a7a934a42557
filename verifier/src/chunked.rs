//! Verifying a chunked model's proof bundle: every chunk proof against its own key, and
//! every link (chunk `i`'s output commitment equals chunk `i + 1`'s input commitment).

use zkinfer_ir::chunk::{ChunkManifest, ChunkedProof, BUNDLE_FORMAT};
use zkinfer_ir::Visibility;

use crate::error::VerifyError;
use crate::key::VerifierKey;
use crate::verify::{verify, Verified};

/// Why a bundle is refused.
#[derive(Debug, thiserror::Error)]
pub enum ChunkedError {
    /// The file's format tag is not a bundle's.
    #[error("the bundle has format `{found}`, not `{BUNDLE_FORMAT}`")]
    Format {
        /// The tag found.
        found: String,
    },
    /// The bundle is for another model than the keys.
    #[error("the bundle is for model {bundle}, the keys for model {keys}")]
    Model {
        /// The bundle's model hash.
        bundle: String,
        /// The manifest's.
        keys: String,
    },
    /// The bundle, the manifest and the keys disagree on the number of chunks.
    #[error(
        "the bundle holds {proofs} chunk proofs; the model has {chunks} chunks ({keys} keys given)"
    )]
    Count {
        /// Chunk proofs in the bundle.
        proofs: usize,
        /// Chunks in the manifest.
        chunks: usize,
        /// Keys given.
        keys: usize,
    },
    /// A chunk's proof does not verify against its key.
    #[error("chunk {index} (`{dir}`): {source}")]
    Chunk {
        /// Position of the chunk.
        index: usize,
        /// Its directory.
        dir: String,
        /// Why.
        #[source]
        source: Box<VerifyError>,
    },
    /// Two consecutive chunks do not commit to the same boundary values.
    #[error("link {index} (boundary `{boundary}`, chunk {index} -> {next}): {why}")]
    Link {
        /// The earlier chunk.
        index: usize,
        /// The later chunk.
        next: usize,
        /// The boundary tensor's name.
        boundary: String,
        /// What differs.
        why: String,
    },
}

/// Verifies `bundle` against the chunk keys `keys` (in the manifest's order): the count,
/// each chunk's model, each proof, each link. Returns the last chunk's verification (the
/// model's output, when public).
pub fn verify_chunks(
    manifest: &ChunkManifest,
    keys: &[VerifierKey],
    bundle: &ChunkedProof,
) -> Result<Verified, ChunkedError> {
    if bundle.format != BUNDLE_FORMAT {
        return Err(ChunkedError::Format {
            found: bundle.format.clone(),
        });
    }
    if bundle.model_hash != manifest.model_hash {
        return Err(ChunkedError::Model {
            bundle: bundle.model_hash.clone(),
            keys: manifest.model_hash.clone(),
        });
    }
    let n = manifest.chunks.len();
    if bundle.chunks.len() != n || keys.len() != n || n == 0 {
        return Err(ChunkedError::Count {
            proofs: bundle.chunks.len(),
            chunks: n,
            keys: keys.len(),
        });
    }
    let mut last = None;
    for (index, ((entry, key), proof)) in manifest
        .chunks
        .iter()
        .zip(keys)
        .zip(&bundle.chunks)
        .enumerate()
    {
        let chunk_err = |source| ChunkedError::Chunk {
            index,
            dir: entry.dir.clone(),
            source: Box::new(source),
        };
        let key_hash = zkinfer_ir::artifact::hash_hex(&key.model_hash);
        if key_hash != entry.model_hash {
            return Err(chunk_err(VerifyError::ModelMismatch {
                proof_model: entry.model_hash.clone(),
                key_model: key_hash,
            }));
        }
        last = Some(verify(key, proof).map_err(chunk_err)?);
    }
    for (index, pair) in bundle.chunks.windows(2).enumerate() {
        let (Some(a), Some(b)) = (pair.first(), pair.get(1)) else {
            continue;
        };
        let boundary = manifest
            .chunks
            .get(index)
            .map(|c| c.output.name.clone())
            .unwrap_or_default();
        let link = |why: String| ChunkedError::Link {
            index,
            next: index + 1,
            boundary: boundary.clone(),
            why,
        };
        // The keys say both ends are hashed; check rather than trust the manifest.
        let ends_hashed = keys.get(index).map(|k| k.header.output_visibility)
            == Some(Visibility::Hashed)
            && keys.get(index + 1).map(|k| k.header.input_visibility) == Some(Visibility::Hashed);
        if !ends_hashed {
            return Err(link("its keys do not commit to both ends".into()));
        }
        // Both ends must read the boundary alike (shape, scale, and the bound the packing of
        // the commitment uses), or equal commitments could stand for different values.
        let (Some(out_key), Some(in_key)) = (keys.get(index), keys.get(index + 1)) else {
            continue;
        };
        let out_bound = manifest.chunks.get(index).map(|c| c.output.bound);
        let (oh, ih) = (&out_key.header, &in_key.header);
        if oh.output_shape != ih.input_shape
            || oh.output_scale != ih.input_scale
            || out_bound != Some(ih.input_bound)
        {
            return Err(link(format!(
                "chunk {index} gives {:?} at scale {} (bound {}), chunk {} reads {:?} at scale {} (bound {})",
                oh.output_shape,
                oh.output_scale,
                out_bound.map_or("?".into(), |b| b.to_string()),
                index + 1,
                ih.input_shape,
                ih.input_scale,
                ih.input_bound
            )));
        }
        match (&a.output_hash, &b.input_hash) {
            (Some(x), Some(y)) if x == y => {}
            (x, y) => {
                return Err(link(format!(
                    "chunk {index} commits to {}, chunk {} to {}",
                    x.as_deref().unwrap_or("nothing"),
                    index + 1,
                    y.as_deref().unwrap_or("nothing")
                )))
            }
        }
    }
    last.ok_or(ChunkedError::Count {
        proofs: 0,
        chunks: n,
        keys: keys.len(),
    })
}
