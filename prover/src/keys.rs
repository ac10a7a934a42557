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
use zkinfer_circuits::vk_header::{points, SrsHeader, VkHeader};
use zkinfer_circuits::{CircuitParams, ModelCircuit};
use zkinfer_ir::artifact::{self, ArtifactKind, ModelHash};
use zkinfer_ir::{ArtifactError, QGraph};

use crate::error::ProverError;
use crate::srs::LoadedSrs;

/// Proving and verifying keys of one compiled model.
#[derive(Debug)]
pub struct Keys {
    /// The proving key.
    pub pk: ProvingKey<G1Affine>,
    /// Everything a verifier needs besides the halo2 VK.
    pub header: VkHeader,
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
    let header = vk_header(&graph, params, srs);
    let circuit = ModelCircuit::keygen(graph, params.clone());
    let halo2 =
        |e: halo2_proofs::plonk::Error| ProverError::from_halo2("key generation", e, &circuit);
    let vk = keygen_vk(&srs.params, &circuit).map_err(halo2)?;
    let pk = keygen_pk(&srs.params, vk, &circuit).map_err(halo2)?;
    Ok(Keys { pk, header })
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

/// Serializes the proving key file.
pub fn encode_pk(
    pk: &ProvingKey<G1Affine>,
    params: &CircuitParams,
    model_hash: &ModelHash,
) -> Vec<u8> {
    let mut key = Vec::new();
    let _ = pk.write(&mut key, SerdeFormat::RawBytesUnchecked);
    let mut body = artifact::sha256(&key).to_vec();
    body.extend_from_slice(&key);
    let head = serde_json::to_vec(params).unwrap_or_default();
    artifact::encode(
        ArtifactKind::ProvingKey,
        model_hash,
        &artifact::join_header(&head, &body),
    )
}

/// Reads `pk.bin`, checking that it belongs to `expected` (the model hash).
pub fn read_pk(
    path: &Path,
    expected: &ModelHash,
    model_path: &Path,
) -> Result<(ProvingKey<G1Affine>, CircuitParams), ArtifactError> {
    let bytes = artifact::read_file(path)?;
    let (hash, payload) = artifact::decode(ArtifactKind::ProvingKey, &bytes, path)?;
    artifact::ensure_same_model(path, &hash, model_path, expected)?;
    let corrupt = |detail: &str| ArtifactError::Corrupt {
        path: path.to_path_buf(),
        detail: detail.to_string(),
    };
    let (head, body) =
        artifact::split_header(payload).ok_or_else(|| corrupt("header cut short"))?;
    let params: CircuitParams = serde_json::from_slice(head).map_err(|_| corrupt("bad header"))?;
    let (digest, mut key) = (
        body.get(..32).ok_or_else(|| corrupt("cut short"))?,
        body.get(32..).unwrap_or(&[]),
    );
    if artifact::sha256(key) != digest {
        return Err(corrupt(
            "checksum mismatch: the proving key was modified or damaged",
        ));
    }
    let pk = ProvingKey::read::<_, ModelCircuit>(
        &mut key,
        SerdeFormat::RawBytesUnchecked,
        params.clone(),
    )
    .map_err(|e| corrupt(&format!("bad proving key: {e}")))?;
    Ok((pk, params))
}
