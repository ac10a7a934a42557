//! Lays the whole graph out in one region, node by node, and wires tensors together with
//! copy constraints. Row order is the node order, then the input's bound checks; each op's
//! file in [`crate::lay`] says how many rows it takes.

use halo2_proofs::circuit::Region;
use halo2_proofs::circuit::{Cell, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use zkinfer_ir::{QGraph, Trace, Visibility};

use crate::chips::commit;
use crate::chips::range::RangeConfig;
use crate::circuit::ModelConfig;
#[cfg(any(test, feature = "test-utils"))]
use crate::corrupt::Corruption;
use crate::error::{CircuitError, LayoutFault};
pub use crate::lay::ctx::Bindings;
use crate::lay::ctx::{element, known, value_i128, NodeCtx, Src, Walk};
use crate::lay::range_row::range_row_i128;
use crate::plan::signed_bits;
use crate::poseidon::value_bits;

/// The name under which layout errors of the input's bound rows are reported.
const INPUT_BOUNDS: &str = "(input bounds)";

/// What a layout run may be given besides the graph and the trace: in test builds, the
/// corruption to apply; in production, nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct LayoutOptions {
    /// The salt of a hashed input's commitment (when proving).
    pub salt: Option<Fr>,
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
    let mut walk = Walk {
        region,
        bindings: Bindings::default(),
        row: 0,
    };
    let lanes = config.linear.lanes();
    let planned: Vec<usize> = graph
        .nodes
        .iter()
        .map(|n| crate::lay::rows(graph, n, lanes).rows)
        .collect();
    let mut tensors: Vec<Vec<Src>> = Vec::with_capacity(graph.nodes.len() + 1);
    // The input's bound rows follow the nodes; lay them first so that every consumer of the
    // input copies a bounded cell (and an output that is an input element has a cell).
    let bounds_at: usize = planned.iter().sum();
    walk.row = bounds_at;
    let input = known(trace, 0).map_err(input_fault)?;
    let bounded = lay_input_bounds(&config.range, &mut walk, graph, input).map_err(input_fault)?;
    if graph.input_visibility == Visibility::Hashed {
        lay_input_commitment(config, &mut walk, graph, &bounded, input, options.salt)
            .map_err(input_fault)?;
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
        #[allow(unused_mut)]
        let mut ctx = NodeCtx::new(graph, index, &tensors, trace).map_err(fault)?;
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
    for src in outputs {
        match src {
            Src::Cell(c) => walk.bindings.outputs.push(*c),
        }
    }
    Ok(walk.bindings)
}

/// Bounds every public input in the circuit itself: for each element `x` of the input,
/// a lower row checks `x + B ∈ [0, 2^b)` and an upper row `B - x ∈ [0, 2^b)`, where `B` is
/// the compiled input bound and `b = bits(2B)`; both value cells are copied to the input's
/// instance row. So `|x| <= B` exactly, whatever a verifier checks besides the proof: a
/// field element that wraps (say `t / 2 mod p` before a weight of 2) cannot pass.
/// The rows follow the last node ([`crate::plan::input_rows`] counts them). Returns the
/// lower rows' value cells: the input as the nodes see it. Only a public input is copied to
/// the instance column; a private or hashed one keeps its bound rows all the same.
fn lay_input_bounds(
    range: &RangeConfig,
    walk: &mut Walk<'_, '_>,
    graph: &QGraph,
    input: Option<&[i64]>,
) -> Result<Vec<Cell>, LayoutFault> {
    let bound = i128::from(graph.input.bound);
    let bits = signed_bits(graph.input.bound);
    let public = graph.input_visibility == Visibility::Public;
    let mut cells = Vec::with_capacity(graph.input.numel());
    for i in 0..graph.input.numel() {
        let x = element(input, i)?.map(i128::from);
        let lower = range_row_i128(range, walk, x, bound, bits)?;
        if public {
            walk.bindings.instance_copies.push((lower, i));
        }
        let row = walk.take(1);
        let witness = x.map(|x| range.witness(bound - x, bits));
        let upper = range.assign_upper(
            walk.region,
            row,
            value_i128(x),
            bound,
            bits,
            witness.as_ref(),
        )?;
        if public {
            walk.bindings.instance_copies.push((upper, i));
        }
        cells.push(lower);
    }
    Ok(cells)
}

/// The commitment to the (bounded) input cells after the bound rows: a salt row (the salt in
/// pool column 0, free advice the prover chooses), then [`commit::rows`] rows; the
/// commitment is the input's one instance (row 0).
fn lay_input_commitment(
    config: &ModelConfig,
    walk: &mut Walk<'_, '_>,
    graph: &QGraph,
    cells: &[Cell],
    input: Option<&[i64]>,
    salt: Option<Fr>,
) -> Result<(), LayoutFault> {
    let poseidon = config
        .poseidon
        .clone()
        .ok_or(LayoutFault::MissingChip("poseidon"))?;
    let bound = graph.input.bound;
    if value_bits(bound) > commit::MAX_VALUE_BITS {
        return Err(LayoutFault::Parameter(
            "the input bound is too wide to pack for a commitment",
        ));
    }
    let row = walk.take(1);
    let salt_value = salt.map_or(Value::unknown(), Value::known);
    let salt_cell = walk
        .region
        .assign_advice(config.pool[0], row, salt_value)
        .cell();
    let witness = match (input, salt) {
        (Some(x), Some(s)) => Some(commit::witness(x, bound, s)),
        _ => None,
    };
    let chips = commit::CommitConfig {
        add: config.add.clone(),
        poseidon,
    };
    let at = walk.take(commit::rows(cells.len(), bound));
    let h = chips.assign(
        walk.region,
        at,
        cells,
        bound,
        Some(salt_cell),
        witness.as_ref(),
    )?;
    walk.bindings.instance_copies.push((h, 0));
    Ok(())
}
