//! `zkinfer compile`: ONNX → quantized graph → circuit plan.

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::json;
use zkinfer::circuits::plan::{plan, Plan};
use zkinfer::layout::ModelDir;
use zkinfer::models::artifact::{encode_model, hash_hex, sha256};
use zkinfer::models::input::read_input_rows;
use zkinfer::models::quantize::{accuracy, AccuracyReport};
use zkinfer::models::{onnx, quantize, QuantizeConfig, Quantized};

use super::write;

/// What `compile` may vary to meet the error budget.
#[derive(Debug, Clone)]
pub struct Search {
    /// Largest acceptable output error against the float model on the calibration rows.
    pub max_error: f64,
    /// Table argument scales to try (only matters for models with lookup tables).
    pub table_scales: Vec<u32>,
}

/// One compiled candidate.
struct Candidate {
    config: QuantizeConfig,
    q: Quantized,
    acc: AccuracyReport,
    plan: Plan,
}

/// Compiles `model` into `out`.
pub fn run(
    model: &Path,
    calibration: &Path,
    out: &Path,
    config: QuantizeConfig,
    search: &Search,
) -> Result<()> {
    if !(search.max_error > 0.0 && search.max_error.is_finite()) {
        anyhow::bail!(
            "--max-error must be a positive number, got {}",
            search.max_error
        );
    }
    let bytes = std::fs::read(model).with_context(|| format!("cannot read {}", model.display()))?;
    let graph = onnx::import_bytes(&bytes).with_context(|| format!("{}", model.display()))?;
    let rows = read_input_rows(calibration)?;
    let source = hash_hex(&sha256(&bytes));
    let compile_one = |config: QuantizeConfig| -> Result<Candidate> {
        let q = quantize(&graph, &rows, config, &source).with_context(|| {
            format!(
                "quantizing {} with calibration {}",
                model.display(),
                calibration.display()
            )
        })?;
        let acc = accuracy(&graph, &q, &rows)
            .context("evaluating the compiled model on the calibration data")?;
        let plan = plan(&q.graph)?;
        Ok(Candidate {
            config,
            q,
            acc,
            plan,
        })
    };
    let first = compile_one(config)?;
    let mut tried = Vec::new();
    let chosen = if first.q.graph.tables.is_empty() || search.table_scales.len() <= 1 {
        first
    } else {
        let bar = indicatif::ProgressBar::new(search.table_scales.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} [{elapsed}]")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message("trying table scales against the error budget");
        let mut all = Vec::new();
        for &t in &search.table_scales {
            bar.inc(1);
            match compile_one(QuantizeConfig {
                table_scale: t,
                ..config
            }) {
                Ok(c) => all.push(c),
                // A scale whose tables would be too large is simply not a candidate.
                Err(e) => tried.push(json!({ "table_scale": t, "error": format!("{e:#}") })),
            }
        }
        bar.finish_and_clear();
        for c in &all {
            tried.push(json!({
                "table_scale": c.config.table_scale,
                "k": c.plan.params.k,
                "cost": c.plan.cost,
                "table_rows": c.q.graph.tables.iter().map(|t| t.values.len()).sum::<usize>(),
                "output_max_abs_error": c.acc.output_max_abs_error,
            }));
        }
        let meets = |c: &Candidate| c.acc.output_max_abs_error <= search.max_error;
        let best = all
            .iter()
            .enumerate()
            .filter(|(_, c)| meets(c))
            .min_by(|(_, a), (_, b)| {
                a.plan.cost.cmp(&b.plan.cost).then(
                    a.acc
                        .output_max_abs_error
                        .total_cmp(&b.acc.output_max_abs_error),
                )
            })
            .map(|(i, _)| i);
        let pick = match best {
            Some(i) => i,
            None => {
                let i = all
                    .iter()
                    .enumerate()
                    .min_by(|(_, a), (_, b)| {
                        a.acc
                            .output_max_abs_error
                            .total_cmp(&b.acc.output_max_abs_error)
                    })
                    .map(|(i, _)| i)
                    .context("no table scale produced a circuit")?;
                eprintln!(
                    "warning: no table scale meets --max-error {:.1e}; using the most accurate ({:.3e}); raise --max-error or --scale",
                    search.max_error,
                    all.get(i).map_or(0.0, |c| c.acc.output_max_abs_error)
                );
                i
            }
        };
        all.swap_remove(pick)
    };
    let Candidate {
        config,
        q,
        acc,
        plan,
    } = chosen;
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
        "max_error": search.max_error,
        "search": tried,
        "tables": q.graph.tables.iter().map(|t| json!({"name": t.name, "in_scale": t.in_scale, "out_scale": t.out_scale, "lo": t.lo, "hi": t.hi(), "rows": t.values.len()})).collect::<Vec<_>>(),
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
        "  output max |error| vs float model: {:.3e} over {} calibration row(s) (budget {:.1e})",
        acc.output_max_abs_error, acc.rows, search.max_error
    );
    for t in &q.graph.tables {
        println!(
            "  table {:<20} arguments [{}, {}] at scale 2^{} ({} rows)",
            t.name,
            t.lo,
            t.hi(),
            t.in_scale,
            t.values.len()
        );
    }
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
