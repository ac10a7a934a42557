//! Layout planner: chooses `k`, the linear chip's row shape (lanes and accumulators) and the
//! limb width.
//!
//! Cost model: proving work grows with `2^k` times a weighted count of columns (advice
//! columns, fixed columns, three polynomials per lookup, the permutation's share). The
//! planner tries every row shape and keeps the cheapest plan that fits.

use serde::{Deserialize, Serialize};
use zkinfer_ir::{QGraph, QNode, QOp};

use crate::chips::lookup::LookupConfig;
use crate::chips::range::{limbs_needed, RangeConfig};
pub use crate::config::{CircuitParams, DotShape, OptionalChips};
use crate::error::CircuitError;
pub use crate::field::{bits, signed_bits};
pub use crate::lay::NodeRows;

/// The name under which [`Plan::node_rows`] lists the input's bound checks (last entry).
pub const INPUT_BOUND_ROWS: &str = "(input bound checks)";

/// Rows reserved at the end of the domain for blinding.
pub const RESERVED_ROWS: usize = 16;
/// Largest `k` the planner will choose.
pub const MAX_K: u32 = 24;
const LANE_CHOICES: [usize; 10] = [1, 2, 4, 6, 8, 10, 12, 16, 24, 32];
const OUT_CHOICES: [usize; 8] = [1, 2, 3, 4, 5, 6, 7, 8];
/// Most weight columns (lanes times accumulators) a row may have.
const MAX_WEIGHT_COLUMNS: usize = 64;

/// Rows used by one node, and the widest range check it needs: what its op's layout file
/// in `lay/` says.
pub fn node_rows(graph: &QGraph, node: &QNode, shape: DotShape) -> NodeRows {
    crate::lay::rows(graph, node, shape)
}

/// The row ranges of the linear chip (Linear and Conv nodes) in layout order: pool column 0
/// and the range columns are idle there, so the input's bound checks sit on these rows
/// before taking rows of their own after the nodes.
pub fn side_rows(graph: &QGraph, shape: DotShape) -> Vec<std::ops::Range<usize>> {
    let mut at = 0;
    let mut out = Vec::new();
    for node in &graph.nodes {
        let rows = crate::lay::rows(graph, node, shape).rows;
        if crate::lay::leaves_range_idle(&node.op) && rows > 0 {
            out.push(at..at + rows);
        }
        at += rows;
    }
    out
}

/// The row of each of the input's bound checks, in layout order (element by element; the
/// lower then the upper row of a two-row check): the side rows first
/// ([`side_rows`]), then the rows after the last node.
pub fn input_bound_rows(graph: &QGraph, shape: DotShape) -> Vec<usize> {
    let n = input_rows(graph).rows;
    let after: usize = graph
        .nodes
        .iter()
        .map(|node| crate::lay::rows(graph, node, shape).rows)
        .sum();
    side_rows(graph, shape)
        .into_iter()
        .flatten()
        .chain(after..)
        .take(n)
        .collect()
}

/// Rows on which the input's bound checks can sit beside another chip (the linear chip's
/// rows, [`side_rows`]).
pub fn side_capacity(graph: &QGraph, shape: DotShape) -> usize {
    side_rows(graph, shape).iter().map(|r| r.len()).sum()
}

/// Range-check rows that bound the input in the circuit (one or two per element), and their
/// width: see `layout::lay_input_bounds`. They sit on the linear chip's idle rows first
/// ([`side_capacity`]); [`tail_rows`] counts the rest.
pub fn input_rows(graph: &QGraph) -> NodeRows {
    let bound = graph.input.bound;
    if zkinfer_ir::input_range::one_row(bound) {
        NodeRows {
            rows: graph.input.numel(),
            range_bits: crate::field::bits(bound),
        }
    } else {
        NodeRows {
            rows: 2 * graph.input.numel(),
            range_bits: signed_bits(bound),
        }
    }
}

