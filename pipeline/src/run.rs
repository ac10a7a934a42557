//! Inference only: the model's output on an input, no proof.

use std::path::Path;

use zkinfer_ir::artifact::read_model;
use zkinfer_ir::proof_file::TensorValues;
use zkinfer_ir::semantics::Trace;
use zkinfer_ir::QGraph;
use zkinfer_prover::run_checked_on;
use zkinfer_runtime::{device_name, select_device, Device, DeviceChoice};

use crate::error::{PipelineError, Result};
use crate::input::{quantized, Input};
use crate::layout::ModelDir;

/// The output of one inference.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunOutput {
    /// The whole output (several graph outputs laid end to end).
    pub output: TensorValues,
    /// One entry per graph output, for a model with several (empty otherwise).
    pub parts: Vec<zkinfer_ir::proof_file::NamedValues>,
    /// The device it ran on.
    pub device: String,
}

/// Runs `input` through `graph` on `device`, checked against the reference semantics;
/// returns the trace and the device it ran on.
pub(crate) fn checked_trace(
    graph: &QGraph,
    input: &Input<'_>,
    device: DeviceChoice,
) -> Result<(Trace, Device)> {
    let x = quantized(graph, input)?;
    let device = select_device(device)?;
    let trace = run_checked_on(graph, &x, &device).map_err(|e| PipelineError::Run {
        input: input.origin(),
        source: Box::new(e),
    })?;
    Ok((trace, device))
}

/// The graph output's values in `trace` (the whole output, several graph outputs laid end
/// to end).
pub(crate) fn output_values(graph: &QGraph, trace: &Trace) -> TensorValues {
    let t = graph.output_tensor().unwrap_or(&graph.input);
    let ints = trace.get(graph.output).unwrap_or(&[]).to_vec();
    TensorValues::from_ints(t.shape.clone(), t.scale, ints)
}

/// Runs `input` through `graph` on `device`.
pub fn run_graph(graph: &QGraph, input: &Input<'_>, device: DeviceChoice) -> Result<RunOutput> {
    let (trace, device) = checked_trace(graph, input, device)?;
    let output = output_values(graph, &trace);
    let parts = output.named_parts(&graph.output_parts);
    Ok(RunOutput {
        output,
        parts,
        device: device_name(&device),
    })
}

/// Runs `input` through the model compiled in `dir`.
pub fn run(dir: &Path, input: &Input<'_>, device: DeviceChoice) -> Result<RunOutput> {
    let (graph, _) = read_model(&ModelDir::new(dir).model())?;
    run_graph(&graph, input, device)
}
