//! One module per CLI verb.

pub mod bench;
pub mod calldata;
pub mod compile;
pub mod demo;
pub mod export;
pub mod hash;
pub mod plan;
pub mod prove;
pub mod run;
pub mod setup;
pub mod verify;

use std::path::Path;

use anyhow::{Context, Result};
use zkinfer::ir::artifact;
use zkinfer::ir::input::{group_samples, quantize_values, read_input_rows};
use zkinfer::ir::QGraph;

/// Reads row `row` of an EZKL input file and quantizes it for `graph`.
pub fn read_input(graph: &QGraph, path: &Path, row: usize) -> Result<Vec<i64>> {
    let rows = group_samples(read_input_rows(path)?, &graph.inputs(), path)?;
    let count = rows.len();
    let values = rows.into_iter().nth(row).with_context(|| {
        format!(
            "{}: sample {row} requested but the file has {count} sample(s)",
            path.display()
        )
    })?;
    let n = graph.input.numel();
    if values.len() != n {
        anyhow::bail!(
            "{}: sample {row} has {} values, the model input `{}` needs {n}",
            path.display(),
            values.len(),
            graph.input_name
        );
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        anyhow::bail!(
            "{}: row {row} value {i} is not a finite number",
            path.display()
        );
    }
    Ok(quantize_values(&values, graph.input.scale))
}

/// Writes a file atomically and says so.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    artifact::write_atomic(path, bytes)?;
    eprintln!(
        "wrote {} ({})",
        path.display(),
        human_bytes(bytes.len() as u64)
    );
    Ok(())
}

/// `1.2 MiB`-style size.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
