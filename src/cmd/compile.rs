//! `zkinfer compile`: ONNX → quantized graph → circuit plan.

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::json;
use zkinfer::circuits::plan::{plan, Plan};
use zkinfer::compiler::quantize::{accuracy, AccuracyReport};
use zkinfer::compiler::{
    onnx, quantize_tuned, Interpolation, QuantizeConfig, Quantized, TableScales,
};
use zkinfer::ir::artifact::{encode_model, hash_hex, sha256};
use zkinfer::ir::input::{group_samples, read_input_rows};
use zkinfer::layout::ModelDir;

use super::write;

/// What `compile` may vary to meet the error budget.
#[derive(Debug, Clone)]
pub struct Search {
    /// Largest acceptable output error against the float model on the calibration rows
    /// (`None`: [`DEFAULT_RELATIVE_ERROR`] times the largest |output|, at least that much).
    pub max_error: Option<f64>,
    /// One table scale for every lookup, instead of searching.
    pub table_scale: Option<u32>,
    /// At most this many dot-product lanes per row (`None`: the fastest layout).
    pub max_lanes: Option<usize>,
    /// What proofs reveal of the input.
    pub input_visibility: InputVisibility,
    /// What proofs reveal of the output.
    pub output_visibility: zkinfer::ir::Visibility,
    /// Where the weights live.
    pub param_visibility: zkinfer::ir::ParamVisibility,
}

/// `--input-visibility`: one mode for every graph input, or `name=mode,...` (inputs not
/// named stay public).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputVisibility {
    /// The same mode for every input.
    All(zkinfer::ir::Visibility),
    /// A mode per named input.
    Named(Vec<(String, zkinfer::ir::Visibility)>),
}

impl Default for InputVisibility {
    fn default() -> Self {
        InputVisibility::All(Default::default())
    }
}

impl std::str::FromStr for InputVisibility {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if !s.contains('=') {
            return s.parse().map(InputVisibility::All);
        }
        s.split(',')
            .map(|item| {
                let (name, mode) = item.split_once('=').ok_or_else(|| {
                    format!("`{item}`: write name=mode (public, private or hashed) for each input")
                })?;
                Ok((name.trim().to_string(), mode.trim().parse()?))
            })
            .collect::<Result<Vec<_>, String>>()
            .map(InputVisibility::Named)
    }
}

/// Sets the graph's input visibility from the flag, naming any input the model lacks.
pub fn apply_input_visibility(
    graph: &mut zkinfer::ir::QGraph,
    arg: &InputVisibility,
) -> Result<()> {
    let list = match arg {
        InputVisibility::All(v) => {
            graph.input_visibility = *v;
            return Ok(());
        }
        InputVisibility::Named(list) => list,
    };
    let inputs = graph.inputs();
    let names: Vec<&str> = inputs.iter().map(|p| p.name.as_str()).collect();
    for (name, _) in list {
        if !names.contains(&name.as_str()) {
            anyhow::bail!(
                "--input-visibility names `{name}`, which is not a graph input (the inputs are: {})",
                names.join(", ")
            );
        }
    }
    let modes: Vec<zkinfer::ir::Visibility> = names
        .iter()
        .map(|n| {
            list.iter()
                .rev()
                .find(|(name, _)| name == n)
                .map(|(_, v)| *v)
                .unwrap_or_default()
        })
        .collect();
    match modes.first() {
        Some(first) if modes.iter().all(|m| m == first) => graph.input_visibility = *first,
        _ => graph.input_part_visibility = modes,
    }
    Ok(())
}

/// One compiled candidate.
struct Candidate {
    scales: TableScales,
    interpolation: Interpolation,
    q: Quantized,
    acc: AccuracyReport,
    plan: Plan,
}

/// Default error budget, relative to the largest |output| on the calibration rows.
pub const DEFAULT_RELATIVE_ERROR: f64 = 1.5e-4;

/// Lowest and highest table scales the search tries.
const TABLE_SCALES: std::ops::RangeInclusive<u32> = 6..=13;

/// One compiled candidate of the table search, as report.json's `search` lists it.
#[derive(Debug, Clone, serde::Serialize)]
struct Tried {
    /// Table scale per lookup.
    table_scales: TableScales,
    /// Interpolation step bits per lookup (absent from the report for plain tables).
    #[serde(skip_serializing_if = "Interpolation::is_empty")]
    interpolation_bits: Interpolation,
    /// The plan's k.
    k: u32,
    /// The plan's cost.
    cost: u64,
    /// Rows of every function table together.
    table_rows: usize,
    /// Largest output error on the calibration rows.
    output_max_abs_error: f64,
}

