//! `zkinfer hash`: the commitment a proof will expose (an input's, or the weights').

use std::path::Path;

use anyhow::{Context, Result};
use zkinfer::ir::artifact::read_model;
use zkinfer::layout::ModelDir;
use zkinfer::pipeline::commit::{input_commitments, param_commitment};
use zkinfer::pipeline::Input;

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
    let salt = match salt {
        None => None,
        Some(path) => Some((
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the salt {}", path.display()))?,
            path.display().to_string(),
        )),
    };
    let salt = salt.as_ref().map(|(t, o)| (t.as_str(), o.as_str()));
    let commitments = input_commitments(&graph, &Input::File { path: input, row }, salt)?;
    for (name, hash) in commitments {
        match name {
            // One commitment per hashed graph input, as `name=hash` (what
            // --expect-input-hash takes).
            Some(name) => outln!("{name}={hash}"),
            None => outln!("{hash}"),
        }
    }
    Ok(())
}

/// Prints the commitment to the weights and constants of the model in `dir`.
pub fn params(dir: &Path) -> Result<()> {
    let d = ModelDir::new(dir);
    let (graph, _) = read_model(&d.model())?;
    if graph.param_visibility == zkinfer::ir::ParamVisibility::Committed {
        let model =
            zkinfer::pipeline::ProvingModel::load(dir, &zkinfer::progress::Terminal::default())
                .context(
                "committed parameters: the digest comes from the keys; run `zkinfer setup` first",
            )?;
        if let Some(digest) = model.param_digest() {
            outln!("{digest}");
        }
        return Ok(());
    }
    if graph.param_visibility != zkinfer::ir::ParamVisibility::Hashed {
        eprintln!(
            "note: this model's parameters are {}; its proofs expose no commitment to them (compile with --param-visibility hashed)",
            graph.param_visibility
        );
    }
    outln!("{}", param_commitment(&graph));
    Ok(())
}
