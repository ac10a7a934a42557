//! Key generation: the SRS, then the proving and verifying keys.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use zkinfer_circuits::plan;
use zkinfer_ir::artifact::read_model;
use zkinfer_ir::ArtifactError;
use zkinfer_prover::keys::{encode_vk, write_pk};
use zkinfer_prover::srs;
use zkinfer_verifier::key::KeyDigest;

use crate::error::{PipelineError, Result};
use crate::layout::ModelDir;
use crate::observer::{step, Observer};
use crate::write::write;

/// Which SRS `setup` uses.
#[derive(Debug, Clone)]
pub enum SrsChoice {
    /// A fresh test SRS, written to DIR/srs.bin. INSECURE: whoever ran it could forge proofs.
    InsecureTest,
    /// An existing SRS file (from `zkinfer srs import` or `zkinfer srs gen`).
    File(PathBuf),
}

/// What `setup` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SetupOutcome {
    /// The verifying key's digest.
    pub key_digest: String,
    /// The circuit's k.
    pub k: u32,
    /// Seconds spent generating or reading the SRS.
    pub srs_s: f64,
    /// Seconds spent generating the keys.
    pub keygen_s: f64,
    /// With committed parameters, the weight set's digest (what each proof's `param_hash`
    /// will be).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param_digest: Option<String>,
}

/// Generates keys for the model in `dir`: writes DIR/pk.bin and DIR/vk.bin (and DIR/srs.bin
/// when the SRS is new or comes from elsewhere).
pub fn setup(dir: &Path, srs_choice: &SrsChoice, obs: &dyn Observer) -> Result<SetupOutcome> {
    let srs_start = std::time::Instant::now();
    let d = ModelDir::new(dir);
    let (graph, hash) = read_model(&d.model())?;
    let plan = plan(&graph)?;
    let k = plan.params.k;
    let (mut loaded, generated) = match srs_choice {
        SrsChoice::InsecureTest => {
            obs.warn("WARNING: generating an INSECURE test SRS; proofs made with it are for testing only");
            let (loaded, _) = step(obs, &format!("generating test SRS (k = {k})"), || {
                srs::generate_insecure(k)
            });
            (loaded, true)
        }
        SrsChoice::File(p) => {
            let loaded = match srs::read(p) {
                Err(e @ ArtifactError::BadMagic { .. }) => {
                    return Err(PipelineError::option(
                        "--srs",
                        format!(
                            "{e}; a ceremony file (perpetual-powers-of-tau-raw-<k>) must be \
                             imported first: zkinfer srs import FILE --out srs.bin"
                        ),
                    ))
                }
                r => r?,
            };
            if loaded.unpinned {
                obs.warn(&format!(
                    "WARNING: {}: this SRS was imported with --allow-unpinned; its hash is not a \
                     known ceremony file, so proofs are only as sound as its source",
                    p.display()
                ));
            }
            (loaded, false)
        }
    };
    let have = loaded.k();
    if have < k {
        let srs = match srs_choice {
            SrsChoice::File(p) => p.display().to_string(),
            SrsChoice::InsecureTest => String::new(),
        };
        return Err(PipelineError::SrsTooSmall { srs, have, need: k });
    }
    srs::downsize(&mut loaded, k);
    let srs_s = srs_start.elapsed().as_secs_f64();
    let graph = Arc::new(graph);
    let (keys, took) = step(obs, "generating keys", || {
        zkinfer_prover::setup(graph, &plan.params, &loaded)
    });
    let keys = keys?;
    let vk_bytes = encode_vk(keys.verifying_key(), &keys.header, &hash);
    let digest = KeyDigest::of(keys.verifying_key());
    let param_digest = keys
        .param_points()?
        .map(|p| zkinfer_circuits::committed::param_digest(&p));
    write_pk(&d.pk(), &keys.pk, &keys.header.circuit, &hash)?;
    obs.wrote(&d.pk(), std::fs::metadata(d.pk()).map_or(0, |m| m.len()));
    write(obs, &d.vk(), &vk_bytes)?;
    let elsewhere = matches!(srs_choice, SrsChoice::File(p) if *p != d.srs());
    if generated || elsewhere {
        write(obs, &d.srs(), &srs::encode(&loaded))?;
    }
    Ok(SetupOutcome {
        key_digest: digest.to_string(),
        k,
        srs_s,
        keygen_s: took.as_secs_f64(),
        param_digest,
    })
}
