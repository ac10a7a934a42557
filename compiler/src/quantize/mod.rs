//! Quantization: float [`Graph`] + calibration inputs → [`QGraph`] with static bounds.
//!
//! Scales are powers of two. Weights use `weight_scale`; activations leave every
//! linear layer rescaled (round half up) to `scale`. Bounds are proven statically
//! from the quantized weights and the calibrated input range.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

mod accuracy;
mod builder;
mod lower;
mod norm;
mod tables;

pub use accuracy::{accuracy, argmax, AccuracyReport, NodeAccuracy};
pub use tables::MAX_TABLE_ROWS;

use crate::error::QuantizeError;
use crate::graph::{Graph, TensorId};
use crate::input::quantize_values;
use crate::qgraph::{QGraph, QOp, QTensor};
use builder::{Builder, DomainKey};

pub use zkinfer_ir::qgraph::MAX_BOUND_BITS;

/// Quantization settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuantizeConfig {
    /// Scale (bits) of the input and of every activation after a rescale.
    pub scale: u32,
    /// Scale (bits) of weights.
    pub weight_scale: u32,
    /// Extra bits of input range above the calibrated maximum (1 = twice the range); also
    /// widens lookup-table domains around their calibrated range.
    pub headroom_bits: u32,
    /// Scale (bits) of lookup-table arguments: lower means smaller tables, less accuracy.
    #[serde(default = "default_table_scale")]
    pub table_scale: u32,
    /// Bits of margin above the largest value calibration saw, for a tensor given a
    /// calibrated bound (see [`CALIBRATED_GAINS`]): 2 allows 4x, enough for an input at
    /// the input headroom's 2x carried through one square (a variance).
    #[serde(default = "default_bound_headroom_bits")]
    pub bound_headroom_bits: u32,
}

fn default_bound_headroom_bits() -> u32 {
    QuantizeConfig::DEFAULT.bound_headroom_bits
}

/// Where the quantizer places calibrated bounds, tried in order until every static bound
/// fits: a `Rescale` whose static bound is at least `2^gain` times its calibrated bound
/// (largest calibrated magnitude, at least 1.0, times `2^bound_headroom_bits`) gets the
/// calibrated one, checked on both sides in the circuit, so later bounds start from it.
/// The first entry applies to every model; the later ones only when a bound would overflow.
pub const CALIBRATED_GAINS: [u32; 6] = [16, 8, 4, 2, 1, 0];

fn default_table_scale() -> u32 {
    QuantizeConfig::DEFAULT.table_scale
}

impl QuantizeConfig {
    /// The defaults of `zkinfer compile`, the Python `compile` and the proving service (the
    /// one place they are written).
    pub const DEFAULT: QuantizeConfig = QuantizeConfig {
        scale: 13,
        weight_scale: 16,
        headroom_bits: 1,
        table_scale: 10,
        bound_headroom_bits: 2,
    };
}

impl Default for QuantizeConfig {
    fn default() -> Self {
        QuantizeConfig::DEFAULT
    }
}

impl Quantized {
    /// Names of the lookup nodes (the keys of [`TableScales`]) and their tables' rows.
    pub fn lookups(&self) -> Vec<(String, usize)> {
        self.graph
            .nodes
            .iter()
            .filter(|n| !n.name.ends_with(tables::SLOPE_SUFFIX))
            .filter_map(|n| match n.op {
                // Comparisons keep their operand's scale: nothing to search.
                QOp::Lookup { table }
                    if self.graph.tables.get(table).is_some_and(|t| {
                        tables::AT_OPERAND_SCALE.iter().any(|f| t.name == f.name())
                    }) =>
                {
                    None
                }
                QOp::Lookup { table } => Some((
                    n.name.clone(),
                    self.graph.tables.get(table).map_or(0, |t| t.values.len()),
                )),
                _ => None,
            })
            .collect()
    }
}

/// The compiled graph plus how float tensors map onto it.
#[derive(Debug, Clone)]
pub struct Quantized {
    /// The integer graph.
    pub graph: QGraph,
    /// For each float tensor id, the quantized tensor id that carries its value.
    pub float_to_q: Vec<TensorId>,
}

pub(crate) fn check_finite(what: &str, values: &[f32]) -> Result<(), QuantizeError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(QuantizeError::NonFinite {
            what: what.to_string(),
            index,
        }),
        None => Ok(()),
    }
}

pub(crate) fn quantize_f32(values: &[f32], scale: u32) -> Vec<i64> {
    let v: Vec<f64> = values.iter().map(|&x| f64::from(x)).collect();
    quantize_values(&v, scale)
}

fn bits_of(bound: u128) -> u32 {
    u128::BITS - bound.leading_zeros()
}

