//! `zkinfer run`: inference only.

use std::path::Path;

use anyhow::Result;
use zkinfer::pipeline::{run as run_model, Input};
use zkinfer::runtime::DeviceChoice;

/// Runs row `row` of `input` through the model in `dir` on `device` and prints the output
/// as JSON (the device's name goes to stderr).
pub fn run(dir: &Path, input: &Path, row: usize, device: DeviceChoice) -> Result<()> {
    let out = run_model(dir, &Input::File { path: input, row }, device)?;
    eprintln!("running on {}", out.device);
    if out.parts.is_empty() {
        outln!("{}", serde_json::to_string_pretty(&out.output)?);
    } else {
        // One entry per graph output, in graph order.
        outln!("{}", serde_json::to_string_pretty(&out.parts)?);
    }
    Ok(())
}
