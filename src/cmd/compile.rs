//! `zkinfer compile`: ONNX → quantized graph → circuit plan.

use std::path::Path;

use anyhow::{Context, Result};
use zkinfer::compiler::QuantizeConfig;
use zkinfer::ir::artifact::hash_hex;
use zkinfer::pipeline::{chunked, compile, Input, Search, Source};
use zkinfer::progress::Terminal;

/// Compiles `model` into `out` and prints the per-node error and the circuit.
pub fn run(
    model: &Path,
    calibration: &Path,
    out: &Path,
    config: QuantizeConfig,
    search: &Search,
    chunking: Option<chunked::Chunking>,
) -> Result<()> {
    let obs = Terminal::default();
    let bytes = std::fs::read(model).with_context(|| format!("cannot read {}", model.display()))?;
    let label = model.display().to_string();
    let source = Source {
        bytes: &bytes,
        label: &label,
        base: model.parent(),
    };
    let sample = Input::File {
        path: calibration,
        row: 0,
    };
    let c = compile(source, &sample, config, search, &obs)?;
    // Check the split before anything is written: a refused split leaves no files.
    if let Some(how) = chunking {
        chunked::choose_chunks(&c.graph, how)?;
    }
    c.write(out, &obs)?;
    let stale = chunked::manifest_path(out);
    if chunking.is_none() && stale.exists() {
        std::fs::remove_file(&stale)
            .with_context(|| format!("cannot remove the stale {}", stale.display()))?;
        eprintln!(
            "note: removed {} (it split the previous compile; use --chunks to split again)",
            stale.display()
        );
    }
    let (q, acc, plan) = (&c.graph, &c.accuracy, &c.plan);
    outln!(
        "compiled {} ({} nodes, {} MACs)",
        model.display(),
        q.nodes.len(),
        q.macs()
    );
    outln!(
        "  {:<32} {:>8} {:>6} {:>6} {:>12}",
        "node",
        "op",
        "scale",
        "bits",
        "max |err|"
    );
    for n in &acc.nodes {
        outln!(
            "  {:<32} {:>8} {:>6} {:>6} {:>12.3e}",
            n.name,
            n.op,
            n.scale,
            n.bound_bits,
            n.max_abs_error
        );
    }
    outln!(
        "  output max |error| vs float model: {:.3e} over {} calibration row(s) (budget {:.1e})",
        acc.output_max_abs_error,
        acc.rows,
        c.max_error
    );
    for t in &q.tables {
        outln!(
            "  table {:<20} arguments [{}, {}] at scale 2^{} ({} rows)",
            t.name,
            t.lo,
            t.hi(),
            t.in_scale,
            t.values.len()
        );
    }
    let calibrated = q.calibrated_bounds();
    if !calibrated.is_empty() {
        outln!(
            "  calibrated bounds: {} node(s), {} range row(s) (bound headroom {} bit(s)); a value past one at prove time is an error",
            calibrated.len(),
            calibrated.iter().map(|c| c.numel).sum::<usize>(),
            config.bound_headroom_bits
        );
        for c in &calibrated {
            outln!(
                "    {:<40} |x| <= {:<12} (2^{} in place of 2^{}, {} rows)",
                c.node,
                c.bound as f64 / f64::from(c.scale).exp2(),
                64 - c.bound.leading_zeros(),
                64 - c.implied.leading_zeros(),
                c.numel
            );
        }
    }
    let out_numel = q.output_tensor().map_or(q.input.numel(), |t| t.numel());
    if out_numel > 1 {
        outln!(
            "  argmax agrees on {}/{} row(s)",
            acc.argmax_agree,
            acc.rows
        );
    }
    let p = &plan.params;
    outln!(
        "  circuit: k = {}, {} rows used, {} lanes x {} outputs per row, {} advice + {} fixed columns, {} lookups",
        p.k,
        plan.rows,
        p.lanes,
        p.outs.max(1),
        plan.advice_columns,
        plan.fixed_columns,
        plan.lookups
    );
    if q.no_input {
        outln!("  the model has no inputs: prove it with {{\"input_data\": []}}");
    } else {
        outln!(
            "  inputs must satisfy |x| <= {} (calibrated on {} row(s) with {} bit(s) of headroom); wider inputs are rejected at prove time",
            c.input_range(),
            c.calibration_rows,
            config.headroom_bits
        );
    }
    outln!("  model hash {}", hash_hex(&c.hash));
    if let Some(how) = chunking {
        let m = chunked::write_chunks(out, how, &Terminal::default())?;
        outln!(
            "split into {} chunks (DIR/chunk-i, linked by salted commitments to their boundaries):",
            m.manifest.chunks.len()
        );
        for (i, (c, (k, rows))) in m.manifest.chunks.iter().zip(&m.plans).enumerate() {
            outln!(
                "  chunk {i}: nodes {}..{}, k = {k} ({rows} rows), reads `{}` {:?}, gives `{}` {:?}",
                c.nodes[0],
                c.nodes[1],
                c.input.name,
                c.input.shape,
                c.output.name,
                c.output.shape
            );
        }
    }
    Ok(())
}
