//! Lays the whole graph out in one region, node by node, and wires tensors together with
//! copy constraints. Row order is the node order; [`crate::plan::node_rows`] gives each
//! node's row count.

use halo2_proofs::circuit::{Cell, Region, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::Error;
use zkinfer_models::semantics::rescale_remainder;
use zkinfer_models::{QGraph, QNode, QOp, QTensor, Trace};

use crate::chips::add::AddCoefs;
use crate::chips::linear::running_sums;
use crate::chips::relu::ReluWitness;
use crate::circuit::ModelConfig;
use crate::corrupt::{Corruption, CorruptionKind};
use crate::field::{fr_from_i128, fr_from_i64};
use crate::lay;
use crate::lay::node_io::NodeIo;
use crate::plan::{bits, signed_bits};

/// Where a tensor element lives.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Src {
    /// An advice cell.
    Cell(Cell),
}

/// Cells to bind to the instance column once the region is closed.
#[derive(Debug, Default)]
pub struct Bindings {
    /// `(advice cell, instance row)` pairs that must be equal.
    pub instance_copies: Vec<(Cell, usize)>,
    /// The output cells, in order.
    pub outputs: Vec<Cell>,
}

/// The layout's cursor: the region, the next free row and the pending instance bindings.
pub(crate) struct Walk<'a, 'r> {
    pub(crate) region: &'a mut Region<'r, Fr>,
    pub(crate) bindings: Bindings,
    pub(crate) row: usize,
}

impl Walk<'_, '_> {
    /// Copy-constrains `dst` to the element at `src`.
    pub(crate) fn bind(&mut self, src: Src, dst: Cell) {
        match src {
            Src::Cell(c) => self.region.constrain_equal(c, dst),
        }
    }
}

pub(crate) fn known(trace: Option<&Trace>, id: usize) -> Result<Option<&[i64]>, Error> {
    match trace {
        None => Ok(None),
        Some(t) => t.get(id).map(Some).ok_or(Error::Synthesis),
    }
}

pub(crate) fn value(v: Option<i64>) -> Value<Fr> {
    v.map_or(Value::unknown(), |v| Value::known(fr_from_i64(v)))
}

/// One operand of a node: where its elements live and, when proving, their values.
pub(crate) struct Operand<'a> {
    /// Where each element lives.
    pub(crate) src: &'a [Src],
    /// The values (None during key generation).
    pub(crate) val: Option<&'a [i64]>,
    /// Static description (shape, scale, bound).
    pub(crate) desc: &'a QTensor,
}

impl Operand<'_> {
    /// Where element `i` lives.
    pub(crate) fn src(&self, i: usize) -> Result<Src, Error> {
        self.src.get(i).copied().ok_or(Error::Synthesis)
    }

    /// The value of element `i`, if known.
    pub(crate) fn at(&self, i: usize) -> Result<Option<i64>, Error> {
        element(self.val, i)
    }
}

/// What a per-op layout in [`crate::lay`] sees of its node.
pub(crate) struct NodeCtx<'a> {
    /// The graph (for its tables).
    pub(crate) graph: &'a QGraph,
    /// Index of the node in `QGraph::nodes` (what a corruption names).
    pub(crate) index: usize,
    /// The node.
    pub(crate) node: &'a QNode,
    /// Its operands, in order.
    pub(crate) operands: Vec<Operand<'a>>,
    /// Its output values (None during key generation).
    pub(crate) out: Option<&'a [i64]>,
    /// The test-only corruption, if any.
    pub(crate) corruption: Option<&'a Corruption>,
}

impl NodeCtx<'_> {
    /// Operand `i`.
    pub(crate) fn operand(&self, i: usize) -> Result<&Operand<'_>, Error> {
        self.operands.get(i).ok_or(Error::Synthesis)
    }

    /// The corruption's kind if it targets output element `element` of this node.
    pub(crate) fn corruption_at(&self, element: usize) -> Option<CorruptionKind> {
        Corruption::at(self.corruption, self.index, element)
    }
}

/// Value `i` of `vals`, if known; an error if `vals` is known but too short.
pub(crate) fn element(vals: Option<&[i64]>, i: usize) -> Result<Option<i64>, Error> {
    match vals {
        None => Ok(None),
        Some(v) => v.get(i).copied().map(Some).ok_or(Error::Synthesis),
    }
}

/// A known or unknown field value from a 128-bit integer.
pub(crate) fn value_i128(v: Option<i128>) -> Value<Fr> {
    v.map_or(Value::unknown(), |v| Value::known(fr_from_i128(v)))
}