/// The row blocks after the last node, in layout order and with the names `plan` shows: the
/// input's bound checks that do not fit on the `side` idle rows of the linear chip
/// ([`INPUT_BOUND_ROWS`]), the parameter rows when parameters are advice, then as the
/// visibilities ask the salt row, the input's commitment, the parameters' commitment, the
/// output's bound checks and its commitment.
pub fn tail_rows(graph: &QGraph, side: usize) -> Vec<(&'static str, NodeRows)> {
    use crate::chips::commit;
    use zkinfer_ir::Visibility::Hashed;
    let input = input_rows(graph);
    let input = NodeRows {
        rows: input.rows.saturating_sub(side),
        ..input
    };
    let mut out = vec![(INPUT_BOUND_ROWS, input)];
    let block = |rows, range_bits| NodeRows { rows, range_bits };
    let params = graph.param_tensors();
    if graph.advice_params() {
        // Two range rows per trained value, one pinned row per structural one.
        let per = |t: &zkinfer_ir::qgraph::ParamTensor<'_>| if t.structural { 1 } else { 2 };
        let rows = 1 + params
            .iter()
            .map(|t| per(t) * t.values.len())
            .sum::<usize>();
        let bits = params
            .iter()
            .filter(|t| !t.structural)
            .map(|t| signed_bits(t.bound))
            .max();
        out.push(("(parameter range checks)", block(rows, bits.unwrap_or(0))));
    }
    if graph.salts_anything() {
        out.push(("(salt)", block(1, 0)));
    }
    let hashed: Vec<usize> = graph
        .input_segments()
        .iter()
        .filter(|s| s.visibility == Hashed)
        .map(|s| commit::rows(s.len(), graph.input.bound))
        .collect();
    if !hashed.is_empty() {
        out.push(("(input commitment)", block(hashed.iter().sum(), 0)));
    }
    if graph.param_visibility == zkinfer_ir::ParamVisibility::Hashed {
        let rows = params
            .iter()
            .map(|t| commit::rows(t.values.len(), t.bound))
            .sum();
        out.push(("(parameter commitment)", block(rows, 0)));
    }
    if graph.output_visibility == Hashed {
        if let Some(t) = graph.output_tensor() {
            let bits = signed_bits(t.bound);
            out.push(("(output bound checks)", block(2 * t.numel(), bits)));
            let rows = commit::rows(t.numel(), t.bound);
            out.push(("(output commitment)", block(rows, 0)));
        }
    }
    out.push((LABELS_ROWS, block(1, 0)));
    out
}

/// The name of the labels digest's row (see [`crate::vk_header::VkHeader::labels_digest`]).
pub const LABELS_ROWS: &str = "(key labels)";

/// All rows after the last node, and their widest range check (the input's bound checks
/// counted, whatever rows they sit on).
pub fn tail_total(graph: &QGraph, side: usize) -> NodeRows {
    tail_rows(graph, side)
        .into_iter()
        .fold(NodeRows::default(), |a, (_, b)| NodeRows {
            rows: a.rows + b.rows,
            range_bits: a.range_bits.max(b.range_bits),
        })
}

/// Rows of the function table `graph` needs: 0 without lookup nodes.
pub fn fn_table_rows(graph: &QGraph) -> usize {
    if graph
        .nodes
        .iter()
        .any(|n| matches!(n.op, QOp::Lookup { .. }))
    {
        LookupConfig::table_rows(&graph.tables)
    } else {
        0
    }
}

/// A chosen layout with its row accounting.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    /// The circuit parameters.
    pub params: CircuitParams,
    /// Rows used by the model (excluding the lookup table).
    pub rows: usize,
    /// Rows per node, in node order, then the blocks of [`tail_rows`].
    pub node_rows: Vec<(String, usize)>,
    /// Rows of the range table.
    pub table_rows: usize,
    /// Rows of the function table (0 when there is none).
    #[serde(default)]
    pub fn_table_rows: usize,
    /// Public values (inputs then outputs).
    pub instances: usize,
    /// Advice columns.
    pub advice_columns: usize,
    /// Fixed columns (weights, coefficients, tags; selectors excluded).
    pub fixed_columns: usize,
    /// Lookup arguments.
    pub lookups: usize,
    /// Relative cost (column-rows), used to compare plans.
    pub cost: u64,
}

