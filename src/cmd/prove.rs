//! `zkinfer prove`: run the model and prove the output.

use std::path::Path;

use anyhow::{Context, Result};
use zkinfer::pipeline::{prove, Input, Salt};
use zkinfer::progress::Terminal;
use zkinfer::runtime::DeviceChoice;

use super::write;

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
    let salt = match salt {
        Some(path) => Salt::Given {
            hex: std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the salt {}", path.display()))?,
            origin: path.display().to_string(),
        },
        None => Salt::Fresh,
    };
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