/// Assigns every node of `graph`; returns the instance bindings and output cells.
pub fn lay_out(
    config: &ModelConfig,
    region: &mut Region<'_, Fr>,
    graph: &QGraph,
    trace: Option<&Trace>,
    corruption: Option<&Corruption>,
) -> Result<Bindings, Error> {
    // Pin the region's extent to row 0 so failure locations are absolute rows.
    region.assign_fixed(config.range.offset, 0, Fr::zero());
    let mut walk = Walk {
        region,
        bindings: Bindings::default(),
        row: 0,
    };
    let mut tensors: Vec<Vec<Src>> = Vec::with_capacity(graph.nodes.len() + 1);
    // The input's bound rows follow the nodes; lay them first so that every consumer of the
    // input copies a bounded cell (and an output that is an input element has a cell).
    let bounds_at: usize = graph
        .nodes
        .iter()
        .map(|n| crate::plan::node_rows(graph, n, config.linear.lanes()).0)
        .sum();
    walk.row = bounds_at;
    tensors.push(lay_input_bounds(
        config,
        &mut walk,
        graph,
        known(trace, 0)?,
    )?);
    let end = walk.row;
    walk.row = 0;
    for (ni, node) in graph.nodes.iter().enumerate() {
        let input_id = *node.inputs.first().ok_or(Error::Synthesis)?;
        let x_src = tensors.get(input_id).ok_or(Error::Synthesis)?.clone();
        let x_val = known(trace, input_id)?;
        let y_val = known(trace, ni + 1)?;
        let at = |vals: Option<&[i64]>, i: usize| -> Result<Option<i64>, Error> {
            match vals {
                None => Ok(None),
                Some(v) => v.get(i).copied().map(Some).ok_or(Error::Synthesis),
            }
        };
        let numel = node.out.numel();
        let mut out: Vec<Src> = Vec::with_capacity(numel);
        let ctx = || node_ctx(graph, &tensors, trace, corruption, ni);
        let start = walk.row;
        match &node.op {
            QOp::Linear {
                weight,
                bias,
                n_in,
                n_out,
            } => {
                let rows_in = x_src.len() / (*n_in).max(1);
                for r in 0..rows_in {
                    let xs = x_src
                        .get(r * n_in..(r + 1) * n_in)
                        .ok_or(Error::Synthesis)?;
                    let xv: Option<&[i64]> = match x_val {
                        Some(v) => Some(v.get(r * n_in..(r + 1) * n_in).ok_or(Error::Synthesis)?),
                        None => None,
                    };
                    let lane_values: Vec<Value<Fr>> = (0..*n_in)
                        .map(|i| value(xv.and_then(|v| v.get(i).copied())))
                        .collect();
                    for j in 0..*n_out {
                        let w = weight
                            .get(j * n_in..(j + 1) * n_in)
                            .ok_or(Error::Synthesis)?;
                        let b = *bias.get(j).ok_or(Error::Synthesis)?;
                        let lanes = config.linear.lanes();
                        let mut sums = xv.map(|xv| running_sums(xv, w, b, lanes));
                        if let (Some(CorruptionKind::LinearAcc(d)), Some(s)) =
                            (Corruption::at(corruption, ni, r * n_out + j), sums.as_mut())
                        {
                            if let Some(last) = s.last_mut() {
                                *last += d;
                            }
                        }
                        let (lane_cells, acc) = config.linear.assign_dot(
                            walk.region,
                            walk.row,
                            &lane_values,
                            w,
                            b,
                            sums.as_deref(),
                        )?;
                        walk.row += crate::chips::linear::LinearConfig::rows_per_dot(*n_in, lanes);
                        for (src, cell) in xs.iter().zip(lane_cells) {
                            walk.bind(*src, cell);
                        }
                        out.push(Src::Cell(acc));
                    }
                }
            }
            QOp::Rescale { shift } => {
                let y_bits = signed_bits(node.out.bound);
                let y_off = i128::from(node.out.bound);
                for (i, src) in x_src.iter().enumerate() {
                    let mut w = match (at(x_val, i)?, at(y_val, i)?) {
                        (Some(v), Some(y)) => Some((v, y, rescale_remainder(v, *shift))),
                        _ => None,
                    };
                    match (Corruption::at(corruption, ni, i), w.as_mut()) {
                        (Some(CorruptionKind::RescaleOutput(d)), Some(w)) => w.1 += d,
                        (Some(CorruptionKind::RescaleRemainder), Some(w)) => {
                            w.1 -= 1;
                            w.2 += 1i64 << shift;
                        }
                        _ => {}
                    }
                    let cells = config.rescale.assign(walk.region, walk.row, *shift, w)?;
                    walk.row += 1;
                    walk.bind(*src, cells.v);
                    let mut r = w.map(|w| i128::from(w.2));
                    if let (Some(CorruptionKind::InlineLimbs(d)), Some(r)) =
                        (Corruption::at(corruption, ni, i), r.as_mut())
                    {
                        *r += d;
                    }
                    config
                        .range
                        .assign_limbs(walk.region, walk.row - 1, r, *shift)?;
                    let y_cell = range_row(config, &mut walk, w.map(|w| w.1), y_off, y_bits)?;
                    walk.region.constrain_equal(cells.y, y_cell);
                    out.push(Src::Cell(cells.y));
                }
            }
            QOp::Relu => {
                let d_bits = bits(graph.tensor(input_id).map_or(node.out.bound, |t| t.bound));
                for (i, src) in x_src.iter().enumerate() {
                    let mut w = at(x_val, i)?.map(ReluWitness::new);
                    match (Corruption::at(corruption, ni, i), w.as_mut()) {
                        (Some(CorruptionKind::ReluSign), Some(w)) => {
                            w.s = 1 - w.s;
                            w.out = w.s * w.x;
                            w.d = (2 * w.s - 1) * w.x + w.s - 1;
                        }
                        (Some(CorruptionKind::ReluOutput(d)), Some(w)) => w.out += d,
                        _ => {}
                    }
                    let cells = config.relu.assign(walk.region, walk.row, w)?;
                    walk.bind(*src, cells.x);
                    walk.row += 1;
                    let mut d = w.map(|w| i128::from(w.d));
                    if let (Some(CorruptionKind::InlineLimbs(delta)), Some(d)) =
                        (Corruption::at(corruption, ni, i), d.as_mut())
                    {
                        *d += delta;
                    }
                    config
                        .range
                        .assign_limbs(walk.region, walk.row - 1, d, d_bits)?;
                    out.push(Src::Cell(cells.out));
                }
            }
            QOp::Add {
                coef_a,
                coef_b,
                constant,
            } => {
                let second = node.inputs.get(1).copied();
                let b_src = match second {
                    Some(id) => Some(tensors.get(id).ok_or(Error::Synthesis)?.clone()),
                    None => None,
                };
                let b_val = match second {
                    Some(id) => known(trace, id)?,
                    None => None,
                };
                for (i, src) in x_src.iter().enumerate() {
                    let c = if constant.is_empty() {
                        0
                    } else {
                        *constant.get(i).ok_or(Error::Synthesis)?
                    };
                    let bv = if second.is_some() {
                        at(b_val, i)?
                    } else {
                        at(x_val, i)?.map(|_| 0)
                    };
                    let mut w = match (at(x_val, i)?, bv, at(y_val, i)?) {
                        (Some(a), Some(b), Some(y)) => Some((a, b, y)),
                        _ => None,
                    };
                    if let (Some(CorruptionKind::AddOutput(d)), Some(w)) =
                        (Corruption::at(corruption, ni, i), w.as_mut())
                    {
                        w.2 += d;
                    }
                    // Without a second operand `b` is 0 by definition: its coefficient is 0 too,
                    // so the (otherwise unconstrained) `b` cell cannot reach `out`.
                    let coefs = AddCoefs {
                        ca: *coef_a,
                        cb: if second.is_some() { *coef_b } else { 0 },
                        c,
                    };
                    let cells = config.add.assign(walk.region, walk.row, coefs, w)?;
                    walk.row += 1;
                    walk.bind(*src, cells.a);
                    if let Some(bs) = &b_src {
                        walk.bind(*bs.get(i).ok_or(Error::Synthesis)?, cells.b);
                    }
                    out.push(Src::Cell(cells.out));
                }
            }
            QOp::Reshape => out = x_src,
            QOp::Lookup { table } => out = lay::lookup::lay(config, &mut walk, &ctx()?, *table)?,
            QOp::Max { group } => out = lay::max::lay(config, &mut walk, &ctx()?, *group)?,
            QOp::Div { shift } => out = lay::div::lay(config, &mut walk, &ctx()?, *shift)?,
            QOp::Conv { weight, bias, geom } => {
                let io = NodeIo::new(ni, node, &tensors, trace, corruption)?;
                out = lay::conv::conv(config, &mut walk, &io, weight, bias, geom)?;
            }
            QOp::MatMul { batch, m, k, n } => {
                let io = NodeIo::new(ni, node, &tensors, trace, corruption)?;
                out = lay::matmul::matmul(config, &mut walk, &io, [*batch, *m, *k, *n])?;
            }
            QOp::Mul => {
                let io = NodeIo::new(ni, node, &tensors, trace, corruption)?;
                out = lay::arith::mul(config, &mut walk, &io)?;
            }
            QOp::MulConst { factor } => {
                let io = NodeIo::new(ni, node, &tensors, trace, corruption)?;
                out = lay::arith::mul_const(config, &mut walk, &io, factor)?;
            }
            QOp::Select { index } => {
                let io = NodeIo::new(ni, node, &tensors, trace, corruption)?;
                out = lay::select::select(&io, index)?;
            }
        }
        if out.len() != numel {
            return Err(Error::Synthesis);
        }
        debug_assert_eq!(
            walk.row - start,
            crate::plan::node_rows(graph, node, config.linear.lanes()).0,
            "the planner's row count for node {ni} ({})",
            node.op.kind()
        );
        tensors.push(out);
    }
    // The nodes must end exactly where the bound rows start, or rows would overlap.
    if walk.row != bounds_at {
        return Err(Error::Synthesis);
    }
    walk.row = end;
    let outputs = tensors.get(graph.output).ok_or(Error::Synthesis)?;
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
/// lower rows' value cells: the input as the nodes see it.
fn lay_input_bounds(
    config: &ModelConfig,
    walk: &mut Walk<'_, '_>,
    graph: &QGraph,
    input: Option<&[i64]>,
) -> Result<Vec<Src>, Error> {
    let bound = i128::from(graph.input.bound);
    let bits = signed_bits(graph.input.bound);
    let mut cells = Vec::with_capacity(graph.input.numel());
    for i in 0..graph.input.numel() {
        let x = element(input, i)?.map(i128::from);
        let lower = range_row_i128(config, walk, x, bound, bits)?;
        walk.bindings.instance_copies.push((lower, i));
        let row = walk.row;
        walk.row += 1;
        let witness = x.map(|x| config.range.witness(bound - x, bits));
        let upper = config.range.assign_upper(
            walk.region,
            row,
            value_i128(x),
            bound,
            bits,
            witness.as_ref(),
        )?;
        walk.bindings.instance_copies.push((upper, i));
        cells.push(Src::Cell(lower));
    }
    Ok(cells)
}

/// Assigns one range-check row for `value + offset ∈ [0, 2^bits)` and advances.
pub(crate) fn range_row(
    config: &ModelConfig,
    walk: &mut Walk<'_, '_>,
    v: Option<i64>,
    offset: i128,
    bits: u32,
) -> Result<Cell, Error> {
    range_row_i128(config, walk, v.map(i128::from), offset, bits)
}

/// [`range_row`] for a value that may not fit in i64 (a dishonest remainder).
pub(crate) fn range_row_i128(
    config: &ModelConfig,
    walk: &mut Walk<'_, '_>,
    v: Option<i128>,
    offset: i128,
    bits: u32,
) -> Result<Cell, Error> {
    let at = walk.row;
    walk.row += 1;
    let witness = v.map(|v| config.range.witness(v + offset, bits));
    config.range.assign(
        walk.region,
        at,
        value_i128(v),
        offset,
        bits,
        witness.as_ref(),
    )
}

/// The context of node `index`: its operands' sources and values, and its output values.
fn node_ctx<'a>(
    graph: &'a QGraph,
    tensors: &'a [Vec<Src>],
    trace: Option<&'a Trace>,
    corruption: Option<&'a Corruption>,
    index: usize,
) -> Result<NodeCtx<'a>, Error> {
    let node = graph.nodes.get(index).ok_or(Error::Synthesis)?;
    let operands = node
        .inputs
        .iter()
        .map(|&id| {
            Ok(Operand {
                src: tensors.get(id).ok_or(Error::Synthesis)?,
                val: known(trace, id)?,
                desc: graph.tensor(id).ok_or(Error::Synthesis)?,
            })
        })
        .collect::<Result<_, Error>>()?;
    Ok(NodeCtx {
        graph,
        index,
        node,
        operands,
        out: known(trace, index + 1)?,
        corruption,
    })
}
