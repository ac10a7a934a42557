//! Verification: a proof against a verifying key, offline or in the embedded EVM, and
//! optionally that the key is the one a compiled model gives.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use zkinfer_circuits::plan;
use zkinfer_ir::artifact::{hash_hex, read_model};
use zkinfer_ir::proof_file::{ProofFile, TensorValues};
use zkinfer_prover::keys::vk_header;
use zkinfer_prover::srs;
use zkinfer_verifier::evm::exec::{verify_in_evm, EvmVerified};
use zkinfer_verifier::{verify as check_proof_file, VerifierKey};

use crate::error::{PipelineError, Result};
use crate::layout::ModelDir;
use crate::observer::{step, Observer};

/// What `--model` ties the verifying key to.
#[derive(Debug, Clone)]
pub struct ModelSource {
    /// The directory written by `compile` (or its model.zkm).
    pub model: PathBuf,
    /// The SRS the key was set up with (default: srs.bin in the model's directory).
    pub srs: Option<PathBuf>,
    /// The ONNX file the model was compiled from, checked against its recorded SHA-256.
    pub onnx: Option<PathBuf>,
}

/// Which commitment `--expect-input-hash` / `--expect-output-hash` names.
#[derive(Debug, Clone, Copy)]
pub enum Committed {
    /// The input's.
    Input,
    /// The output's.
    Output,
    /// The weights'.
    Params,
}

/// Checks that the proof `p` (read from `proof`) exposes the commitment `want` for `which`.
pub fn check_hash(p: &ProofFile, proof: &Path, which: Committed, want: &str) -> Result<()> {
    // Per-input commitments: `name=hash`, or a bare hash when only one input is hashed.
    let named: Vec<(&str, &str)> = p
        .input_parts
        .iter()
        .filter_map(|c| c.hash.as_deref().map(|h| (c.name.as_str(), h)))
        .collect();
    let part_hash = match (which, want.split_once('=')) {
        (Committed::Input, Some((name, _))) => named.iter().find(|(n, _)| *n == name).map(|x| x.1),
        (Committed::Input, None) if named.len() == 1 => named.first().map(|x| x.1),
        _ => None,
    };
    let want = want.split_once('=').map_or(want, |(_, h)| h);
    let (got, name) = match which {
        Committed::Input if part_hash.is_some() => (part_hash, "input"),
        Committed::Input => (p.input_hash.as_deref(), "input"),
        Committed::Output => (p.output_hash.as_deref(), "output"),
        Committed::Params => (p.param_hash.as_deref(), "param"),
    };
    let Some(got) = got else {
        return Err(PipelineError::CommitmentMismatch(format!(
            "{}: --expect-{name}-hash was given but the proof has no {name}_hash (its model's {name} is not hashed)",
            proof.display()
        )));
    };
    let norm = |s: &str| s.trim().trim_start_matches("0x").to_ascii_lowercase();
    if norm(got) != norm(want) {
        return Err(PipelineError::CommitmentMismatch(format!(
            "{}: the proof's {name} hash is {got}, not the expected {want}",
            proof.display()
        )));
    }
    Ok(())
}

/// The warning for a key made with a test SRS.
pub const INSECURE_KEY_WARNING: &str = "WARNING: this key was made with an INSECURE test SRS; the proof only shows the setup was honest if you ran it yourself";

/// The compiled model's directory named by `--model`; an ONNX file is refused with the reason.
fn model_dir(model: &Path) -> Result<PathBuf> {
    if model.is_dir() {
        return Ok(model.to_path_buf());
    }
    if !model.exists() {
        return Err(PipelineError::option(
            format!("--model {}", model.display()),
            "no such file or directory",
        ));
    }
    if model.extension().is_some_and(|e| e == "zkm") {
        return Ok(model
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".")));
    }
    Err(PipelineError::option(
        format!("--model {}", model.display()),
        format!(
            "pass the directory written by `zkinfer compile` (model.zkm and srs.bin), not \
             a source model: the compiled model depends on the calibration data, which the compiled \
             artifacts do not record, so an ONNX file cannot be recompiled to the same key; pass \
             --model DIR --onnx {} to also check that the compiled model was made from that file",
            model.display()
        ),
    ))
}

