//! `zkinfer prove`: run the model and prove the output.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use zkinfer::ir::artifact::{hash_hex, read_model};
use zkinfer::layout::ModelDir;
use zkinfer::progress::step;
use zkinfer::prover::{keys, prove, run_checked_on, srs};
use zkinfer::runtime::{select_device, DeviceChoice};

use super::{read_input, write};

/// Proves row `row` of `input` for the model in `dir`, running it on `device`; returns the
/// proving time in seconds.
pub fn run(dir: &Path, input: &Path, row: usize, out: &Path, device: DeviceChoice) -> Result<f64> {
    let d = ModelDir::new(dir);
    let (graph, hash) = read_model(&d.model())?;
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
    let graph = Arc::new(graph);
    let (proof, took) = step("proving", || {
        prove(graph, &params, &pk, &loaded, trace, &hash_hex(&hash))
    });
    let proof = proof?;
    write(out, proof.to_json().as_bytes())?;
    if proof.outputs.is_empty() {
        outln!("output: {:?}", proof.output.floats);
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
