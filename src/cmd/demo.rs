//! `zkinfer demo`: the whole flow on a bundled example model (`models/` in the repository).

use std::path::Path;

use anyhow::{anyhow, Context, Result};
use zkinfer::compiler::QuantizeConfig;
use zkinfer::example;
use zkinfer::runtime::DeviceChoice;

/// Writes bundled model `name` and its input into `out`, then compiles, sets up, proves and
/// verifies (offline and in the embedded EVM), and exports the Solidity verifier.
pub fn run(out: &Path, name: &str) -> Result<()> {
    let bundled = example::bundled(name).ok_or_else(|| {
        let names: Vec<&str> = example::MODELS.iter().map(|m| m.name).collect();
        anyhow!(
            "no bundled model `{name}`: the bundled models are {}",
            names.join(", ")
        )
    })?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    eprintln!("bundled model `{}`: {}", bundled.name, bundled.about);
    let file = if bundled.name == "mlp" {
        "example.onnx".to_string()
    } else {
        format!("{}.onnx", bundled.name)
    };
    let model = out.join(file);
    let input = out.join("input.json");
    super::write(&model, bundled.model)?;
    super::write(&input, bundled.input.as_bytes())?;
    let build = out.join("build");
    let proof = out.join("proof.json");
    let show = |cmd: String| eprintln!("\n$ {cmd}");
    show(format!(
        "zkinfer compile {} --calibration {} --out {}",
        model.display(),
        input.display(),
        build.display()
    ));
    let search = zkinfer::pipeline::Search::default();
    super::compile::run(
        &model,
        &input,
        &build,
        QuantizeConfig::default(),
        &search,
        None,
    )?;
    show(format!(
        "zkinfer setup {} --insecure-test-srs",
        build.display()
    ));
    super::setup::run(&build, true, None)?;
    show(format!(
        "zkinfer prove {} --input {} --out {}",
        build.display(),
        input.display(),
        proof.display()
    ));
    super::prove::run(&build, &input, 0, &proof, DeviceChoice::Auto, None)?;
    show(format!(
        "zkinfer verify {} {}",
        build.join("vk.bin").display(),
        proof.display()
    ));
    super::verify::run(&build.join("vk.bin"), &proof)?;
    show(format!(
        "zkinfer verify --evm {} {}",
        build.join("vk.bin").display(),
        proof.display()
    ));
    super::verify::run_evm(&build.join("vk.bin"), &proof)?;
    let sol = out.join("Verifier.sol");
    show(format!(
        "zkinfer export-verifier {} --out {}",
        build.display(),
        sol.display()
    ));
    super::export::run(&build, &sol, None)?;
    Ok(())
}
