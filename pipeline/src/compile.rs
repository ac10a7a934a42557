//! Compiling: ONNX → quantized graph → circuit plan, with the table search and the report.

use std::path::Path;

use serde_json::json;
use zkinfer_circuits::plan::{plan, Plan};
use zkinfer_compiler::quantize::{accuracy, AccuracyReport};
use zkinfer_compiler::{onnx, quantize_tuned, Interpolation, QuantizeConfig, TableScales};
use zkinfer_ir::artifact::{encode_model, hash_hex, ModelHash};
use zkinfer_ir::input::group_samples;
use zkinfer_ir::QGraph;

use crate::error::{PipelineError, Result};
use crate::input::Input;
use crate::layout::ModelDir;
use crate::observer::Observer;
use crate::search::{search_interpolation, search_table_scales, Candidate, DEFAULT_RELATIVE_ERROR};
use crate::write::write;

/// What `compile` may vary to meet the error budget.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// Largest acceptable output error against the float model on the calibration rows
    /// (`None`: [`DEFAULT_RELATIVE_ERROR`] times the largest |output|, at least that much).
    pub max_error: Option<f64>,
    /// One table scale for every lookup, instead of searching.
    pub table_scale: Option<u32>,
    /// Keep the activation scale of the config; otherwise, when no table choice meets the
    /// budget at it, the scale is raised one bit at a time (up to [`MAX_SEARCHED_SCALE`]).
    pub fixed_scale: bool,
    /// At most this many dot-product lanes per row (`None`: the fastest layout).
    pub max_lanes: Option<usize>,
    /// What proofs reveal of the input.
    pub input_visibility: InputVisibility,
    /// What proofs reveal of the output.
    pub output_visibility: zkinfer_ir::Visibility,
    /// Where the weights live.
    pub param_visibility: zkinfer_ir::ParamVisibility,
}

/// `--input-visibility`: one mode for every graph input, or `name=mode,...` (inputs not
/// named stay public).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputVisibility {
    /// The same mode for every input.
    All(zkinfer_ir::Visibility),
    /// A mode per named input.
    Named(Vec<(String, zkinfer_ir::Visibility)>),
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
pub fn apply_input_visibility(graph: &mut zkinfer_ir::QGraph, arg: &InputVisibility) -> Result<()> {
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
            return Err(PipelineError::option(
                "--input-visibility",
                format!(
                    "names `{name}`, which is not a graph input (the inputs are: {})",
                    names.join(", ")
                ),
            ));
        }
    }
    let modes: Vec<zkinfer_ir::Visibility> = names
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

/// A compiled model, ready to be written to a directory.
#[derive(Debug)]
pub struct Compiled {
    /// The quantized graph.
    pub graph: QGraph,
    /// Its encoded bytes (`model.zkm`).
    pub zkm: Vec<u8>,
    /// Its hash (the model hash every artifact names).
    pub hash: ModelHash,
    /// `report.json`.
    pub report: serde_json::Value,
    /// Accuracy against the float model on the calibration rows.
    pub accuracy: AccuracyReport,
    /// The circuit plan.
    pub plan: Plan,
    /// The error budget the search worked to.
    pub max_error: f64,
    /// How many calibration samples there were.
    pub calibration_rows: usize,
    /// The quantization settings.
    pub config: QuantizeConfig,
}

/// The ONNX model to compile.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The ONNX bytes.
    pub bytes: &'a [u8],
    /// What to call it in errors and in the report (its path).
    pub label: &'a str,
    /// The model file's directory, where tensors with external data find their files
    /// (`None` for bytes with no file behind them).
    pub base: Option<&'a std::path::Path>,
}

/// Highest activation scale the search raises `--scale` to when the budget is missed.
pub const MAX_SEARCHED_SCALE: u32 = 18;