pub(crate) fn checked_bound(node: &str, bound: u128) -> Result<u64, QuantizeError> {
    let bits = bits_of(bound);
    if bits > MAX_BOUND_BITS {
        return Err(QuantizeError::Overflow {
            node: node.to_string(),
            bits,
            max_bits: MAX_BOUND_BITS,
        });
    }
    Ok(bound as u64)
}

/// Quantizes `graph`. `calibration` holds one or more flattened float inputs that set the
/// input range; `source_sha256` is the hex SHA-256 of the source model file.
pub fn quantize(
    graph: &Graph,
    calibration: &[Vec<f64>],
    config: QuantizeConfig,
    source_sha256: &str,
) -> Result<Quantized, QuantizeError> {
    quantize_with(
        graph,
        calibration,
        config,
        &TableScales::new(),
        source_sha256,
    )
}

/// Per-lookup table argument scales, by lookup node name (see [`Quantized::lookups`]);
/// lookups not listed use [`QuantizeConfig::table_scale`].
pub type TableScales = std::collections::BTreeMap<String, u32>;

/// Per-lookup interpolation, by lookup node name: the function is tabulated every `2^bits`
/// arguments and interpolated linearly in between (see `tables::interpolated`); lookups not
/// listed get a plain table.
pub type Interpolation = std::collections::BTreeMap<String, u32>;

/// [`quantize`] with per-lookup table scales.
pub fn quantize_with(
    graph: &Graph,
    calibration: &[Vec<f64>],
    config: QuantizeConfig,
    table_scales: &TableScales,
    source_sha256: &str,
) -> Result<Quantized, QuantizeError> {
    quantize_tuned(
        graph,
        calibration,
        config,
        table_scales,
        &Interpolation::new(),
        source_sha256,
    )
}

/// Most extra quantization passes spent widening function tables to a shared domain.
const SHARING_PASSES: usize = 4;

/// [`quantize_with`] with per-lookup interpolation.
pub fn quantize_tuned(
    graph: &Graph,
    calibration: &[Vec<f64>],
    config: QuantizeConfig,
    table_scales: &TableScales,
    interpolation: &Interpolation,
    source_sha256: &str,
) -> Result<Quantized, QuantizeError> {
    if let Some((name, &t)) = table_scales.iter().find(|(_, t)| !(1..=20).contains(*t)) {
        return Err(QuantizeError::BadSetting {
            what: "table scale",
            value: format!("{t} (for `{name}`)"),
            range: "1..=20",
        });
    }
    if !(1..=24).contains(&config.scale) {
        return Err(QuantizeError::BadSetting {
            what: "scale",
            value: config.scale.to_string(),
            range: "1..=24",
        });
    }
    if !(1..=24).contains(&config.weight_scale) {
        return Err(QuantizeError::BadSetting {
            what: "weight scale",
            value: config.weight_scale.to_string(),
            range: "1..=24",
        });
    }
    if !(1..=20).contains(&config.table_scale) {
        return Err(QuantizeError::BadSetting {
            what: "table scale",
            value: config.table_scale.to_string(),
            range: "1..=20",
        });
    }
    if config.headroom_bits > 16 {
        return Err(QuantizeError::BadSetting {
            what: "headroom bits",
            value: config.headroom_bits.to_string(),
            range: "0..=16",
        });
    }
    if config.bound_headroom_bits > 16 {
        return Err(QuantizeError::BadSetting {
            what: "bound headroom bits",
            value: config.bound_headroom_bits.to_string(),
            range: "0..=16",
        });
    }
    if calibration.is_empty() {
        return Err(QuantizeError::EmptyCalibration);
    }
    let numel = graph.input_numel();
    let mut max_abs = 0.0f64;
    for (row, values) in calibration.iter().enumerate() {
        if values.len() != numel {
            return Err(QuantizeError::CalibrationLength {
                row,
                input: graph.input_name.clone(),
                expected: numel,
                got: values.len(),
            });
        }
        if let Some(index) = values.iter().position(|v| !v.is_finite()) {
            return Err(QuantizeError::NonFinite {
                what: format!("calibration row {row}"),
                index,
            });
        }
        max_abs = values.iter().fold(max_abs, |m, v| m.max(v.abs()));
    }
    let calibrated = (max_abs * f64::from(config.scale).exp2()).ceil().max(1.0) as u128;
    // A model without inputs reads a one-element anchor that the circuit fixes to 0.
    // Rounded up to a power of two: the circuit checks such a bound in one row per element
    // (zkinfer_ir::input_range).
    let input_bound = if graph.no_input {
        0
    } else {
        checked_bound(
            &graph.input_name,
            (calibrated << config.headroom_bits).next_power_of_two(),
        )?
    };
    let input = QTensor {
        shape: graph.input_shape.clone(),
        scale: config.scale,
        bound: input_bound,
    };
    let rows: Vec<Vec<i64>> = calibration
        .iter()
        .map(|r| quantize_values(r, config.scale))
        .collect();
    let mut gains = CALIBRATED_GAINS.iter().copied().peekable();
    loop {
        let gain = gains.next().unwrap_or(0);
        let last = gains.peek().is_none();
        match quantize_pass(
            graph,
            &input,
            &rows,
            config,
            gain,
            table_scales,
            interpolation,
        ) {
            Err(QuantizeError::Overflow { .. }) if !last => continue,
            Err(e) => return Err(e),
            Ok((b, float_to_q, output)) => {
                return Ok(finish(graph, input, b, float_to_q, output, source_sha256))
            }
        }
    }
}

