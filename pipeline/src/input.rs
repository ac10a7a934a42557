//! Input samples: from an EZKL-style file, JSON text or values in memory, checked against the
//! model and quantized.

use std::path::Path;

use zkinfer_ir::input::{group_samples, parse_input_rows, quantize_values};
use zkinfer_ir::QGraph;

use crate::error::{PipelineError, Result};

/// Where an input sample comes from.
#[derive(Debug, Clone)]
pub enum Input<'a> {
    /// Sample `row` of an input file in EZKL's format.
    File {
        /// The file.
        path: &'a Path,
        /// Which sample.
        row: usize,
    },
    /// Sample `row` of EZKL-format JSON text; `origin` names it in errors.
    Json {
        /// The JSON text.
        text: &'a str,
        /// Which sample.
        row: usize,
        /// What to call it in errors ("the request body").
        origin: &'a str,
    },
    /// One sample as lists of floats, one per graph input (in graph order).
    Values(&'a [Vec<f64>]),
    /// One sample already quantized at the model's input scale (a chunk's boundary values);
    /// `origin` names it in errors.
    Quantized {
        /// The integers, the whole input laid end to end.
        values: &'a [i64],
        /// What to call it in errors.
        origin: &'a str,
    },
}

impl Input<'_> {
    /// How errors name this input.
    pub fn origin(&self) -> String {
        match self {
            Input::File { path, .. } => path.display().to_string(),
            Input::Json { origin, .. } => (*origin).to_string(),
            Input::Values(_) => "the input values".to_string(),
            Input::Quantized { origin, .. } => (*origin).to_string(),
        }
    }

    fn row(&self) -> usize {
        match self {
            Input::File { row, .. } | Input::Json { row, .. } => *row,
            Input::Values(_) | Input::Quantized { .. } => 0,
        }
    }

    /// The lists it holds, as an input file's `input_data` would.
    pub(crate) fn lists(&self) -> Result<Vec<Vec<f64>>> {
        Ok(match self {
            Input::File { path, .. } => {
                let text =
                    std::fs::read_to_string(path).map_err(|e| PipelineError::read(*path, e))?;
                parse_input_rows(&text, path)?
            }
            Input::Json { text, origin, .. } => parse_input_rows(text, Path::new(origin))?,
            Input::Values(v) => v.to_vec(),
            Input::Quantized { origin, .. } => {
                return Err(PipelineError::BadInput {
                    origin: (*origin).to_string(),
                    reason: "quantized values are not float lists".into(),
                })
            }
        })
    }
}

/// The float sample `input` holds for `graph`, checked for length and finiteness.
pub fn sample(graph: &QGraph, input: &Input<'_>) -> Result<Vec<f64>> {
    let origin = input.origin();
    let row = input.row();
    let rows = group_samples(input.lists()?, &graph.inputs(), Path::new(&origin))?;
    let count = rows.len();
    let values = rows
        .into_iter()
        .nth(row)
        .ok_or_else(|| PipelineError::BadInput {
            origin: origin.clone(),
            reason: format!("sample {row} requested but the file has {count} sample(s)"),
        })?;
    let n = graph.input.numel();
    if values.len() != n {
        return Err(PipelineError::BadInput {
            origin,
            reason: format!(
                "sample {row} has {} values, the model input `{}` needs {n}",
                values.len(),
                graph.input_name
            ),
        });
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(PipelineError::BadInput {
            origin,
            reason: format!("row {row} value {i} is not a finite number"),
        });
    }
    let parts = graph.inputs();
    if let Some((part, i, v, kind)) =
        zkinfer_ir::interface::first_misfit(&values, &parts, &graph.input_kinds())
    {
        let what = match kind {
            zkinfer_ir::NumberKind::Boolean => "0 or 1",
            _ => "an integer",
        };
        return Err(PipelineError::BadInput {
            origin,
            reason: format!(
                "sample {row}: input `{}`[{i}] is {v}, but `{}` is a {kind} input: each value must be {what}",
                part.name, part.name
            ),
        });
    }
    Ok(values)
}

/// The quantized sample `input` holds for `graph`.
pub fn quantized(graph: &QGraph, input: &Input<'_>) -> Result<Vec<i64>> {
    if let Input::Quantized { values, origin } = input {
        let n = graph.input.numel();
        if values.len() != n {
            return Err(PipelineError::BadInput {
                origin: (*origin).to_string(),
                reason: format!(
                    "{} values, the model input `{}` needs {n}",
                    values.len(),
                    graph.input_name
                ),
            });
        }
        return Ok(values.to_vec());
    }
    Ok(quantize_values(&sample(graph, input)?, graph.input.scale))
}
