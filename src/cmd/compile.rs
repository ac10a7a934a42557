//! `zkinfer compile`: ONNX → quantized graph → circuit plan.

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::json;
use zkinfer::circuits::plan;
use zkinfer::layout::ModelDir;
use zkinfer::models::artifact::{encode_model, hash_hex, sha256};
use zkinfer::models::input::read_input_rows;
use zkinfer::models::quantize::accuracy;
use zkinfer::models::{onnx, quantize, QuantizeConfig};

use super::write;

/// Compiles `model` into `out`.
pub fn run(model: &Path, calibration: &Path, out: &Path, config: QuantizeConfig) -> Result<()> {
    let bytes = std::fs::read(model).with_context(|| format!("cannot read {}", model.display()))?;
    let graph = onnx::import_bytes(&bytes).with_context(|| format!("{}", model.display()))?;
    let rows = read_input_rows(calibration)?;
    let q = quantize(&graph, &rows, config, &hash_hex(&sha256(&bytes))).with_context(|| {
        format!(
            "quantizing {} with calibration {}",
            model.display(),
            calibration.display()
        )
    })?;
    let acc = accuracy(&graph, &q, &rows)
        .context("evaluating the compiled model on the calibration data")?;
    let plan = plan(&q.graph)?;
    let (zkm, hash) = encode_model(&q.graph);
    let out_t = q
        .graph
        .output_tensor()
        .cloned()
        .unwrap_or_else(|| q.graph.input.clone());
    let report = json!({
        "model": model.display().to_string(),
        "model_hash": hash_hex(&hash),
        "source_sha256": q.graph.source_sha256,
        "weights_sha256": q.graph.weights_sha256,
        "quantization": config,
        "calibration_rows": rows.len(),
        "input": { "name": q.graph.input_name, "shape": q.graph.input.shape, "scale": q.graph.input.scale, "bound": q.graph.input.bound },
        "output": { "name": q.graph.output_name, "shape": out_t.shape, "scale": out_t.scale, "bound": out_t.bound },
        "macs": q.graph.macs(),
        "accuracy": acc,
        "plan": plan,
    });
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let dir = ModelDir::new(out);
    for stale in [dir.pk(), dir.vk()] {
        if stale.exists() {
            eprintln!(
                "note: {} belongs to the previous compile; run `zkinfer setup` again",
                stale.display()
            );
        }
    }
    write(&dir.model(), &zkm)?;
    write(
        &dir.report(),
        serde_json::to_string_pretty(&report)?.as_bytes(),
    )?;

    println!(
        "compiled {} ({} nodes, {} MACs)",
        model.display(),
        q.graph.nodes.len(),
        q.graph.macs()
    );
    println!(
        "  {:<32} {:>8} {:>6} {:>6} {:>12}",
        "node", "op", "scale", "bits", "max |err|"
    );
    for n in &acc.nodes {
        println!(
            "  {:<32} {:>8} {:>6} {:>6} {:>12.3e}",
            n.name, n.op, n.scale, n.bound_bits, n.max_abs_error
        );
    }
    println!(
        "  output max |error| vs float model: {:.3e} over {} calibration row(s)",
        acc.output_max_abs_error, acc.rows
    );
    if out_t.numel() > 1 {
        println!(
            "  argmax agrees on {}/{} row(s)",
            acc.argmax_agree, acc.rows
        );
    }
    let p = &plan.params;
    println!(
        "  circuit: k = {}, {} rows used, {} lanes, {} advice + {} fixed columns, {} lookups",
        p.k, plan.rows, p.lanes, plan.advice_columns, plan.fixed_columns, plan.lookups
    );
    let range = q.graph.input.bound as f64 / f64::from(q.graph.input.scale).exp2();
    println!(
        "  inputs must satisfy |x| <= {range} (calibrated on {} row(s) with {} bit(s) of headroom); wider inputs are rejected at prove time",
        rows.len(),
        config.headroom_bits
    );
    println!("  model hash {}", hash_hex(&hash));
    Ok(())
}
