//! `zkinfer plan`: print the circuit plan without proving.

use std::path::Path;

use anyhow::Result;
use zkinfer::circuits::plan;
use zkinfer::ir::artifact::read_model;
use zkinfer::layout::ModelDir;

/// Prints the plan of the model in `dir`; for a chunked model, each chunk's too.
pub fn run(dir: &Path) -> Result<()> {
    let (graph, _) = read_model(&ModelDir::new(dir).model())?;
    if let Some(m) = zkinfer::pipeline::chunked::read_manifest(dir)? {
        let whole = plan(&graph).ok();
        if let Some(w) = &whole {
            outln!(
                "as one circuit: k = {}, {} rows, predicted {:.2} s and {} peak memory",
                w.params.k,
                w.rows,
                w.predicted_prove_s(),
                super::human_bytes(w.predicted_prove_bytes())
            );
        }
        outln!(
            "in {} chunks (chunks.json), each its own circuit:",
            m.chunks.len()
        );
        let mut total_s = 0.0;
        let mut peak = 0;
        for (i, c) in m.chunks.iter().enumerate() {
            let (g, _) = read_model(&ModelDir::new(&dir.join(&c.dir)).model())?;
            let p = plan(&g)?;
            total_s += p.predicted_prove_s();
            peak = peak.max(p.predicted_prove_bytes());
            outln!(
                "  chunk {i} ({}): k = {}, {} rows, predicted {:.2} s, {} peak memory; boundary in `{}` {:?}, out `{}` {:?}",
                c.dir,
                p.params.k,
                p.rows,
                p.predicted_prove_s(),
                super::human_bytes(p.predicted_prove_bytes()),
                c.input.name,
                c.input.shape,
                c.output.name,
                c.output.shape
            );
        }
        outln!(
            "predicted: {total_s:.2} s one chunk at a time ({} peak); with N machines about the largest chunk's time per round of N",
            super::human_bytes(peak)
        );
        return Ok(());
    }
    let plan = plan(&graph)?;
    let p = &plan.params;
    outln!(
        "k = {} ({} rows, {} used by the model, {} by the range table, {} by the function tables)",
        p.k,
        1u64 << p.k,
        plan.rows,
        plan.table_rows,
        plan.fn_table_rows
    );
    outln!(
        "dot products: {} lanes x {} outputs per row; range limbs: {} x {} bits",
        p.lanes,
        p.outs.max(1),
        p.limbs,
        p.limb_bits
    );
    outln!(
        "columns: {} advice, {} fixed; {} lookups; {} public values",
        plan.advice_columns,
        plan.fixed_columns,
        plan.lookups,
        plan.instances
    );
    outln!(
        "visibility: input {}, output {}, parameters {} (their rows are the parenthesised blocks below)",
        graph.input_visibility_text(),
        graph.output_visibility,
        graph.param_visibility
    );
    outln!("rows per node:");
    for (name, rows) in &plan.node_rows {
        outln!("  {name:<40} {rows:>8}");
    }
    let on_linear = plan::input_rows(&graph)
        .rows
        .min(plan::side_capacity(&graph, p.dot_shape()));
    if on_linear > 0 {
        outln!(
            "  {on_linear} input bound check(s) sit on Linear/Conv rows (their range columns are idle there)"
        );
    }
    let calibrated = graph.calibrated_bounds();
    if !calibrated.is_empty() {
        outln!(
            "calibrated bounds ({} range rows, inside the rows above):",
            calibrated.iter().map(|c| c.numel).sum::<usize>()
        );
        for c in &calibrated {
            outln!(
                "  {:<40} {:>8}  |q| <= {} (2^{} in place of 2^{})",
                c.node,
                c.numel,
                c.bound,
                64 - c.bound.leading_zeros(),
                64 - c.implied.leading_zeros()
            );
        }
    }
    outln!(
        "estimated proving key: {}",
        super::human_bytes(plan.estimated_pk_bytes())
    );
    outln!(
        "predicted prove: {:.2} s, {} peak memory (model fitted on a 2-core AMD EPYC; see BENCHMARKS.md)",
        plan.predicted_prove_s(),
        super::human_bytes(plan.predicted_prove_bytes())
    );
    Ok(())
}