/// Prove-time model: seconds = `PROVE_FIXED_S + PROVE_S_PER_COST · cost`
/// ([`Columns::cost`]), fitted on release proofs of the shared models over 31 row shapes
/// (BENCHMARKS.md, 2-core AMD EPYC): within about 15 %.
pub const PROVE_S_PER_COST: f64 = 1.0e-6;
/// See [`PROVE_S_PER_COST`].
pub const PROVE_FIXED_S: f64 = 0.2;
/// Prove-memory model: bytes = `PROVE_FIXED_BYTES + PROVE_BYTES_PER_CELL · 2^k · columns`
/// (advice + fixed), fitted on the same runs: within about 15 %.
pub const PROVE_BYTES_PER_CELL: f64 = 205.0;
/// See [`PROVE_BYTES_PER_CELL`].
pub const PROVE_FIXED_BYTES: f64 = 12.0 * 1024.0 * 1024.0;

impl Plan {
    /// Predicted wall time of one proof on the reference machine, in seconds.
    pub fn predicted_prove_s(&self) -> f64 {
        PROVE_FIXED_S + PROVE_S_PER_COST * self.cost as f64
    }

    /// Estimated proving-key size, in bytes: the fixed, permutation and advice-sized
    /// polynomials on the extended domain dominate it.
    pub fn estimated_pk_bytes(&self) -> u64 {
        let polys =
            (self.fixed_columns + self.params.pool_width() + 8 + self.advice_columns) as u64;
        polys * (1u64 << self.params.k) * 32 * 5
    }

    /// Predicted peak resident memory of one proof, in bytes.
    pub fn predicted_prove_bytes(&self) -> u64 {
        let cells = (1u64 << self.params.k) * (self.advice_columns + self.fixed_columns) as u64;
        (PROVE_FIXED_BYTES + PROVE_BYTES_PER_CELL * cells as f64) as u64
    }
}

/// The columns of a circuit, counted as the cost model weighs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns {
    /// Advice columns.
    pub advice: usize,
    /// Fixed columns (selectors excluded).
    pub fixed: usize,
    /// Lookup arguments.
    pub lookups: usize,
    /// Equality-enabled columns (the permutation argument's).
    pub equality: usize,
}

impl Columns {
    /// The columns `params` configures.
    pub fn of(params: &CircuitParams) -> Self {
        let opt = params.optional;
        let shape = params.dot_shape();
        let fn_lookups = usize::from(params.fn_table_rows > 0);
        let limbs = params.limbs.max(1);
        // The linear chip's weights and biases: advice with private or hashed parameters.
        let weights = shape.lanes * shape.outs + shape.outs;
        let advice_weights = if opt.advice_params { weights } else { 0 };
        let pool = shape.pool_width();
        // Weights and biases, rescale, arith (4), division, range offset and tags, range
        // table, and the function lookup's tag and table (selectors are not counted).
        let fixed = weights - advice_weights
            + 2
            + 4
            + usize::from(opt.div)
            + 1
            + limbs
            + 2
            + 4 * fn_lookups;
        Columns {
            advice: pool + limbs + advice_weights,
            fixed,
            lookups: limbs + fn_lookups,
            equality: pool + 1 + advice_weights,
        }
    }

    /// Relative proving cost at `2^k` rows: column-rows weighted by what each kind of column
    /// costs the prover (an advice column is interpolated, committed and brought to the
    /// extended domain, and most take part in the permutation; a fixed one is only brought
    /// to the extended domain; a lookup commits three more polynomials). The weights are a
    /// least-squares fit of release proofs of the shared models over 31 row shapes
    /// (BENCHMARKS.md "Several outputs per linear row"), in microseconds per 100 rows.
    pub fn cost(&self, k: u32) -> u64 {
        let weighted = 605 * self.advice + 133 * self.fixed + 2554 * self.lookups;
        (1u64 << k) * weighted as u64 / 100
    }
}

