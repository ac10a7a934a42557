//! Lays the whole graph out in one region, node by node, and wires tensors together with
//! copy constraints. Row order is the node order, then the input's bound checks that did not
//! fit on the linear chip's rows (where the range columns are idle); each op's file in the
//! `lay` module says how many rows it takes.

use halo2_proofs::circuit::Cell;
use halo2_proofs::circuit::Region;
use halo2_proofs::halo2curves::bn256::Fr;
use zkinfer_ir::{ParamVisibility, QGraph, Trace, Visibility};

use crate::chips::range::RangeConfig;
use crate::config::{DotShape, ModelConfig};
#[cfg(any(test, feature = "test-utils"))]
use crate::corrupt::Corruption;
use crate::error::{CircuitError, LayoutFault};
use crate::field::{bits, signed_bits};
use crate::lay::commit::{lay_commitment, lay_salt};
pub use crate::lay::ctx::Bindings;
use crate::lay::ctx::{element, known, NodeCtx, NodeParams, Src, Walk};
use crate::lay::params::{lay_params, lay_params_commitment};
use crate::lay::range_row::{both_sides, range_row};

/// The name under which layout errors of the input's bound rows are reported.
const INPUT_BOUNDS: &str = "(input bounds)";
/// The name under which layout errors of the parameter rows are reported.
const PARAMETERS: &str = "(parameters)";
/// The name under which layout errors of the output's commitment are reported.
const OUTPUT_COMMITMENT: &str = "(output commitment)";

/// What a layout run may be given besides the graph and the trace: in test builds, the
/// corruption to apply; in production, nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct LayoutOptions {
    /// The salt of a hashed input's commitment (when proving).
    pub salt: Option<Fr>,
    /// The labels digest of the key ([`crate::vk_header::labels_digest_of`]): fixed in the
    /// circuit and copied to the last public value.
    pub labels: Fr,
    /// A deliberately wrong witness cell (tests only).
    #[cfg(any(test, feature = "test-utils"))]
    pub corruption: Option<Corruption>,
}