impl Tried {
    fn of(c: &Candidate) -> Self {
        Tried {
            table_scales: c.scales.clone(),
            interpolation_bits: c.interpolation.clone(),
            k: c.plan.params.k,
            cost: c.plan.cost,
            table_rows: c.q.graph.tables.iter().map(|t| t.values.len()).sum(),
            output_max_abs_error: c.acc.output_max_abs_error,
        }
    }
}

/// Picks per-lookup table scales: the cheapest circuit whose output error on the calibration
/// rows meets the budget, then the most accurate among equally cheap ones. Greedy: start
/// every table at the finest scale, coarsen the largest tables one bit at a time while the
/// budget holds, then refine any table whose refinement does not raise the cost.
fn search_table_scales(
    compile_one: &dyn Fn(&TableScales) -> Result<Candidate>,
    search: &Search,
    max_error: f64,
) -> Result<(Candidate, Vec<Tried>)> {
    let mut tried = Vec::new();
    let record = |c: &Candidate, tried: &mut Vec<Tried>| tried.push(Tried::of(c));
    let probe = compile_one(&TableScales::new())?;
    if probe.q.graph.tables.is_empty() {
        return Ok((probe, tried));
    }
    if let Some(t) = search.table_scale {
        let fixed: TableScales = probe.q.lookups().into_iter().map(|(n, _)| (n, t)).collect();
        let c = compile_one(&fixed)?;
        record(&c, &mut tried);
        return Ok((c, tried));
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.set_message("choosing table scales for the error budget");
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let fine: TableScales = probe
        .q
        .lookups()
        .into_iter()
        .map(|(n, _)| (n, *TABLE_SCALES.end()))
        .collect();
    let mut best = compile_one(&fine)?;
    record(&best, &mut tried);
    let meets = |c: &Candidate| c.acc.output_max_abs_error <= max_error;
    if !meets(&best) {
        bar.finish_and_clear();
        eprintln!(
            "warning: even the finest tables give an output error of {:.3e}, over --max-error {:.1e}; using them (raise --scale for more accuracy, or --max-error)",
            best.acc.output_max_abs_error, max_error
        );
        return Ok((best, tried));
    }
    // Coarsen: largest table first, one bit at a time, while the budget holds.
    loop {
        let mut order = best.q.lookups();
        order.sort_by_key(|l| std::cmp::Reverse(l.1));
        let mut changed = false;
        for (name, _) in order {
            let Some(&t) = best.scales.get(&name) else {
                continue;
            };
            if t <= *TABLE_SCALES.start() {
                continue;
            }
            let mut scales = best.scales.clone();
            scales.insert(name, t - 1);
            if let Ok(c) = compile_one(&scales) {
                record(&c, &mut tried);
                if meets(&c) && c.plan.cost <= best.plan.cost {
                    best = c;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    // Refine where it is free: every finer scale of each table (the error is not monotonic in
    // one table's scale, so a step that does not help may still lead to one that does).
    for (name, _) in best.q.lookups() {
        let Some(&from) = best.scales.get(&name) else {
            continue;
        };
        for t in from + 1..=*TABLE_SCALES.end() {
            let mut scales = best.scales.clone();
            scales.insert(name.clone(), t);
            let Ok(c) = compile_one(&scales) else { break };
            record(&c, &mut tried);
            if c.plan.cost > best.plan.cost {
                break;
            }
            if c.acc.output_max_abs_error < best.acc.output_max_abs_error {
                best = c;
            }
        }
    }
    bar.finish_and_clear();
    Ok((best, tried))
}

/// Tables at or below this many rows are left plain.
const PLAIN_TABLE_ROWS: usize = 512;
/// How many of the most accurate plain scale choices are also tried interpolated together.
const ACCURATE_CHOICES_INTERPOLATED: usize = 3;
/// Rows an interpolated table aims at (the step is the largest that stays at or above it).
const INTERPOLATED_ROWS: usize = 256;

/// The step bits that leave a table of `rows` rows (at `from` fraction bits, grown to `to`) at
/// or above [`INTERPOLATED_ROWS`], capped below the scale itself.
fn top_bits(rows: usize, from: u32, to: u32) -> u32 {
    let est = rows << to.saturating_sub(from);
    (usize::BITS - (est / INTERPOLATED_ROWS).leading_zeros()).min(to)
}

/// Interpolates every large table at once, one step size for all (capped per table), at the
/// finest scale, at the scales chosen so far and at the most accurate plain choices `tried`
/// holds: when several tables set k together (a recurrent model's steps), replacing one at a
/// time never lowers k, so the per-table search below would keep them all. Returns the
/// cheapest candidate that is no less accurate than `best`, or `best`.
fn interpolate_together(
    compile: &dyn Fn(&TableScales, &Interpolation) -> Result<Candidate>,
    best: Candidate,
    order: &[(String, usize)],
    tried: &mut Vec<Tried>,
) -> Candidate {
    let fine = *TABLE_SCALES.end();
    let large: Vec<(&String, usize, u32)> = order
        .iter()
        .filter(|(_, rows)| *rows > PLAIN_TABLE_ROWS)
        .map(|(name, rows)| {
            let current = best.scales.get(name).copied().unwrap_or(fine);
            (name, *rows, current)
        })
        .collect();
    if large.len() < 2 {
        return best;
    }
    let start = (best.plan.cost, best.acc.output_max_abs_error);
    // Scale choices to interpolate at: the finest (every table of one function can then be
    // one shared table), the ones chosen so far (each keeps its precision), and the plain
    // choices the scale search found most accurate, since an interpolated table is about as
    // accurate as its plain one and then costs far less.
    let mut at_fine = best.scales.clone();
    for (name, _, _) in &large {
        at_fine.insert((*name).clone(), fine);
    }
    let mut targets: Vec<TableScales> = vec![at_fine, best.scales.clone()];
    let mut accurate: Vec<&Tried> = tried
        .iter()
        .filter(|t| t.interpolation_bits.is_empty() && t.output_max_abs_error <= start.1)
        .collect();
    accurate.sort_by(|a, b| a.output_max_abs_error.total_cmp(&b.output_max_abs_error));
    let accurate: Vec<TableScales> = accurate
        .into_iter()
        .map(|t| t.table_scales.clone())
        .collect();
    for scales in accurate {
        if targets.len() >= 2 + ACCURATE_CHOICES_INTERPOLATED {
            break;
        }
        let mut wanted = best.scales.clone();
        wanted.extend(scales);
        if !targets.contains(&wanted) {
            targets.push(wanted);
        }
    }
    let mut chosen = best;
    for target in targets {
        let tops: Vec<u32> = large
            .iter()
            .map(|(name, rows, current)| {
                let to = target.get(*name).copied().unwrap_or(*current);
                top_bits(*rows, *current, to)
            })
            .collect();
        let most = tops.iter().copied().max().unwrap_or(0);
        for bits in (1..most).rev() {
            let mut interp = Interpolation::new();
            for ((name, _, _), top) in large.iter().zip(&tops) {
                interp.insert((*name).clone(), bits.min(top.saturating_sub(1)).max(1));
            }
            let Ok(c) = compile(&target, &interp) else {
                continue;
            };
            tried.push(Tried::of(&c));
            let error = c.acc.output_max_abs_error;
            if error <= start.1
                && (c.plan.cost, error) < (chosen.plan.cost, chosen.acc.output_max_abs_error)
                && c.plan.cost < start.0
            {
                chosen = c;
            }
        }
    }
    chosen
}

/// Tries, largest table first, to replace each lookup's table by an interpolated one (a table
/// every `2^bits` arguments, at the chosen scale or the finest), keeping a change only when the
/// circuit gets cheaper and the output error is no larger than before (so within `--max-error`
/// whenever the plain choice was).
fn search_interpolation(
    compile: &dyn Fn(&TableScales, &Interpolation) -> Result<Candidate>,
    mut best: Candidate,
    tried: &mut Vec<Tried>,
) -> Candidate {
    let mut order = best.q.lookups();
    order.sort_by_key(|l| std::cmp::Reverse(l.1));
    best = interpolate_together(compile, best, &order, tried);
    let mut order = best.q.lookups();
    order.sort_by_key(|l| std::cmp::Reverse(l.1));
    for (name, rows) in order {
        if rows <= PLAIN_TABLE_ROWS || best.interpolation.contains_key(&name) {
            continue;
        }
        let current = best
            .scales
            .get(&name)
            .copied()
            .unwrap_or(*TABLE_SCALES.end());
        let mut scales_to_try = vec![current];
        if current < *TABLE_SCALES.end() {
            scales_to_try.push(*TABLE_SCALES.end());
        }
        'scales: for scale in scales_to_try {
            for bits in (1..top_bits(rows, current, scale)).rev() {
                let mut scales = best.scales.clone();
                scales.insert(name.clone(), scale);
                let mut interp = best.interpolation.clone();
                interp.insert(name.clone(), bits);
                let Ok(c) = compile(&scales, &interp) else {
                    continue;
                };
                tried.push(Tried::of(&c));
                // Cheaper, and no less accurate than the plain table it replaces (so within
                // --max-error whenever that was; a model already over it gets no worse).
                let error = c.acc.output_max_abs_error;
                if error <= best.acc.output_max_abs_error && c.plan.cost < best.plan.cost {
                    best = c;
                    break 'scales;
                }
            }
        }
    }
    best
}

/// Compiles `model` into `out`.
pub fn run(
    model: &Path,
    calibration: &Path,
    out: &Path,
    config: QuantizeConfig,
    search: &Search,
) -> Result<()> {
    if let Some(e) = search.max_error.filter(|e| !(*e > 0.0 && e.is_finite())) {
        anyhow::bail!("--max-error must be a positive number, got {e}");
    }
    let bytes = std::fs::read(model).with_context(|| format!("cannot read {}", model.display()))?;
    let graph = onnx::import_bytes(&bytes).with_context(|| format!("{}", model.display()))?;
    let rows = group_samples(read_input_rows(calibration)?, &graph.inputs(), calibration)?;
    let source = hash_hex(&sha256(&bytes));
    let compile_tuned = |scales: &TableScales, interp: &Interpolation| -> Result<Candidate> {
        let mut q =
            quantize_tuned(&graph, &rows, config, scales, interp, &source).with_context(|| {
                format!(
                    "quantizing {} with calibration {}",
                    model.display(),
                    calibration.display()
                )
            })?;
        q.graph.max_lanes = search.max_lanes;
        apply_input_visibility(&mut q.graph, &search.input_visibility)?;
        q.graph.output_visibility = search.output_visibility;
        q.graph.param_visibility = search.param_visibility;
        q.graph.validate()?;
        let acc = accuracy(&graph, &q, &rows)
            .context("evaluating the compiled model on the calibration data")?;
        let plan = plan(&q.graph)?;
        Ok(Candidate {
            scales: scales.clone(),
            interpolation: interp.clone(),
            q,
            acc,
            plan,
        })
    };
    let max_error = search.max_error.unwrap_or_else(|| {
        let peak = rows
            .iter()
            .filter_map(|r| graph.eval_f64(r).get(graph.output).cloned())
            .flatten()
            .fold(1.0f64, |m, v| m.max(v.abs()));
        DEFAULT_RELATIVE_ERROR * peak
    });
    let compile_one = |scales: &TableScales| compile_tuned(scales, &Interpolation::new());
    let (chosen, mut tried) = search_table_scales(&compile_one, search, max_error)?;
    let chosen = search_interpolation(&compile_tuned, chosen, &mut tried);
    let Candidate {
        scales: _,
        interpolation,
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
        "max_error": max_error,
        "search": tried,
        "tables": q.graph.tables.iter().map(|t| json!({"name": t.name, "in_scale": t.in_scale, "out_scale": t.out_scale, "lo": t.lo, "hi": t.hi(), "rows": t.values.len()})).collect::<Vec<_>>(),
        "calibration_rows": rows.len(),
        "input": { "name": q.graph.input_name, "shape": q.graph.input.shape, "scale": q.graph.input.scale, "bound": q.graph.input.bound },
        "output": { "name": q.graph.output_name, "shape": out_t.shape, "scale": out_t.scale, "bound": out_t.bound },
        "macs": q.graph.macs(),
        "accuracy": acc,
        "plan": plan,
        // Lookups tabulated every 2^bits arguments and interpolated in between.
        "interpolation_bits": interpolation,
        "predicted_prove_s": plan.predicted_prove_s(),
        "visibility": {
            "input": q.graph.input_visibility_text(),
            "output": q.graph.output_visibility,
            "params": q.graph.param_visibility,
            // What the modes cost: the rows after the nodes, block by block.
            "rows": zkinfer::circuits::plan::tail_rows(&q.graph)
                .into_iter()
                .map(|(name, r)| (name.to_string(), json!(r.rows)))
                .collect::<serde_json::Map<_, _>>(),
        },
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

    outln!(
        "compiled {} ({} nodes, {} MACs)",
        model.display(),
        q.graph.nodes.len(),
        q.graph.macs()
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
        max_error
    );
    for t in &q.graph.tables {
        outln!(
            "  table {:<20} arguments [{}, {}] at scale 2^{} ({} rows)",
            t.name,
            t.lo,
            t.hi(),
            t.in_scale,
            t.values.len()
        );
    }
    if out_t.numel() > 1 {
        outln!(
            "  argmax agrees on {}/{} row(s)",
            acc.argmax_agree,
            acc.rows
        );
    }
    let p = &plan.params;
    outln!(
        "  circuit: k = {}, {} rows used, {} lanes, {} advice + {} fixed columns, {} lookups",
        p.k,
        plan.rows,
        p.lanes,
        plan.advice_columns,
        plan.fixed_columns,
        plan.lookups
    );
    let range = q.graph.input.bound as f64 / f64::from(q.graph.input.scale).exp2();
    if q.graph.no_input {
        outln!("  the model has no inputs: prove it with {{\"input_data\": []}}");
    } else {
        outln!(
            "  inputs must satisfy |x| <= {range} (calibrated on {} row(s) with {} bit(s) of headroom); wider inputs are rejected at prove time",
            rows.len(),
            config.headroom_bits
        );
    }
    outln!("  model hash {}", hash_hex(&hash));
    Ok(())
}
