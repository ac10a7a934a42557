//! Artifact envelopes: every binary artifact starts with a magic tag, a format version
//! and the SHA-256 of the compiled model it belongs to (ARCHITECTURE.md section 5).
//!
//! Layout: `magic (8 bytes) | version (u32 LE) | model hash (32 bytes) | payload`.
//! For `model.zkm` the hash is the SHA-256 of its own payload, checked on read.

use std::io::{Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::ArtifactError;
use crate::qgraph::QGraph;

/// Version of every binary artifact layout written by this build.
pub const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 32;

/// The kinds of binary artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactKind {
    /// `model.zkm`: the compiled (quantized) model.
    Model,
    /// `pk.bin`: the proving key.
    ProvingKey,
    /// `vk.bin`: the self-contained verifying key.
    VerifyingKey,
    /// `srs.bin`: KZG parameters.
    Srs,
}

impl ArtifactKind {
    /// The 8-byte magic tag.
    pub fn magic(self) -> &'static [u8; 8] {
        match self {
            ArtifactKind::Model => b"ZKIMODEL",
            ArtifactKind::ProvingKey => b"ZKIPKEY\0",
            ArtifactKind::VerifyingKey => b"ZKIVKEY\0",
            ArtifactKind::Srs => b"ZKISRS\0\0",
        }
    }

    /// Human name used in errors.
    pub fn name(self) -> &'static str {
        match self {
            ArtifactKind::Model => "compiled model (.zkm)",
            ArtifactKind::ProvingKey => "proving key",
            ArtifactKind::VerifyingKey => "verifying key",
            ArtifactKind::Srs => "SRS",
        }
    }
}

/// A 32-byte model hash.
pub type ModelHash = [u8; 32];

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> ModelHash {
    Sha256::digest(bytes).into()
}

/// The envelope that starts every artifact: magic, format version, model hash.
pub fn envelope(kind: ArtifactKind, model_hash: &ModelHash) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN);
    out.extend_from_slice(kind.magic());
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(model_hash);
    out
}

/// Builds an artifact: header then payload.
pub fn encode(kind: ArtifactKind, model_hash: &ModelHash, payload: &[u8]) -> Vec<u8> {
    let mut out = envelope(kind, model_hash);
    out.reserve(payload.len());
    out.extend_from_slice(payload);
    out
}

/// Reads and checks the envelope at the start of `reader` (a file too large to hold in
/// memory twice); returns the model hash.
pub fn read_envelope<R: Read>(
    reader: &mut R,
    kind: ArtifactKind,
    path: &Path,
) -> Result<ModelHash, ArtifactError> {
    let mut head = [0u8; HEADER_LEN];
    read_exact(reader, &mut head, path, kind.name())?;
    decode(kind, &head, path).map(|(hash, _)| hash)
}

/// `read_exact` whose short read is a [`ArtifactError::Corrupt`] naming the file and `what`
/// was cut short.
pub fn read_exact<R: Read>(
    reader: &mut R,
    buf: &mut [u8],
    path: &Path,
    what: &str,
) -> Result<(), ArtifactError> {
    reader
        .read_exact(buf)
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::UnexpectedEof => ArtifactError::Corrupt {
                path: path.to_path_buf(),
                detail: format!("{what} is cut short"),
            },
            _ => ArtifactError::Io {
                path: path.to_path_buf(),
                source,
            },
        })
}

/// SHA-256 of everything left in `reader`, read in blocks.
pub fn sha256_reader<R: Read>(reader: &mut R) -> std::io::Result<ModelHash> {
    let mut hasher = HashingWriter::new(std::io::sink());
    std::io::copy(reader, &mut hasher)?;
    Ok(hasher.digest())
}

/// A writer that passes bytes on to `inner` and hashes them (SHA-256) on the way.
#[derive(Debug)]
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
        }
    }

    /// The SHA-256 of what was written.
    pub fn digest(self) -> ModelHash {
        self.hasher.finalize().into()
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(buf.get(..n).unwrap_or(buf));
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Splits an artifact into its model hash and payload, checking magic and version.
pub fn decode<'a>(
    kind: ArtifactKind,
    bytes: &'a [u8],
    path: &Path,
) -> Result<(ModelHash, &'a [u8]), ArtifactError> {
    let magic = bytes.get(..8).ok_or_else(|| ArtifactError::Corrupt {
        path: path.to_path_buf(),
        detail: format!("too short to be a {} file", kind.name()),
    })?;
    if magic != kind.magic() {
        return Err(ArtifactError::BadMagic {
            path: path.to_path_buf(),
            expected: kind.name(),
        });
    }
    let (version, hash, payload) = match (
        bytes.get(8..12),
        bytes.get(12..HEADER_LEN),
        bytes.get(HEADER_LEN..),
    ) {
        (Some(v), Some(h), Some(p)) => (v, h, p),
        _ => {
            return Err(ArtifactError::Corrupt {
                path: path.to_path_buf(),
                detail: "header is cut short".into(),
            })
        }
    };
    let mut v = [0u8; 4];
    v.copy_from_slice(version);
    let found = u32::from_le_bytes(v);
    if found != FORMAT_VERSION {
        return Err(ArtifactError::Version {
            path: path.to_path_buf(),
            found,
            supported: FORMAT_VERSION,
        });
    }
    let mut h = [0u8; 32];
    h.copy_from_slice(hash);
    Ok((h, payload))
}

