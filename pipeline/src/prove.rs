//! Proving: run the model on an input, then prove the output. A [`ProvingModel`] holds what a
//! model directory's proofs need (graph, proving key, SRS), loaded once for many proofs.

use std::path::Path;
use std::sync::Arc;

use halo2_proofs::halo2curves::bn256::{Fr, G1Affine};
use halo2_proofs::plonk::ProvingKey;
use zkinfer_circuits::plan::CircuitParams;
use zkinfer_circuits::{committed, poseidon};
use zkinfer_ir::artifact::{hash_hex, read_model, ModelHash};
use zkinfer_ir::proof_file::{ProofFile, TensorValues};
use zkinfer_ir::{ParamVisibility, QGraph};
use zkinfer_prover::srs::LoadedSrs;
use zkinfer_prover::{keys, prove_with_salt, srs};
use zkinfer_runtime::DeviceChoice;
use zkinfer_verifier::VerifierKey;

use crate::error::{PipelineError, Result};
use crate::input::Input;
use crate::layout::ModelDir;
use crate::observer::{step, Observer};
use crate::run::{checked_trace, output_values};

/// A compiled and set-up model, loaded for proving.
#[derive(Debug)]
pub struct ProvingModel {
    graph: Arc<QGraph>,
    hash: ModelHash,
    params: CircuitParams,
    pk: ProvingKey<G1Affine>,
    srs: LoadedSrs,
    /// With committed parameters, the weight points every proof carries and their digest.
    params_committed: Option<(Vec<String>, String)>,
}

/// The salt of a proof's commitments.
#[derive(Debug, Clone, Default)]
pub enum Salt {
    /// A fresh random salt when the model hashes something (none otherwise).
    #[default]
    Fresh,
    /// This salt: one field element as 0x-prefixed 32-byte big-endian hex; `origin` names it
    /// in errors (the salt file).
    Given {
        /// The hex text.
        hex: String,
        /// Where it came from.
        origin: String,
    },
}

/// A proof and what the prover alone knows of it.
#[derive(Debug, Clone)]
pub struct Proved {
    /// The proof file (`proof.json`).
    pub proof: ProofFile,
    /// The output the model computed, also when the proof hides it.
    pub output: TensorValues,
    /// The salt drawn for this proof (hex), when it was fresh and the model hashes something:
    /// the secret that opens its commitments.
    pub fresh_salt: Option<String>,
    /// Seconds spent proving (after running the model).
    pub prove_s: f64,
}

impl ProvingModel {
    /// Loads model.zkm, pk.bin and srs.bin from `dir`.
    pub fn load(dir: &Path, obs: &dyn Observer) -> Result<Self> {
        let d = ModelDir::new(dir);
        let (graph, hash) = read_model(&d.model())?;
        let (pk, params) = step(obs, "loading proving key", || {
            keys::read_pk(&d.pk(), &hash, &d.model())
        })
        .0?;
        let srs = match chunk_parent_srs(dir) {
            // A chunk of a chunked model reads its parent's SRS, downsized to its own k.
            Some(parent) if !d.srs().exists() => {
                let mut srs = srs::read(&parent)?;
                if srs.k() > params.k {
                    srs::downsize(&mut srs, params.k);
                }
                srs
            }
            _ => srs::read(&d.srs())?,
        };
        if srs.k() != params.k {
            return Err(PipelineError::SrsKeyMismatch {
                srs: d.srs().display().to_string(),
                have: srs.k(),
                need: params.k,
            });
        }
        let params_committed = if graph.param_visibility == ParamVisibility::Committed {
            Some(weight_points(&d, &pk, &params)?)
        } else {
            None
        };
        Ok(ProvingModel {
            graph: Arc::new(graph),
            hash,
            params,
            pk,
            srs,
            params_committed,
        })
    }

    /// The compiled graph.
    pub fn graph(&self) -> &QGraph {
        &self.graph
    }

