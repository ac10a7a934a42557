//! `zkinfer prove`: run the model and prove the output.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use zkinfer::circuits::poseidon;
use zkinfer::ir::artifact::{hash_hex, read_model};
use zkinfer::ir::proof_file::TensorValues;
use zkinfer::layout::ModelDir;
use zkinfer::progress::step;
use zkinfer::prover::{keys, prove_with_salt, run_checked_on, srs};
use zkinfer::runtime::{select_device, DeviceChoice};

use super::{read_input, write};

/// Proves row `row` of `input` for the model in `dir`, running it on `device`; returns the
/// proving time in seconds.
pub fn run(
    dir: &Path,
    input: &Path,
    row: usize,
    out: &Path,
    device: DeviceChoice,
    salt: Option<&Path>,
) -> Result<f64> {
    let d = ModelDir::new(dir);
    let (graph, hash) = read_model(&d.model())?;
    let hashed = graph.salts_anything();
    if salt.is_some() && !hashed {
        anyhow::bail!(
            "--salt is for a hashed input or output; this model's input is {} and its output {}",
            graph.input_visibility_text(),
            graph.output_visibility
        );
    }
    // The salt: read, or drawn now and written beside the proof once it exists.
    let (salt_text, fresh) = match salt {
        Some(path) => (
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the salt {}", path.display()))?,
            false,
        ),
        None => {
            let mut bytes = [0u8; 31];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
            (format!("0x00{}", hex::encode(bytes)), hashed)
        }
    };
    let salt_value = poseidon::from_hex(&salt_text).with_context(|| {
        format!(
            "{}: a salt is one field element as 0x-prefixed 32-byte big-endian hex",
            salt.map_or_else(|| "the salt".into(), |p| p.display().to_string())
        )
    })?;
    let x = read_input(&graph, input, row)?;
    let device = select_device(device)?;
    let trace = run_checked_on(&graph, &x, &device)
        .with_context(|| format!("running the model on {}", input.display()))?;
    let (pk, params) = step("loading proving key", || {
        keys::read_pk(&d.pk(), &hash, &d.model())
    })
    .0?;
    let loaded = srs::read(&d.srs())?;
    if loaded.k() != params.k {
        anyhow::bail!(
            "{}: SRS has k = {}, the proving key needs k = {}; run `zkinfer setup` again",
            d.srs().display(),
            loaded.k(),
            params.k
        );
    }
    let private_output = {
        let t = graph.output_tensor().unwrap_or(&graph.input);
        let ints = trace.get(graph.output).unwrap_or(&[]).to_vec();
        TensorValues::from_ints(t.shape.clone(), t.scale, ints)
    };
    let graph = Arc::new(graph);
    let (proof, took) = step("proving", || {
        prove_with_salt(
            graph,
            &params,
            &pk,
            &loaded,
            trace,
            &hash_hex(&hash),
            salt_value,
        )
    });
    let proof = proof?;
    if fresh {
        let mut path = out.as_os_str().to_owned();
        path.push(".salt");
        let path = std::path::PathBuf::from(path);
        write(
            &path,
            format!("{}\n", poseidon::to_hex(&salt_value)).as_bytes(),
        )?;
        eprintln!(
            "the salt is secret: keep {} to open the commitment later",
            path.display()
        );
    }
    write(out, proof.to_json().as_bytes())?;
    if let Some(h) = &proof.input_hash {
        outln!("input hash: {h}");
    }
    if let Some(h) = &proof.output_hash {
        outln!("output hash: {h}");
    }
    if let Some(h) = &proof.param_hash {
        outln!("param hash: {h}");
    }
    match &proof.output {
        Some(t) if proof.outputs.is_empty() => outln!("output: {:?}", t.floats),
        Some(_) => {}
        // The prover sees a hidden output; the proof file does not hold it.
        None => outln!("output (not in the proof): {:?}", private_output.floats),
    }
    for part in &proof.outputs {
        outln!(
            "output `{}` {:?}: {:?}",
            part.name,
            part.values.shape,
            part.values.floats
        );
    }
    Ok(took.as_secs_f64())
}
