//! `zkinfer prove`: run the model and prove the output.

use std::path::Path;

use anyhow::{Context, Result};
use zkinfer::pipeline::{chunked, prove, Input, Salt};
use zkinfer::progress::Terminal;
use zkinfer::runtime::DeviceChoice;

use super::write;

/// The salt in the file at `path`, or a fresh one.
fn salt_from(path: Option<&Path>) -> Result<Salt> {
    Ok(match path {
        Some(path) => Salt::Given {
            hex: std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the salt {}", path.display()))?,
            origin: path.display().to_string(),
        },
        None => Salt::Fresh,
    })
}

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
    let salt = salt_from(salt)?;
    let input = Input::File { path: input, row };
    let proved = prove(dir, &input, &salt, device, &Terminal::default())?;
    let proof = &proved.proof;
    // The salt, drawn now, is written beside the proof before it.
    if let Some(fresh) = &proved.fresh_salt {
        let mut path = out.as_os_str().to_owned();
        path.push(".salt");
        let path = std::path::PathBuf::from(path);
        write(&path, format!("{fresh}\n").as_bytes())?;
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
        None => outln!("output (not in the proof): {:?}", proved.output.floats),
    }
    for part in &proof.outputs {
        outln!(
            "output `{}` {:?}: {:?}",
            part.name,
            part.values.shape,
            part.values.floats
        );
    }
    Ok(proved.prove_s)
}

/// Proves row `row` of `input` for the model in `dir`, chunk by chunk (`jobs` at a time) when
/// it is chunked.
pub fn run_any(
    dir: &Path,
    input: &Path,
    row: usize,
    out: &Path,
    device: DeviceChoice,
    salt: Option<&Path>,
    jobs: usize,
) -> Result<()> {
    if chunked::read_manifest(dir)?.is_none() {
        return run(dir, input, row, out, device, salt).map(|_| ());
    }
    let salt = salt_from(salt)?;
    let input = Input::File { path: input, row };
    run_chunked(dir, &input, out, device, &salt, jobs).map(|_| ())
}

/// Proves a chunked model: every chunk, `jobs` at a time, one bundle.
fn run_chunked(
    dir: &Path,
    input: &Input<'_>,
    out: &Path,
    device: DeviceChoice,
    salt: &Salt,
    jobs: usize,
) -> Result<f64> {
    // Each chunk proof is kept in OUT.parts/ as it is made: a crashed or interrupted run,
    // started again with the same model and input, proves only the missing chunks.
    let mut parts = out.as_os_str().to_owned();
    parts.push(".parts");
    let parts = std::path::PathBuf::from(parts);
    let proved = chunked::prove_chunks_with(
        dir,
        input,
        salt,
        device,
        jobs,
        Some(&parts),
        &Terminal::default(),
    )?;
    let first = proved.bundle.chunks.first();
    let last = proved.bundle.chunks.last();
    let user_hashes = first.is_some_and(|p| p.input_hash.is_some() || !p.input_parts.is_empty())
        || last.is_some_and(|p| p.output_hash.is_some());
    if let (Some(fresh), true) = (&proved.fresh_salt, user_hashes) {
        let mut path = out.as_os_str().to_owned();
        path.push(".salt");
        let path = std::path::PathBuf::from(path);
        write(&path, format!("{fresh}\n").as_bytes())?;
        eprintln!(
            "the salt is secret: keep {} to open the commitment later",
            path.display()
        );
    }
    write(
        out,
        serde_json::to_string_pretty(&proved.bundle)?.as_bytes(),
    )?;
    std::fs::remove_dir_all(&parts)
        .with_context(|| format!("cannot remove {}", parts.display()))?;
    for (i, s) in proved.prove_s.iter().enumerate() {
        if *s > 0.0 {
            outln!("chunk {i}: proved in {s:.2} s");
        } else {
            outln!("chunk {i}: kept from the interrupted run");
        }
    }
    match last.and_then(|p| p.output.as_ref()) {
        Some(t) => outln!("output: {:?}", t.floats),
        None => outln!("output (not in the proof): {:?}", proved.output.floats),
    }
    Ok(proved.prove_s.iter().sum())
}