/// One quantization of `graph` placing calibrated bounds where they save `gain` bits (see
/// [`CALIBRATED_GAINS`]), repeated while shared table domains settle.
fn quantize_pass(
    graph: &Graph,
    input: &QTensor,
    rows: &[Vec<i64>],
    config: QuantizeConfig,
    gain: u32,
    table_scales: &TableScales,
    interpolation: &Interpolation,
) -> Result<(Builder, Vec<TensorId>, TensorId), QuantizeError> {
    let build = |shared: BTreeMap<DomainKey, (i64, i64)>| {
        let mut b = Builder::new(input.clone(), rows.to_vec(), config);
        b.table_scales = table_scales.clone();
        b.interpolation = interpolation.clone();
        b.shared_domains = shared;
        b.calibrated_gain = gain;
        lower_all(graph, &mut b).map(|(float_to_q, output)| (b, float_to_q, output))
    };
    // Further passes widen every function table to the union its nodes share, so one table
    // serves them all (a recurrent model's steps, repeated activations). A wider table can
    // widen a later argument's bound, hence a few passes until the domains settle; should a
    // wider domain fail (a pole between two domains), the last good pass stands.
    let mut built = build(BTreeMap::new())?;
    let mut shared = BTreeMap::new();
    for _ in 0..SHARING_PASSES {
        let mut want = shared.clone();
        for (key, (lo, hi)) in built.0.domains_to_share() {
            let d = want.entry(key).or_insert((lo, hi));
            *d = (d.0.min(lo), d.1.max(hi));
        }
        if want == shared {
            break;
        }
        let Ok(next) = build(want.clone()) else {
            break;
        };
        built = next;
        shared = want;
    }
    Ok(built)
}

/// The quantized graph of a finished pass.
fn finish(
    graph: &Graph,
    input: QTensor,
    b: Builder,
    float_to_q: Vec<TensorId>,
    output: TensorId,
    source_sha256: &str,
) -> Quantized {
    let weights_sha256 = {
        let ops: Vec<&QOp> = b.nodes.iter().map(|n| &n.op).collect();
        let mut bytes = serde_json::to_vec(&ops).unwrap_or_default();
        bytes.extend(serde_json::to_vec(&b.tables).unwrap_or_default());
        crate::artifact::hash_hex(&crate::artifact::sha256(&bytes))
    };
    let qgraph = QGraph {
        input_name: graph.input_name.clone(),
        input,
        nodes: b.nodes,
        output,
        output_name: graph.output_name.clone(),
        source_sha256: source_sha256.to_string(),
        weights_sha256,
        tables: b.tables,
        max_lanes: None,
        input_parts: graph.input_parts.clone(),
        output_parts: graph.output_parts.clone(),
        no_input: graph.no_input,
        input_kinds: graph.input_kinds.clone(),
        input_visibility: Default::default(),
        input_part_visibility: Vec::new(),
        output_visibility: Default::default(),
        param_visibility: Default::default(),
    };
    Quantized {
        graph: qgraph,
        float_to_q,
    }
}

/// Lowers every node of `graph` into `b`: the float-to-quantized tensor map and the output.
fn lower_all(graph: &Graph, b: &mut Builder) -> Result<(Vec<TensorId>, TensorId), QuantizeError> {
    let mut float_to_q: Vec<TensorId> = vec![0];
    for node in &graph.nodes {
        let args = node
            .inputs
            .iter()
            .map(|&t| float_to_q.get(t).copied())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| QuantizeError::Malformed {
                node: node.name.clone(),
                detail: "an operand is produced later or not at all".into(),
            })?;
        let id = lower::lower(b, node, &args)?;
        float_to_q.push(id);
    }
    let output = float_to_q
        .get(graph.output)
        .copied()
        .ok_or_else(|| QuantizeError::Malformed {
            node: graph.output_name.clone(),
            detail: "output tensor missing".into(),
        })?;
    Ok((float_to_q, output))
}