/// The top-level header fields in which two keys differ.
fn header_differences(a: &VerifierKey, b: &VerifierKey) -> Vec<String> {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) = (
        serde_json::to_value(&a.header),
        serde_json::to_value(&b.header),
    ) else {
        return vec!["header".into()];
    };
    let mut fields: Vec<String> = a
        .iter()
        .filter(|(k, v)| b.get(k.as_str()) != Some(v))
        .map(|(k, _)| k.clone())
        .chain(b.keys().filter(|k| !a.contains_key(k.as_str())).cloned())
        .collect();
    fields.sort();
    fields
}

/// Rebuilds the verifying key from the compiled model and its SRS, and errors unless it is
/// `key`: the same key digest (the cryptographic identity), then the same header (SRS points,
/// shapes, scales, recorded hashes) and model hash.
pub fn check_model(
    key: &VerifierKey,
    vk: &Path,
    source: &ModelSource,
    obs: &dyn Observer,
) -> Result<()> {
    let dir = model_dir(&source.model)?;
    let d = ModelDir::new(&dir);
    let (graph, hash) = read_model(&d.model())?;
    if let Some(onnx) = &source.onnx {
        let bytes = std::fs::read(onnx).map_err(|e| PipelineError::read(onnx, e))?;
        let found = zkinfer_compiler::onnx::source_sha256(&bytes, onnx.parent())
            .map(|h| hash_hex(&h))
            .map_err(|e| PipelineError::Import {
                model: onnx.display().to_string(),
                source: Box::new(e),
            })?;
        if found != graph.source_sha256 {
            return Err(PipelineError::KeyMismatch(format!(
                "{} has SHA-256 {found}, but {} was compiled from a file with SHA-256 {}",
                onnx.display(),
                d.model().display(),
                graph.source_sha256
            )));
        }
        obs.note(&format!(
            "source: {} matches the SHA-256 recorded in {}",
            onnx.display(),
            d.model().display()
        ));
    }
    let plan = plan(&graph)?;
    let k = plan.params.k;
    let srs_path = source.srs.clone().unwrap_or_else(|| d.srs());
    let (loaded, _) = step(obs, "reading the SRS", || srs::read(&srs_path));
    let mut loaded = loaded.map_err(|e| {
        PipelineError::option(
            "--model",
            format!(
                "needs the SRS the key was set up with ({}, or --srs FILE): {e}",
                d.srs().display()
            ),
        )
    })?;
    if loaded.k() < k {
        return Err(PipelineError::SrsTooSmall {
            srs: srs_path.display().to_string(),
            have: loaded.k(),
            need: k,
        });
    }
    srs::downsize(&mut loaded, k);
    let header = vk_header(&graph, &plan.params, &loaded);
    let (rebuilt, _) = step(
        obs,
        "rebuilding the verifying key from the compiled model",
        || VerifierKey::rebuild(Arc::new(graph), header, hash, &loaded.params, &d.model()),
    );
    let rebuilt = rebuilt?;
    let (have, want) = (key.digest(), rebuilt.digest());
    if have != want {
        return Err(PipelineError::KeyMismatch(format!(
            "key digest mismatch: {} has key digest {have}, but the key rebuilt from {} with the \
             SRS {} has key digest {want}; the key was not made from this compiled model and SRS \
             (or was made by another zkinfer version), so the proof is not accepted",
            vk.display(),
            dir.display(),
            srs_path.display()
        )));
    }
    let differ = header_differences(key, &rebuilt);
    if !differ.is_empty() {
        return Err(PipelineError::KeyMismatch(format!(
            "{} has the key digest {have} of {}, but its header differs from the rebuilt key's in \
             {}; the proof is not accepted",
            vk.display(),
            dir.display(),
            differ.join(", ")
        )));
    }
    if key.model_hash != rebuilt.model_hash {
        return Err(PipelineError::KeyMismatch(format!(
            "{} has the key digest {have} of {}, but it names model {}, not {}",
            vk.display(),
            dir.display(),
            hash_hex(&key.model_hash),
            hash_hex(&rebuilt.model_hash)
        )));
    }
    Ok(())
}

/// A verified proof.
#[derive(Debug, Clone)]
pub struct VerifyOutcome {
    /// The proven output (absent when the key hides it).
    pub output: Option<TensorValues>,
    /// The verifying key's digest.
    pub key_digest: String,
    /// True when the key came from an insecure test SRS.
    pub insecure_srs: bool,
    /// Seconds the verification itself took (after any `--model` check).
    pub verify_s: f64,
}