/// Reads a whole file, naming it in the error.
pub fn read_file(path: &Path) -> Result<Vec<u8>, ArtifactError> {
    std::fs::read(path).map_err(|source| ArtifactError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, then a rename,
/// so a failure never leaves a partial file behind.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ArtifactError> {
    write_atomic_with(path, |f| f.write_all(bytes))
}

/// [`write_atomic`] for a file written piece by piece: `fill` writes (and may seek in) the
/// temporary file; on any error the temporary file is removed and `path` is left as it was.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<(), ArtifactError> {
    let io = |source| ArtifactError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        fill(&mut f)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // The rename itself is durable only once the directory is synced.
        #[cfg(unix)]
        std::fs::File::open(&dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// Hex form of a model hash.
pub fn hash_hex(hash: &ModelHash) -> String {
    hex::encode(hash)
}

/// Serializes a compiled model to `model.zkm` bytes; returns them and the model hash.
pub fn encode_model(graph: &QGraph) -> (Vec<u8>, ModelHash) {
    // serde_json on plain data with string keys cannot fail.
    let payload = serde_json::to_vec(graph).unwrap_or_default();
    let hash = sha256(&payload);
    (encode(ArtifactKind::Model, &hash, &payload), hash)
}

/// Parses `model.zkm` bytes, checking the embedded hash.
pub fn decode_model(bytes: &[u8], path: &Path) -> Result<(QGraph, ModelHash), ArtifactError> {
    let (hash, payload) = decode(ArtifactKind::Model, bytes, path)?;
    if sha256(payload) != hash {
        return Err(ArtifactError::Corrupt {
            path: path.to_path_buf(),
            detail: "checksum mismatch: the compiled model was modified or damaged".into(),
        });
    }
    let graph = serde_json::from_slice(payload).map_err(|e| ArtifactError::Json {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    Ok((graph, hash))
}

/// Reads and checks `model.zkm`.
pub fn read_model(path: &Path) -> Result<(QGraph, ModelHash), ArtifactError> {
    decode_model(&read_file(path)?, path)
}

/// Errors unless `found` equals `expected`.
pub fn ensure_same_model(
    path: &Path,
    found: &ModelHash,
    other: &Path,
    expected: &ModelHash,
) -> Result<(), ArtifactError> {
    if found == expected {
        return Ok(());
    }
    Err(ArtifactError::ModelMismatch {
        path: path.to_path_buf(),
        found: hash_hex(found),
        other: other.display().to_string(),
        expected: hash_hex(expected),
    })
}

/// Prefixes `body` with a length-prefixed JSON header: `len (u32 LE) | header | body`.
pub fn join_header(header: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + header.len() + body.len());
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(header);
    out.extend_from_slice(body);
    out
}

/// Reads the length-prefixed header [`join_header`] writes from the start of `reader`,
/// refusing a declared length over `max` (a damaged file) before allocating it.
pub fn read_joined_header<R: Read>(
    reader: &mut R,
    path: &Path,
    max: usize,
) -> Result<Vec<u8>, ArtifactError> {
    let mut len = [0u8; 4];
    read_exact(reader, &mut len, path, "the header")?;
    let len = u32::from_le_bytes(len) as usize;
    if len > max {
        return Err(ArtifactError::Corrupt {
            path: path.to_path_buf(),
            detail: format!("the header declares {len} bytes, more than the {max} allowed"),
        });
    }
    let mut header = vec![0u8; len];
    read_exact(reader, &mut header, path, "the header")?;
    Ok(header)
}

/// Splits what [`join_header`] built; `None` if the bytes are cut short.
pub fn split_header(payload: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut len = [0u8; 4];
    len.copy_from_slice(payload.get(..4)?);
    let len = u32::from_le_bytes(len) as usize;
    let header = payload.get(4..4usize.checked_add(len)?)?;
    let body = payload.get(4 + len..)?;
    Some((header, body))
}

#[cfg(test)]
mod tests {
    #[test]
    fn header_split_round_trips_and_rejects_truncation() {
        let joined = join_header(b"{}", b"body");
        assert_eq!(split_header(&joined), Some((&b"{}"[..], &b"body"[..])));
        assert_eq!(split_header(&joined[..5]), None);
        assert_eq!(split_header(&[255, 255, 255, 255]), None);
    }

    use super::*;

    #[test]
    fn envelope_round_trip_and_errors() {
        let p = Path::new("x.bin");
        let h = sha256(b"model");
        let bytes = encode(ArtifactKind::VerifyingKey, &h, b"payload");
        let (h2, payload) = decode(ArtifactKind::VerifyingKey, &bytes, p).expect("valid");
        assert_eq!((h2, payload), (h, &b"payload"[..]));
        let err = decode(ArtifactKind::ProvingKey, &bytes, p).expect_err("wrong kind");
        assert!(matches!(err, ArtifactError::BadMagic { .. }));
        let mut v2 = bytes.clone();
        v2[8] = 9;
        assert!(matches!(
            decode(ArtifactKind::VerifyingKey, &v2, p),
            Err(ArtifactError::Version { found: 9, .. })
        ));
        assert!(matches!(
            decode(ArtifactKind::VerifyingKey, &bytes[..20], p),
            Err(ArtifactError::Corrupt { .. })
        ));
        assert!(matches!(
            decode(ArtifactKind::VerifyingKey, &[], p),
            Err(ArtifactError::Corrupt { .. })
        ));
    }

    #[test]
    fn atomic_write_leaves_no_temp_file() {
        let dir = std::env::temp_dir().join(format!("zkinfer-art-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let path = dir.join("a.bin");
        write_atomic(&path, b"hello").expect("write");
        assert_eq!(std::fs::read(&path).expect("read"), b"hello");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 1);
        let missing = dir.join("no/such/dir/b.bin");
        assert!(write_atomic(&missing, b"x").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