/// Assigns every node of `graph`; returns the instance bindings and output cells.
pub fn lay_out(
    config: &ModelConfig,
    region: &mut Region<'_, Fr>,
    graph: &QGraph,
    trace: Option<&Trace>,
    options: LayoutOptions,
) -> Result<Bindings, CircuitError> {
    let input_fault = |fault: LayoutFault| CircuitError::Layout {
        node: INPUT_BOUNDS.into(),
        op: "Input",
        fault,
    };
    // Pin the region's extent to row 0 so failure locations are absolute rows.
    region.assign_fixed(config.range.offset, 0, Fr::zero());
    let shape = DotShape::new(config.linear.lanes(), config.linear.outs());
    let planned: Vec<usize> = graph
        .nodes
        .iter()
        .map(|n| crate::lay::rows(graph, n, shape).rows)
        .collect();
    // The input's bound checks sit on the linear chip's rows first, then follow the nodes.
    let mut side: Vec<usize> = crate::plan::side_rows(graph, shape)
        .into_iter()
        .flatten()
        .take(crate::plan::input_rows(graph).rows)
        .collect();
    side.reverse();
    let mut walk = Walk {
        region,
        bindings: Bindings::default(),
        row: 0,
        side,
    };
    let mut tensors: Vec<Vec<Src>> = Vec::with_capacity(graph.nodes.len() + 1);
    // Lay the input's bound rows first so that every consumer of the input copies a bounded
    // cell (and an output that is an input element has a cell).
    let bounds_at: usize = planned.iter().sum();
    walk.row = bounds_at;
    let input = known(trace, 0).map_err(input_fault)?;
    let bounded = lay_input_bounds(&config.range, &mut walk, graph, input).map_err(input_fault)?;
    walk.side.clear();
    let params_fault = |fault: LayoutFault| CircuitError::Layout {
        node: PARAMETERS.into(),
        op: "Parameters",
        fault,
    };
    let params = if graph.advice_params() {
        Some(lay_params(config, &mut walk, graph).map_err(params_fault)?)
    } else {
        None
    };
    let salt = graph
        .salts_anything()
        .then(|| lay_salt(config, &mut walk, options.salt));
    // One commitment per hashed segment of the input, at that segment's instance.
    for (segment, at) in instance_starts(graph) {
        if segment.visibility != Visibility::Hashed {
            continue;
        }
        let range = segment.start..segment.start + segment.len();
        let cells = bounded
            .get(range.clone())
            .ok_or(input_fault(LayoutFault::Length {
                what: "input segment",
                expected: range.end,
                got: bounded.len(),
            }))?;
        let values = match input {
            Some(x) => Some(x.get(range).ok_or(input_fault(LayoutFault::Length {
                what: "input segment values",
                expected: segment.start + segment.len(),
                got: x.len(),
            }))?),
            None => None,
        };
        let h = lay_commitment(config, &mut walk, cells, graph.input.bound, values, salt)
            .map_err(input_fault)?;
        walk.bindings.instance_copies.push((h, at));
    }
    if graph.param_visibility == ParamVisibility::Hashed {
        let p = params
            .as_ref()
            .ok_or(params_fault(LayoutFault::MissingChip("parameters")))?;
        let h = lay_params_commitment(config, &mut walk, graph, p).map_err(params_fault)?;
        let at = graph.input_instances() + graph.output_instances();
        walk.bindings.instance_copies.push((h, at));
    }
    tensors.push(bounded.into_iter().map(Src::Cell).collect());
    let end = walk.row;
    walk.row = 0;
    for (index, node) in graph.nodes.iter().enumerate() {
        let fault = |fault: LayoutFault| CircuitError::Layout {
            node: node.name.clone(),
            op: node.op.kind(),
            fault,
        };
        let start = walk.row;
        let mut ctx = NodeCtx::new(graph, index, &tensors, trace).map_err(fault)?;
        if let Some(p) = &params {
            ctx.params = Some(NodeParams {
                tensors: p.by_node.get(index).cloned().unwrap_or_default(),
                zero: p.zero,
            });
        }
        #[cfg(any(test, feature = "test-utils"))]
        {
            ctx.corruption = options.corruption;
        }
        let out = crate::lay::lay(config, &mut walk, &ctx).map_err(fault)?;
        crate::lay::ctx::expect_len("output", node.out.numel(), out.len()).map_err(fault)?;
        let planned = planned.get(index).copied().unwrap_or_default();
        if walk.row - start != planned {
            return Err(fault(LayoutFault::RowCount {
                planned,
                used: walk.row - start,
            }));
        }
        tensors.push(out);
    }
    let _ = options;
    debug_assert_eq!(walk.row, bounds_at, "nodes end where the bound rows start");
    walk.row = end;
    let outputs = tensors
        .get(graph.output)
        .ok_or(CircuitError::TraceMismatch {
            tensor: graph.output,
        })?;
    let cells: Vec<Cell> = outputs
        .iter()
        .map(|src| match src {
            Src::Cell(c) => *c,
        })
        .collect();
    match graph.output_visibility {
        Visibility::Public => walk.bindings.outputs = cells,
        Visibility::Private => {}
        Visibility::Hashed => {
            let output_fault = |fault: LayoutFault| CircuitError::Layout {
                node: OUTPUT_COMMITMENT.into(),
                op: "Output",
                fault,
            };
            let bound = graph
                .output_tensor()
                .ok_or(CircuitError::TraceMismatch {
                    tensor: graph.output,
                })?
                .bound;
            let values = known(trace, graph.output).map_err(output_fault)?;
            let bounded = lay_bounds(&config.range, &mut walk, bound, cells.len(), values)
                .map_err(output_fault)?;
            for ((lower, _), cell) in bounded.iter().zip(&cells) {
                walk.region.constrain_equal(*lower, *cell);
            }
            let lowers: Vec<Cell> = bounded.iter().map(|(l, _)| *l).collect();
            let h = lay_commitment(config, &mut walk, &lowers, bound, values, salt)
                .map_err(output_fault)?;
            walk.bindings.outputs = vec![h];
        }
    }
    // The labels digest, pinned by a fixed cell, as the last public value.
    let row = walk.take(1);
    let labels = config
        .add
        .assign_constant(walk.region, row, options.labels)
        .map_err(|e| CircuitError::Layout {
            node: crate::plan::LABELS_ROWS.into(),
            op: "Labels",
            fault: e.into(),
        })?;
    let at = graph.input_instances() + graph.output_instances() + graph.param_instances();
    walk.bindings.instance_copies.push((labels, at));
    Ok(walk.bindings)
}

