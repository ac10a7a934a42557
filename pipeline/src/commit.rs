//! The commitments a proof will expose: an input's (for a hashed input) and the weights'.

use zkinfer_circuits::poseidon;
use zkinfer_ir::{QGraph, Visibility};

use crate::error::{PipelineError, Result};
use crate::input::{quantized, Input};

/// The commitment(s) to `input` with `salt` (0 without one; the hex text, and what to call
/// it in errors): one for a model whose inputs share a visibility, or one `(name, hash)` per
/// hashed graph input.
pub fn input_commitments(
    graph: &QGraph,
    input: &Input<'_>,
    salt: Option<(&str, &str)>,
) -> Result<Vec<(Option<String>, String)>> {
    let x = quantized(graph, input)?;
    if let Some(i) = x
        .iter()
        .position(|v| !zkinfer_ir::input_range::admits(graph.input.bound, *v))
    {
        return Err(PipelineError::BadInput {
            origin: input.origin(),
            reason: format!(
                "value {i} of the sample is outside the model's input range, so no proof can commit to it"
            ),
        });
    }
    let salt = match salt {
        None => Default::default(),
        Some((text, origin)) => {
            poseidon::from_hex(text).ok_or_else(|| PipelineError::BadInput {
                origin: origin.into(),
                reason: "a salt is one field element as 0x-prefixed 32-byte big-endian hex".into(),
            })?
        }
    };
    if graph.input_part_visibility.is_empty() {
        let h = poseidon::commit(&x, graph.input.bound, salt);
        return Ok(vec![(None, poseidon::to_hex(&h))]);
    }
    Ok(graph
        .input_segments()
        .into_iter()
        .filter(|s| s.visibility == Visibility::Hashed)
        .map(|s| {
            let values = x.get(s.start..s.start + s.len()).unwrap_or(&[]);
            let h = poseidon::commit(values, graph.input.bound, salt);
            (Some(s.name.clone()), poseidon::to_hex(&h))
        })
        .collect())
}

/// The commitment to the weights and constants of `graph`.
pub fn param_commitment(graph: &QGraph) -> String {
    poseidon::to_hex(&poseidon::commit_params(graph))
}
