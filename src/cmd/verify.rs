//! `zkinfer verify`: check a proof offline, or in the embedded EVM, and optionally that the
//! verifying key is the one a compiled model gives.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use zkinfer::circuits::plan;
use zkinfer::ir::artifact::{hash_hex, read_model, sha256};
use zkinfer::ir::proof_file::{ProofFile, TensorValues};
use zkinfer::layout::ModelDir;
use zkinfer::progress::step;
use zkinfer::prover::keys::vk_header;
use zkinfer::prover::srs;
use zkinfer::verifier::evm::exec::verify_in_evm;
use zkinfer::verifier::{verify, VerifierKey};

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

/// Checks that the proof at `proof` exposes the commitment `want` for `which`.
pub fn check_hash(proof: &Path, which: Committed, want: &str) -> Result<()> {
    let p = ProofFile::read(proof)?;
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
        bail!(
            "{}: --expect-{name}-hash was given but the proof has no {name}_hash (its model's {name} is not hashed)",
            proof.display()
        );
    };
    let norm = |s: &str| s.trim().trim_start_matches("0x").to_ascii_lowercase();
    if norm(got) != norm(want) {
        bail!(
            "{}: the proof's {name} hash is {got}, not the expected {want}",
            proof.display()
        );
    }
    Ok(())
}

fn warn_insecure(insecure: bool) {
    if insecure {
        eprintln!("WARNING: this key was made with an INSECURE test SRS; the proof only shows the setup was honest if you ran it yourself");
    }
}

/// The compiled model's directory named by `--model`; an ONNX file is refused with the reason.
fn model_dir(model: &Path) -> Result<PathBuf> {
    if model.is_dir() {
        return Ok(model.to_path_buf());
    }
    if !model.exists() {
        bail!("--model {}: no such file or directory", model.display());
    }
    if model.extension().is_some_and(|e| e == "zkm") {
        return Ok(model
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".")));
    }
    bail!(
        "--model {}: pass the directory written by `zkinfer compile` (model.zkm and srs.bin), not \
         a source model: the compiled model depends on the calibration data, which the compiled \
         artifacts do not record, so an ONNX file cannot be recompiled to the same key; pass \
         --model DIR --onnx {} to also check that the compiled model was made from that file",
        model.display(),
        model.display()
    )
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
pub fn check_model(key: &VerifierKey, vk: &Path, source: &ModelSource) -> Result<()> {
    let dir = model_dir(&source.model)?;
    let d = ModelDir::new(&dir);
    let (graph, hash) = read_model(&d.model())?;
    if let Some(onnx) = &source.onnx {
        let bytes =
            std::fs::read(onnx).with_context(|| format!("cannot read {}", onnx.display()))?;
        let found = hash_hex(&sha256(&bytes));
        if found != graph.source_sha256 {
            bail!(
                "{} has SHA-256 {found}, but {} was compiled from a file with SHA-256 {}",
                onnx.display(),
                d.model().display(),
                graph.source_sha256
            );
        }
        eprintln!(
            "source: {} matches the SHA-256 recorded in {}",
            onnx.display(),
            d.model().display()
        );
    }
    let plan = plan(&graph)?;
    let k = plan.params.k;
    let srs_path = source.srs.clone().unwrap_or_else(|| d.srs());
    let (loaded, _) = step("reading the SRS", || srs::read(&srs_path));
    let mut loaded = loaded.with_context(|| {
        format!(
            "--model needs the SRS the key was set up with ({}, or --srs FILE)",
            d.srs().display()
        )
    })?;
    if loaded.k() < k {
        bail!(
            "{}: the SRS has k = {}, the circuit needs k = {k}",
            srs_path.display(),
            loaded.k()
        );
    }
    srs::downsize(&mut loaded, k);
    let header = vk_header(&graph, &plan.params, &loaded);
    let (rebuilt, _) = step(
        "rebuilding the verifying key from the compiled model",
        || VerifierKey::rebuild(Arc::new(graph), header, hash, &loaded.params, &d.model()),
    );
    let rebuilt = rebuilt?;
    let (have, want) = (key.digest(), rebuilt.digest());
    if have != want {
        bail!(
            "key digest mismatch: {} has key digest {have}, but the key rebuilt from {} with the \
             SRS {} has key digest {want}; the key was not made from this compiled model and SRS \
             (or was made by another zkinfer version), so the proof is not accepted",
            vk.display(),
            dir.display(),
            srs_path.display()
        );
    }
    let differ = header_differences(key, &rebuilt);
    if !differ.is_empty() {
        bail!(
            "{} has the key digest {have} of {}, but its header differs from the rebuilt key's in \
             {}; the proof is not accepted",
            vk.display(),
            dir.display(),
            differ.join(", ")
        );
    }
    if key.model_hash != rebuilt.model_hash {
        bail!(
            "{} has the key digest {have} of {}, but it names model {}, not {}",
            vk.display(),
            dir.display(),
            hash_hex(&key.model_hash),
            hash_hex(&rebuilt.model_hash)
        );
    }
    Ok(())
}

