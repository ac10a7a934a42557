//! `zkinfer plan`: print the circuit plan without proving.

use std::path::Path;

use anyhow::Result;
use zkinfer::circuits::plan;
use zkinfer::ir::artifact::read_model;
use zkinfer::layout::ModelDir;

/// Prints the plan of the model in `dir`.
pub fn run(dir: &Path) -> Result<()> {
    let (graph, _) = read_model(&ModelDir::new(dir).model())?;
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
