//! `zkinfer run`: inference only.

use std::path::Path;

use anyhow::{Context, Result};
use zkinfer::ir::artifact::read_model;
use zkinfer::ir::proof_file::TensorValues;
use zkinfer::layout::ModelDir;
use zkinfer::prover::run_checked_on;
use zkinfer::runtime::{device_name, select_device, DeviceChoice};

use super::read_input;

/// Runs row `row` of `input` through the model in `dir` on `device` and prints the output
/// as JSON (the device's name goes to stderr).
pub fn run(dir: &Path, input: &Path, row: usize, device: DeviceChoice) -> Result<()> {
    let (graph, _) = read_model(&ModelDir::new(dir).model())?;
    let x = read_input(&graph, input, row)?;
    let device = select_device(device)?;
    eprintln!("running on {}", device_name(&device));
    let trace = run_checked_on(&graph, &x, &device)
        .with_context(|| format!("running the model on {}", input.display()))?;
    let out_t = graph
        .output_tensor()
        .cloned()
        .unwrap_or_else(|| graph.input.clone());
    let ints = trace.get(graph.output).unwrap_or(&[]).to_vec();
    let values = TensorValues::from_ints(out_t.shape, out_t.scale, ints);
    let parts = values.named_parts(&graph.output_parts);
    if parts.is_empty() {
        outln!("{}", serde_json::to_string_pretty(&values)?);
    } else {
        // One entry per graph output, in graph order.
        outln!("{}", serde_json::to_string_pretty(&parts)?);
    }
    Ok(())
}