    /// The model hash (hex), as proofs name it.
    /// With committed parameters, the weight set's digest (every proof's `param_hash`).
    pub fn param_digest(&self) -> Option<&str> {
        self.params_committed.as_ref().map(|(_, d)| d.as_str())
    }

    pub fn model_hash(&self) -> String {
        hash_hex(&self.hash)
    }

    /// Runs the model on `input` on `device` and proves the output.
    pub fn prove(
        &self,
        input: &Input<'_>,
        salt: &Salt,
        device: DeviceChoice,
        obs: &dyn Observer,
    ) -> Result<Proved> {
        let graph = &self.graph;
        let hashed = graph.salts_anything();
        let (salt_value, fresh) = match salt {
            Salt::Given { .. } if !hashed => {
                return Err(PipelineError::option(
                    "--salt",
                    format!(
                        "a salt is for a hashed input or output; this model's input is {} and its output {}",
                        graph.input_visibility_text(),
                        graph.output_visibility
                    ),
                ))
            }
            Salt::Given { hex, origin } => {
                let v = poseidon::from_hex(hex).ok_or_else(|| PipelineError::BadInput {
                    origin: origin.clone(),
                    reason: "a salt is one field element as 0x-prefixed 32-byte big-endian hex"
                        .into(),
                })?;
                (v, false)
            }
            Salt::Fresh => (fresh_salt(), hashed),
        };
        let (trace, _) = checked_trace(graph, input, device)?;
        let output = output_values(graph, &trace);
        let (proof, took) = step(obs, "proving", || {
            prove_with_salt(
                Arc::clone(graph),
                &self.params,
                &self.pk,
                &self.srs,
                trace,
                &hash_hex(&self.hash),
                salt_value,
            )
        });
        let mut proof = proof?;
        if let Some((points, digest)) = &self.params_committed {
            proof.param_commitments = points.clone();
            proof.param_hash = Some(digest.clone());
        }
        Ok(Proved {
            proof,
            output,
            fresh_salt: fresh.then(|| poseidon::to_hex(&salt_value)),
            prove_s: took.as_secs_f64(),
        })
    }
}

/// A random salt below 2^248 (so always a canonical field element).
/// DIR/../srs.bin when DIR is a chunk of a chunked model (its parent holds chunks.json).
fn chunk_parent_srs(dir: &Path) -> Option<std::path::PathBuf> {
    let parent = dir.parent()?;
    let srs = parent.join("srs.bin");
    (parent.join("chunks.json").exists() && srs.exists()).then_some(srs)
}

/// The weight points of a committed-parameter model: its proving key's fixed commitments
/// less those of the architecture key in DIR/vk.bin, on the key's weight columns; and their
/// digest.
fn weight_points(
    d: &ModelDir,
    pk: &ProvingKey<G1Affine>,
    params: &CircuitParams,
) -> Result<(Vec<String>, String)> {
    let arch = VerifierKey::read(&d.vk())?;
    let points = committed::param_points(pk.get_vk(), arch.halo2_key(), &params.param_columns)
        .map_err(|e| {
            PipelineError::KeyMismatch(format!(
                "{} and {} are not keys of one committed-parameter setup: {e}",
                d.pk().display(),
                d.vk().display()
            ))
        })?;
    Ok((
        points.iter().map(committed::encode_point).collect(),
        committed::param_digest(&points),
    ))
}

pub(crate) fn fresh_salt() -> Fr {
    let mut bytes = [0u8; 31];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    poseidon::from_hex(&format!("0x00{}", hex::encode(bytes))).unwrap_or_default()
}

/// Loads the model in `dir` and proves `input` once.
pub fn prove(
    dir: &Path,
    input: &Input<'_>,
    salt: &Salt,
    device: DeviceChoice,
    obs: &dyn Observer,
) -> Result<Proved> {
    ProvingModel::load(dir, obs)?.prove(input, salt, device, obs)
}