/// Verifies the proof at `proof` against the key at `vk`, first checking with
/// [`check_model`] that the key is `model`'s when given.
pub fn verify(
    vk: &Path,
    proof: &Path,
    model: Option<&ModelSource>,
    obs: &dyn Observer,
) -> Result<(VerifyOutcome, ProofFile)> {
    let key = VerifierKey::read(vk)?;
    if let Some(m) = model {
        check_model(&key, vk, m, obs)?;
    }
    let file = ProofFile::read(proof)?;
    let outcome = verify_file(
        &key,
        &file,
        &vk.display().to_string(),
        &proof.display().to_string(),
    )?;
    Ok((outcome, file))
}

/// Verifies `file` against `key`; `vk` and `proof` name them in errors.
pub fn verify_file(
    key: &VerifierKey,
    file: &ProofFile,
    vk: &str,
    proof: &str,
) -> Result<VerifyOutcome> {
    let start = std::time::Instant::now();
    let verified = check_proof_file(key, file).map_err(|e| PipelineError::Rejected {
        proof: proof.to_string(),
        vk: vk.to_string(),
        evm: false,
        source: Box::new(e),
    })?;
    Ok(VerifyOutcome {
        output: verified.output,
        key_digest: key.digest().to_string(),
        insecure_srs: verified.insecure_srs,
        verify_s: start.elapsed().as_secs_f64(),
    })
}

/// Verifies the proof at `proof` with the Solidity verifier of the key at `vk`, deployed in
/// an embedded EVM (after [`check_model`] when `model` is given).
pub fn verify_evm(
    vk: &Path,
    proof: &Path,
    model: Option<&ModelSource>,
    obs: &dyn Observer,
) -> Result<(EvmVerified, VerifierKey, ProofFile)> {
    let key = VerifierKey::read(vk)?;
    if let Some(m) = model {
        check_model(&key, vk, m, obs)?;
    }
    let file = ProofFile::read(proof)?;
    let verified = verify_in_evm(&key, &file).map_err(|e| PipelineError::Rejected {
        proof: proof.display().to_string(),
        vk: vk.display().to_string(),
        evm: true,
        source: Box::new(e),
    })?;
    Ok((verified, key, file))
}

/// What verifying a proof held in memory found, offline or in the EVM.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifyReport {
    /// Always true: a proof that does not verify is an error.
    pub verified: bool,
    /// The proven output (absent when the key hides it).
    pub output: Option<TensorValues>,
    /// The verifying key's digest.
    pub key_digest: String,
    /// True when the key came from an insecure test SRS.
    pub insecure_srs: bool,
    /// Gas of the verifying transaction (EVM only).
    pub gas: Option<u64>,
    /// Seconds the check took.
    pub verify_s: f64,
}

/// Verifies `file` (called `proof` in errors) against the key at `vk`, offline or with the
/// Solidity verifier in the embedded EVM, first checking that the key is `model`'s when given.
pub fn verify_proof(
    vk: &Path,
    file: &ProofFile,
    proof: &str,
    model: Option<&ModelSource>,
    evm: bool,
    obs: &dyn Observer,
) -> Result<VerifyReport> {
    let key = VerifierKey::read(vk)?;
    if let Some(m) = model {
        check_model(&key, vk, m, obs)?;
    }
    let vk_label = vk.display().to_string();
    if !evm {
        let o = verify_file(&key, file, &vk_label, proof)?;
        return Ok(VerifyReport {
            verified: true,
            output: o.output,
            key_digest: o.key_digest,
            insecure_srs: o.insecure_srs,
            gas: None,
            verify_s: o.verify_s,
        });
    }
    let start = std::time::Instant::now();
    let v = verify_in_evm(&key, file).map_err(|e| PipelineError::Rejected {
        proof: proof.to_string(),
        vk: vk_label,
        evm: true,
        source: Box::new(e),
    })?;
    Ok(VerifyReport {
        verified: true,
        output: v.output,
        key_digest: key.digest().to_string(),
        insecure_srs: key.insecure_srs(),
        gas: Some(v.gas),
        verify_s: start.elapsed().as_secs_f64(),
    })
}
