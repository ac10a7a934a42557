//! Key generation and the `pk.bin` / `vk.bin` artifacts.
//!
//! - `pk.bin` = envelope(PK, model hash) with payload
//!   `header JSON (CircuitParams) | SHA-256 of the key bytes | halo2 proving key (raw)`.
//! - `vk.bin` = envelope(VK, model hash) with payload `header JSON (VkHeader) | halo2 VK`.

use std::path::Path;
use std::sync::Arc;

use halo2_proofs::halo2curves::bn256::G1Affine;
use halo2_proofs::plonk::{keygen_pk, keygen_vk, ProvingKey, VerifyingKey};
use halo2_proofs::SerdeFormat;
use zkinfer_circuits::committed;
use zkinfer_circuits::vk_header::{points, SrsHeader, VkHeader};
use zkinfer_circuits::{CircuitParams, ModelCircuit};
use zkinfer_ir::artifact::{self, ArtifactKind, ModelHash};
use zkinfer_ir::{ArtifactError, ParamVisibility, QGraph};

use crate::error::ProverError;
use crate::srs::LoadedSrs;

/// Proving and verifying keys of one compiled model.
#[derive(Debug)]
pub struct Keys {
    /// The proving key.
    pub pk: ProvingKey<G1Affine>,
    /// Everything a verifier needs besides the halo2 VK; `header.circuit` are the circuit
    /// parameters the keys were made with (the plan's, plus the weight columns with
    /// committed parameters).
    pub header: VkHeader,
    /// With committed parameters, the architecture key `vk.bin` holds (the proving key's
    /// own verifying key includes the weights).
    pub architecture: Option<VerifyingKey<G1Affine>>,
}

impl Keys {
    /// The verifying key `vk.bin` holds: the architecture key with committed parameters,
    /// else the proving key's.
    pub fn verifying_key(&self) -> &VerifyingKey<G1Affine> {
        self.architecture.as_ref().unwrap_or(self.pk.get_vk())
    }

    /// With committed parameters, the weights' points (one per weight column) and their
    /// digest; `None` otherwise.
    pub fn param_points(&self) -> Result<Option<Vec<G1Affine>>, ProverError> {
        let Some(arch) = &self.architecture else {
            return Ok(None);
        };
        committed::param_points(self.pk.get_vk(), arch, &self.header.circuit.param_columns)
            .map(Some)
            .map_err(committed_error)
    }
}

fn committed_error(e: committed::CommittedError) -> ProverError {
    ProverError::Halo2 {
        stage: "key generation (committed parameters)",
        detail: e.to_string(),
    }
}

/// Builds the verifier-facing header.
pub fn vk_header(graph: &QGraph, params: &CircuitParams, srs: &LoadedSrs) -> VkHeader {
    use halo2_proofs::poly::commitment::ParamsProver;
    let g1 = srs
        .params
        .get_g()
        .first()
        .map(points::encode_g1)
        .unwrap_or_default();
    VkHeader::for_model(
        graph,
        params,
        SrsHeader {
            insecure: srs.insecure,
            k: params.k,
            g1,
            g2: points::encode_g2(&srs.params.g2()),
            s_g2: points::encode_g2(&srs.params.s_g2()),
        },
    )
}

/// Generates the keys for `graph` laid out with `params`. The SRS must already be sized to `params.k`.
pub fn setup(
    graph: Arc<QGraph>,
    params: &CircuitParams,
    srs: &LoadedSrs,
) -> Result<Keys, ProverError> {
    use halo2_proofs::poly::commitment::Params;
    if srs.params.k() != params.k {
        return Err(ProverError::Halo2 {
            stage: "key generation",
            detail: format!(
                "SRS k = {} but the circuit uses k = {}",
                srs.params.k(),
                params.k
            ),
        });
    }
    // The graph may come from an untrusted file: refuse one the circuit cannot rely on.
    graph
        .validate()
        .map_err(zkinfer_circuits::CircuitError::from)?;
    // Committed parameters: find the weight columns, then make the architecture key with
    // them recorded (the labels digest covers them).
    let (params, architecture) = if graph.param_visibility == ParamVisibility::Committed {
        let columns =
            committed::param_columns(&srs.params, &graph, params).map_err(committed_error)?;
        let params = CircuitParams {
            param_columns: columns,
            ..params.clone()
        };
        let arch =
            committed::architecture_key(&srs.params, &graph, &params).map_err(committed_error)?;
        (params, Some(arch))
    } else {
        (params.clone(), None)
    };
    let header = vk_header(&graph, &params, srs);
    let circuit = ModelCircuit::keygen(graph, params);
    let halo2 =
        |e: halo2_proofs::plonk::Error| ProverError::from_halo2("key generation", e, &circuit);
    let vk = keygen_vk(&srs.params, &circuit).map_err(halo2)?;
    let pk = keygen_pk(&srs.params, vk, &circuit).map_err(halo2)?;
    let keys = Keys {
        pk,
        header,
        architecture,
    };
    // The weights may only move the weight columns' commitments.
    keys.param_points()?;
    Ok(keys)
}