/// Two range rows per value: `v + B ∈ [0, 2^b)` and `B - v ∈ [0, 2^b)`, where
/// `b = bits(2B)`, their value cells copy-constrained to each other; returns each value's
/// (lower, upper) value cells.
fn lay_bounds(
    range: &RangeConfig,
    walk: &mut Walk<'_, '_>,
    bound: u64,
    n: usize,
    values: Option<&[i64]>,
) -> Result<Vec<(Cell, Cell)>, LayoutFault> {
    let b = i128::from(bound);
    let bits = signed_bits(bound);
    let mut cells = Vec::with_capacity(n);
    for i in 0..n {
        // Both rows check the same value, whatever the visibility: without the copy between
        // them a private or hashed value would be bounded from below only.
        cells.push(both_sides(range, walk, element(values, i)?, b, bits)?);
    }
    Ok(cells)
}

/// Bounds every public input in the circuit itself: for each element `x` of the input,
/// a lower row checks `x + B ∈ [0, 2^b)` and an upper row `B - x ∈ [0, 2^b)`, where `B` is
/// the compiled input bound and `b = bits(2B)`; both value cells are copied to the input's
/// instance row. So `|x| <= B` exactly, whatever a verifier checks besides the proof: a
/// field element that wraps (say `t / 2 mod p` before a weight of 2) cannot pass. A
/// power-of-two `B` takes the lower row alone, `b = bits(B)`: `x ∈ [-B, B - 1]`
/// (`zkinfer_ir::input_range`).
/// The rows sit on the linear chip's idle rows, then follow the last node
/// ([`crate::plan::input_bound_rows`]; [`crate::plan::input_rows`] counts them). Returns the
/// lower rows' value cells: the input as the nodes see it. Only a public input is copied to
/// the instance column; a private or hashed one keeps its bound rows all the same.
fn lay_input_bounds(
    range: &RangeConfig,
    walk: &mut Walk<'_, '_>,
    graph: &QGraph,
    input: Option<&[i64]>,
) -> Result<Vec<Cell>, LayoutFault> {
    let bound = graph.input.bound;
    let rows: Vec<(Cell, Option<Cell>)> = if zkinfer_ir::input_range::one_row(bound) {
        // A power-of-two bound: `x + B ∈ [0, 2B)` alone, which admits `[-B, B - 1]`.
        let b = i128::from(bound);
        (0..graph.input.numel())
            .map(|i| {
                Ok((
                    range_row(range, walk, element(input, i)?, b, bits(bound))?,
                    None,
                ))
            })
            .collect::<Result<_, LayoutFault>>()?
    } else {
        lay_bounds(range, walk, bound, graph.input.numel(), input)?
            .into_iter()
            .map(|(lower, upper)| (lower, Some(upper)))
            .collect()
    };
    // The instance row of each element of a public segment.
    let mut instance = vec![None; rows.len()];
    for (segment, at) in instance_starts(graph) {
        if segment.visibility == Visibility::Public {
            for k in 0..segment.len() {
                if let Some(slot) = instance.get_mut(segment.start + k) {
                    *slot = Some(at + k);
                }
            }
        }
    }
    let mut cells = Vec::with_capacity(rows.len());
    for ((lower, upper), at) in rows.into_iter().zip(instance) {
        if let Some(at) = at {
            walk.bindings.instance_copies.push((lower, at));
            if let Some(upper) = upper {
                walk.bindings.instance_copies.push((upper, at));
            }
        }
        cells.push(lower);
    }
    Ok(cells)
}

/// Each input segment with the instance row its public values (or commitment) start at.
fn instance_starts(graph: &QGraph) -> Vec<(zkinfer_ir::visibility::Segment, usize)> {
    let mut at = 0;
    graph
        .input_segments()
        .into_iter()
        .map(|s| {
            let start = at;
            at += s.visibility.instances(s.len());
            (s, start)
        })
        .collect()
}