/// Chooses the cheapest plan for `graph`.
pub fn plan(graph: &QGraph) -> Result<Plan, CircuitError> {
    graph.validate()?;
    // The values, commitments, then the labels digest.
    let instances =
        graph.input_instances() + graph.output_instances() + graph.param_instances() + 1;
    if graph.output == 0 {
        return Err(CircuitError::NothingToProve);
    }
    let fn_rows = fn_table_rows(graph);
    let optional = OptionalChips::of(graph);
    let mut best: Option<Plan> = None;
    let lane_limit = graph.max_lanes.unwrap_or(usize::MAX).max(1);
    let has_dots = graph
        .nodes
        .iter()
        .any(|n| crate::lay::leaves_range_idle(&n.op));
    let shapes = LANE_CHOICES.into_iter().flat_map(|lanes| {
        OUT_CHOICES
            .into_iter()
            .map(move |outs| DotShape::new(lanes, outs))
    });
    for shape in shapes.filter(|s| {
        s.lanes <= lane_limit
            && s.lanes * s.outs <= lane_limit.clamp(1, MAX_WEIGHT_COLUMNS)
            // Without a Linear or Conv node, extra accumulators are idle columns.
            && (has_dots || s.outs == 1)
    }) {
        let side = side_capacity(graph, shape);
        let tail = tail_total(graph, side);
        let (mut rows, mut max_bits) = (tail.rows, tail.range_bits.max(1));
        let mut per_node = Vec::with_capacity(graph.nodes.len() + 1);
        for node in &graph.nodes {
            let r = node_rows(graph, node, shape);
            rows += r.rows;
            max_bits = max_bits.max(r.range_bits);
            per_node.push((node.name.clone(), r.rows));
        }
        per_node.extend(
            tail_rows(graph, side)
                .into_iter()
                .map(|(name, r)| (name.to_string(), r.rows)),
        );
        for k in 4..=MAX_K {
            let usable = (1usize << k).saturating_sub(RESERVED_ROWS);
            let limb_bits = (k - 2).min(16);
            let table_rows = RangeConfig::table_rows(limb_bits);
            if rows.max(instances).max(table_rows).max(fn_rows) > usable {
                continue;
            }
            let limbs = limbs_needed(max_bits, limb_bits).max(1);
            let params = CircuitParams {
                k,
                lanes: shape.lanes,
                outs: shape.outs,
                limb_bits,
                limbs,
                fn_table_rows: fn_rows,
                optional,
                param_columns: Vec::new(),
            };
            let columns = Columns::of(&params);
            let candidate = Plan {
                params,
                rows,
                node_rows: per_node.clone(),
                table_rows,
                fn_table_rows: fn_rows,
                instances,
                advice_columns: columns.advice,
                fixed_columns: columns.fixed,
                lookups: columns.lookups,
                cost: columns.cost(k),
            };
            if best.as_ref().is_none_or(|b| candidate.cost < b.cost) {
                best = Some(candidate);
            }
            break;
        }
    }
    best.ok_or(CircuitError::TooLarge { max_k: MAX_K })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use zkinfer_ir::QOp;

    use super::plan;
    use crate::testing::single_op;

    /// A 256-input, 64-output linear layer: wide enough that the fastest layout uses many lanes.
    fn wide_linear() -> zkinfer_ir::QGraph {
        let (n_in, n_out) = (256, 64);
        let op = QOp::Linear {
            weight: vec![1; n_in * n_out],
            bias: vec![0; n_out],
            n_in,
            n_out,
        };
        single_op(op, n_in, 100, n_out, 100 * 256, 1)
    }

    #[test]
    fn max_lanes_caps_the_layout_width() {
        let mut g = wide_linear();
        let fastest = plan(&g).unwrap();
        let weights = |p: &super::CircuitParams| p.lanes * p.outs;
        assert!(weights(&fastest.params) > 4, "{:?}", fastest.params);
        g.max_lanes = Some(4);
        let narrow = plan(&g).unwrap();
        assert!(weights(&narrow.params) <= 4, "{:?}", narrow.params);
        assert!(narrow.advice_columns < fastest.advice_columns);
        assert!(narrow.fixed_columns < fastest.fixed_columns);
        assert!(narrow.rows > fastest.rows);
        // A limit below every choice still leaves the one-lane, one-output layout.
        g.max_lanes = Some(0);
        let one = plan(&g).unwrap().params;
        assert_eq!((one.lanes, one.outs), (1, 1));
    }
}