/// Serializes the verifying key file.
pub fn encode_vk(
    vk: &VerifyingKey<G1Affine>,
    header: &VkHeader,
    model_hash: &ModelHash,
) -> Vec<u8> {
    let mut body = Vec::new();
    let _ = vk.write(&mut body, SerdeFormat::RawBytes);
    let head = serde_json::to_vec(header).unwrap_or_default();
    artifact::encode(
        ArtifactKind::VerifyingKey,
        model_hash,
        &artifact::join_header(&head, &body),
    )
}

/// Largest `CircuitParams` header a proving key file may declare (it is a few hundred bytes).
const MAX_PK_HEADER: usize = 1 << 20;

/// Writes the proving key file atomically, streaming the key: the file is never held in
/// memory (a key at k = 20 is several GB). Its SHA-256 is written in place once known.
pub fn write_pk(
    path: &Path,
    pk: &ProvingKey<G1Affine>,
    params: &CircuitParams,
    model_hash: &ModelHash,
) -> Result<(), ArtifactError> {
    use std::io::{BufWriter, Seek, SeekFrom, Write};
    let head = serde_json::to_vec(params).unwrap_or_default();
    let mut prefix = artifact::envelope(ArtifactKind::ProvingKey, model_hash);
    prefix.extend_from_slice(&artifact::join_header(&head, &[]));
    let digest_at = prefix.len() as u64;
    artifact::write_atomic_with(path, |file| {
        let mut out = BufWriter::with_capacity(1 << 20, &mut *file);
        out.write_all(&prefix)?;
        out.write_all(&[0u8; 32])?;
        let mut hashed = artifact::HashingWriter::new(&mut out);
        pk.write(&mut hashed, SerdeFormat::RawBytesUnchecked)?;
        let digest = hashed.digest();
        out.flush()?;
        drop(out);
        file.seek(SeekFrom::Start(digest_at))?;
        file.write_all(&digest)
    })
}

/// Reads `pk.bin`, checking that it belongs to `expected` (the model hash). Streams the file
/// twice, never holding it in memory: once to check its SHA-256, once to decode the key.
pub fn read_pk(
    path: &Path,
    expected: &ModelHash,
    model_path: &Path,
) -> Result<(ProvingKey<G1Affine>, CircuitParams), ArtifactError> {
    use std::io::{BufReader, Seek, SeekFrom};
    let io = |source| ArtifactError::Io {
        path: path.to_path_buf(),
        source,
    };
    let corrupt = |detail: &str| ArtifactError::Corrupt {
        path: path.to_path_buf(),
        detail: detail.to_string(),
    };
    let mut file = BufReader::with_capacity(1 << 20, std::fs::File::open(path).map_err(io)?);
    let hash = artifact::read_envelope(&mut file, ArtifactKind::ProvingKey, path)?;
    artifact::ensure_same_model(path, &hash, model_path, expected)?;
    let head = artifact::read_joined_header(&mut file, path, MAX_PK_HEADER)?;
    let params: CircuitParams = serde_json::from_slice(&head).map_err(|_| corrupt("bad header"))?;
    let mut digest = [0u8; 32];
    artifact::read_exact(&mut file, &mut digest, path, "the key")?;
    let key_at = file.stream_position().map_err(io)?;
    if artifact::sha256_reader(&mut file).map_err(io)? != digest {
        return Err(corrupt(
            "checksum mismatch: the proving key was modified or damaged",
        ));
    }
    file.seek(SeekFrom::Start(key_at)).map_err(io)?;
    // The key's bytes match their checksum, so halo2's reader (which panics on a short read)
    // sees what setup wrote; a file swapped between the two passes is still an error.
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ProvingKey::read::<_, ModelCircuit>(
            &mut file,
            SerdeFormat::RawBytesUnchecked,
            params.clone(),
        )
    }));
    let pk = match decoded {
        Ok(Ok(pk)) => pk,
        Ok(Err(e)) => return Err(corrupt(&format!("bad proving key: {e}"))),
        Err(_) => return Err(corrupt("the proving key changed while it was read")),
    };
    Ok((pk, params))
}
