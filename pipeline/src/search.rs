//! The table search of `compile`: which scale and interpolation step each lookup table gets,
//! the cheapest circuit that meets the error budget.

use zkinfer_circuits::plan::Plan;
use zkinfer_compiler::quantize::AccuracyReport;
use zkinfer_compiler::{Interpolation, Quantized, TableScales};

use crate::error::Result;
use crate::observer::Observer;

/// One compiled candidate.
pub(crate) struct Candidate {
    pub(crate) scales: TableScales,
    pub(crate) interpolation: Interpolation,
    pub(crate) q: Quantized,
    pub(crate) acc: AccuracyReport,
    pub(crate) plan: Plan,
}

/// Default error budget, relative to the largest |output| on the calibration rows.
pub const DEFAULT_RELATIVE_ERROR: f64 = 1.5e-4;

/// Lowest and highest table scales the search tries.
const TABLE_SCALES: std::ops::RangeInclusive<u32> = 6..=13;

/// Finest table scale tried when [`TABLE_SCALES`] cannot meet the budget (a function of
/// values far below one, such as a layer norm's `rsqrt` of a small variance, needs more
/// argument bits), for tables that stay under [`FINER_ROWS`] rows there.
const FINER_SCALE: u32 = 20;

/// Most rows a table may reach at a scale beyond [`TABLE_SCALES`].
const FINER_ROWS: usize = 1 << 18;

/// The finest scale up to [`FINER_SCALE`] at which a table of `rows` rows at `scale` stays
/// under [`FINER_ROWS`] rows (at least the end of [`TABLE_SCALES`]).
fn finer_scale(rows: usize, scale: u32) -> u32 {
    let mut t = *TABLE_SCALES.end();
    while t < FINER_SCALE && (rows.max(1) << (t + 1).saturating_sub(scale).min(40)) <= FINER_ROWS {
        t += 1;
    }
    t
}

/// One compiled candidate of the table search, as report.json's `search` lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Tried {
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
/// budget holds, then refine any table whose refinement does not raise the cost. With
/// `table_scale` (the user's one scale for every lookup) there is no search.
pub(crate) fn search_table_scales(
    compile_one: &dyn Fn(&TableScales) -> Result<Candidate>,
    table_scale: Option<u32>,
    probe_scale: u32,
    max_error: f64,
    obs: &dyn Observer,
) -> Result<(Candidate, Vec<Tried>)> {
    let mut tried = Vec::new();
    let record = |c: &Candidate, tried: &mut Vec<Tried>| tried.push(Tried::of(c));
    let probe = compile_one(&TableScales::new())?;
    if probe.q.graph.tables.is_empty() {
        return Ok((probe, tried));
    }
    if let Some(t) = table_scale {
        let fixed: TableScales = probe.q.lookups().into_iter().map(|(n, _)| (n, t)).collect();
        let c = compile_one(&fixed)?;
        record(&c, &mut tried);
        return Ok((c, tried));
    }
    const LABEL: &str = "choosing table scales for the error budget";
    obs.begin(LABEL);
    let start = std::time::Instant::now();
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
        let finer: TableScales = probe
            .q
            .lookups()
            .into_iter()
            .map(|(n, rows)| (n, finer_scale(rows, probe_scale)))
            .collect();
        if finer != fine {
            if let Ok(c) = compile_one(&finer) {
                record(&c, &mut tried);
                if c.acc.output_max_abs_error < best.acc.output_max_abs_error {
                    best = c;
                }
            }
        }
    }
    if !meets(&best) {
        // The caller raises the activation scale, or says the budget is missed.
        obs.end(LABEL, start.elapsed());
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
    obs.end(LABEL, start.elapsed());
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
pub(crate) fn search_interpolation(
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
