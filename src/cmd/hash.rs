//! `zkinfer hash`: the commitment a proof will expose (an input's, or the weights').

use std::path::Path;

use anyhow::{Context, Result};
use zkinfer::circuits::poseidon;
use zkinfer::ir::artifact::read_model;
use zkinfer::ir::Visibility;
use zkinfer::layout::ModelDir;

use super::read_input;

/// Prints the commitment to sample `row` of `input` for the model in `dir`, with the salt in
/// `salt` (0 without one).
pub fn run(dir: &Path, input: &Path, row: usize, salt: Option<&Path>) -> Result<()> {
    let d = ModelDir::new(dir);
    let (graph, _) = read_model(&d.model())?;
    if !graph.hashes_input() {
        eprintln!(
            "note: this model's input is {}; its proofs expose no commitment (compile with --input-visibility hashed)",
            graph.input_visibility_text()
        );
    }
    let x = read_input(&graph, input, row)?;
    if let Some(i) = x.iter().position(|v| v.unsigned_abs() > graph.input.bound) {
        anyhow::bail!(
            "{}: value {i} of sample {row} is outside the model's input range, so no proof can commit to it",
            input.display()
        );
    }
    let salt = match salt {
        // No salt: the chain starts from 0.
        None => Default::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the salt {}", path.display()))?;
            poseidon::from_hex(&text).with_context(|| {
                format!(
                    "{}: a salt is one field element as 0x-prefixed 32-byte big-endian hex",
                    path.display()
                )
            })?
        }
    };
    if graph.input_part_visibility.is_empty() {
        outln!(
            "{}",
            poseidon::to_hex(&poseidon::commit(&x, graph.input.bound, salt))
        );
        return Ok(());
    }
    // One commitment per hashed graph input, as `name=hash` (what --expect-input-hash takes).
    for s in graph.input_segments() {
        if s.visibility == Visibility::Hashed {
            let values = x.get(s.start..s.start + s.len()).unwrap_or(&[]);
            let h = poseidon::commit(values, graph.input.bound, salt);
            outln!("{}={}", s.name, poseidon::to_hex(&h));
        }
    }
    Ok(())
}

/// Prints the commitment to the weights and constants of the model in `dir`.
pub fn params(dir: &Path) -> Result<()> {
    let d = ModelDir::new(dir);
    let (graph, _) = read_model(&d.model())?;
    if graph.param_visibility != zkinfer::ir::ParamVisibility::Hashed {
        eprintln!(
            "note: this model's parameters are {}; its proofs expose no commitment to them (compile with --param-visibility hashed)",
            graph.param_visibility
        );
    }
    outln!("{}", poseidon::to_hex(&poseidon::commit_params(&graph)));
    Ok(())
}