fn print_digest(key: &VerifierKey, model: Option<&ModelSource>) -> Result<()> {
    match model {
        Some(m) => outln!(
            "key digest: {} (the key rebuilt from {} has the same)",
            key.digest(),
            m.model.display()
        ),
        None => outln!("key digest: {}", key.digest()),
    }
    Ok(())
}

/// Verifies `proof` against `vk`; prints "verified" and the output on success.
pub fn run(vk: &Path, proof: &Path) -> Result<f64> {
    run_checked(vk, proof, None)
}

/// [`run`], first checking with [`check_model`] that `vk` is the key of `model`.
pub fn run_checked(vk: &Path, proof: &Path, model: Option<&ModelSource>) -> Result<f64> {
    let mut start = std::time::Instant::now();
    let key = VerifierKey::read(vk)?;
    if let Some(m) = model {
        check_model(&key, vk, m)?;
        start = std::time::Instant::now();
    }
    let file = ProofFile::read(proof)?;
    let verified = verify(&key, &file).with_context(|| {
        format!(
            "{} does not verify against {}",
            proof.display(),
            vk.display()
        )
    })?;
    let took = start.elapsed().as_secs_f64();
    outln!("verified");
    print_output(verified.output.as_ref(), &file)?;
    print_digest(&key, model)?;
    warn_insecure(verified.insecure_srs);
    Ok(took)
}

/// Deploys the Solidity verifier for `vk` in an embedded EVM and sends it the proof's calldata.
pub fn run_evm(vk: &Path, proof: &Path) -> Result<()> {
    run_evm_checked(vk, proof, None)
}

/// [`run_evm`], first checking with [`check_model`] that `vk` is the key of `model`.
pub fn run_evm_checked(vk: &Path, proof: &Path, model: Option<&ModelSource>) -> Result<()> {
    let key = VerifierKey::read(vk)?;
    if let Some(m) = model {
        check_model(&key, vk, m)?;
    }
    let file = ProofFile::read(proof)?;
    let verified = verify_in_evm(&key, &file).with_context(|| {
        format!(
            "{} does not verify in the EVM against {}",
            proof.display(),
            vk.display()
        )
    })?;
    outln!("verified (EVM)");
    print_output(verified.output.as_ref(), &file)?;
    outln!(
        "gas: {} (verifying transaction, {} bytes of calldata)",
        verified.gas,
        verified.calldata_len
    );
    outln!(
        "deployed: verifier {} bytes, key contract {} bytes, {} gas",
        verified.runtime_size,
        verified.key_size,
        verified.deploy_gas
    );
    print_digest(&key, model)?;
    warn_insecure(key.insecure_srs());
    Ok(())
}

/// Prints the verified output: one line, or one per graph output (the verifier checked that
/// the named parts are the output's values).
fn print_output(output: Option<&TensorValues>, file: &ProofFile) -> Result<()> {
    match (output, &file.output_hash) {
        (Some(t), _) if file.outputs.is_empty() => outln!("output: {:?}", t.floats),
        (Some(_), _) => {}
        (None, Some(h)) => outln!("output hash: {h} (the output itself stays private)"),
        (None, None) => outln!("output: private (the proof shows only that the model ran)"),
    }
    if let Some(h) = &file.input_hash {
        outln!("input hash: {h}");
    }
    if let Some(h) = &file.param_hash {
        outln!("param hash: {h}");
    }
    for part in &file.outputs {
        outln!(
            "output `{}` {:?}: {:?}",
            part.name,
            part.values.shape,
            part.values.floats
        );
    }
    Ok(())
}