/// Compiles `source` with the calibration samples `calibration` (lists as an input file's
/// `input_data` holds them).
pub fn compile(
    source: Source<'_>,
    calibration: &Input<'_>,
    config: QuantizeConfig,
    search: &Search,
    obs: &dyn Observer,
) -> Result<Compiled> {
    if let Some(e) = search.max_error.filter(|e| !(*e > 0.0 && e.is_finite())) {
        return Err(PipelineError::option(
            "--max-error",
            format!("must be a positive number, got {e}"),
        ));
    }
    let imported =
        onnx::import_source(source.bytes, source.base).map_err(|e| PipelineError::Import {
            model: source.label.to_string(),
            source: Box::new(e),
        })?;
    let graph = imported.graph;
    let calibration_label = calibration.origin();
    let rows = group_samples(
        calibration.lists()?,
        &graph.inputs(),
        std::path::Path::new(&calibration_label),
    )?;
    let source_hash = hash_hex(&imported.source_sha256);
    let compile_at = |config: QuantizeConfig,
                      scales: &TableScales,
                      interp: &Interpolation|
     -> Result<Candidate> {
        let mut q =
            quantize_tuned(&graph, &rows, config, scales, interp, &source_hash).map_err(|e| {
                PipelineError::Quantize {
                    model: source.label.to_string(),
                    calibration: calibration_label.clone(),
                    source: Box::new(e),
                }
            })?;
        q.graph.max_lanes = search.max_lanes;
        apply_input_visibility(&mut q.graph, &search.input_visibility)?;
        q.graph.output_visibility = search.output_visibility;
        q.graph.param_visibility = search.param_visibility;
        q.graph.validate()?;
        let acc = accuracy(&graph, &q, &rows).map_err(|e| PipelineError::Accuracy(Box::new(e)))?;
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
    // The table search at the configured scale; while it misses the budget (and the user
    // did not fix --scale), again one activation bit finer.
    let mut config = config;
    let mut tried = Vec::new();
    let mut found: Option<(Candidate, QuantizeConfig)> = None;
    loop {
        let compile_one = |scales: &TableScales| compile_at(config, scales, &Interpolation::new());
        let attempt = search_table_scales(
            &compile_one,
            search.table_scale,
            config.table_scale,
            max_error,
            obs,
        );
        let (c, more) = match (attempt, &found) {
            (Ok(r), _) => r,
            // A finer scale that no longer compiles (a bound past the limit): keep the last.
            (Err(_), Some(_)) => break,
            (Err(e), None) => return Err(e),
        };
        tried.extend(more);
        let better = found
            .as_ref()
            .is_none_or(|(b, _)| c.acc.output_max_abs_error < b.acc.output_max_abs_error);
        let meets = c.acc.output_max_abs_error <= max_error;
        if better {
            found = Some((c, config));
        }
        if meets || search.fixed_scale || config.scale >= MAX_SEARCHED_SCALE {
            break;
        }
        config.scale += 1;
    }
    let Some((chosen, config)) = found else {
        return Err(PipelineError::option(
            "--scale",
            "no scale compiles".to_string(),
        ));
    };
    if chosen.acc.output_max_abs_error > max_error {
        obs.warn(&format!(
            "warning: the output error is {:.3e}, over --max-error {:.1e}, even with the finest tables{}; using them (raise --scale for more accuracy, or --max-error)",
            chosen.acc.output_max_abs_error,
            max_error,
            if search.fixed_scale {
                String::new()
            } else {
                format!(" and activation scales up to 2^{MAX_SEARCHED_SCALE}")
            }
        ));
    }
    let compile_tuned =
        |scales: &TableScales, interp: &Interpolation| compile_at(config, scales, interp);
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
        "model": source.label,
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
        // Bounds set from the calibration set, range-checked in the circuit (one row per
        // element): a value past one at prove time is an error naming the node.
        "calibrated_bounds": q.graph.calibrated_bounds().iter().map(|c| json!({
            "node": c.node,
            "bound": c.bound,
            "real": c.bound as f64 / f64::from(c.scale).exp2(),
            "implied_bits": 64 - c.implied.leading_zeros(),
            "bits": 64 - c.bound.leading_zeros(),
            "rows": c.numel,
        })).collect::<Vec<_>>(),
        "plan": plan,
        // Lookups tabulated every 2^bits arguments and interpolated in between.
        "interpolation_bits": interpolation,
        "predicted_prove_s": plan.predicted_prove_s(),
        "visibility": {
            "input": q.graph.input_visibility_text(),
            "output": q.graph.output_visibility,
            "params": q.graph.param_visibility,
            // What the modes cost: the rows after the nodes, block by block (the input's
            // bound checks that do not fit on the linear chip's rows).
            "rows": zkinfer_circuits::plan::tail_rows(
                &q.graph,
                zkinfer_circuits::plan::side_capacity(&q.graph, plan.params.dot_shape()),
            )
                .into_iter()
                .map(|(name, r)| (name.to_string(), json!(r.rows)))
                .collect::<serde_json::Map<_, _>>(),
        },
    });
    Ok(Compiled {
        graph: q.graph,
        zkm,
        hash,
        report,
        accuracy: acc,
        plan,
        max_error,
        calibration_rows: rows.len(),
        config,
    })
}

impl Compiled {
    /// Writes `model.zkm` and `report.json` into `out` (created if missing), noting keys
    /// left from an earlier compile.
    pub fn write(&self, out: &Path, obs: &dyn Observer) -> Result<()> {
        std::fs::create_dir_all(out).map_err(|source| PipelineError::Io {
            action: "create",
            path: out.to_path_buf(),
            source,
        })?;
        let dir = ModelDir::new(out);
        for stale in [dir.pk(), dir.vk()] {
            if stale.exists() {
                obs.note(&format!(
                    "note: {} belongs to the previous compile; run `zkinfer setup` again",
                    stale.display()
                ));
            }
        }
        write(obs, &dir.model(), &self.zkm)?;
        write(
            obs,
            &dir.report(),
            serde_json::to_string_pretty(&self.report)?.as_bytes(),
        )
    }

    /// The largest |x| the compiled model accepts.
    pub fn input_range(&self) -> f64 {
        self.graph.input.bound as f64 / f64::from(self.graph.input.scale).exp2()
    }
}

/// Reads `model` and `calibration`, compiles, and writes the result into `out`.
pub fn compile_file(
    model: &Path,
    calibration: &Path,
    out: &Path,
    config: QuantizeConfig,
    search: &Search,
    obs: &dyn Observer,
) -> Result<Compiled> {
    let bytes = std::fs::read(model).map_err(|e| PipelineError::read(model, e))?;
    let label = model.display().to_string();
    let source = Source {
        bytes: &bytes,
        label: &label,
        base: model.parent(),
    };
    let compiled = compile(
        source,
        &Input::File {
            path: calibration,
            row: 0,
        },
        config,
        search,
        obs,
    )?;
    compiled.write(out, obs)?;
    Ok(compiled)
}
