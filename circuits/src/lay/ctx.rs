//! What a per-op layout works with: the cursor over the model region ([`Walk`]), where each
//! tensor element lives ([`Src`]), and one node's operands and output ([`NodeCtx`]).

use halo2_proofs::circuit::{Cell, Region, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use zkinfer_ir::{QGraph, QNode, QTensor, Trace};

#[cfg(any(test, feature = "test-utils"))]
use crate::corrupt::{Corruption, CorruptionKind};
use crate::error::LayoutFault;
use crate::field::{fr_from_i128, fr_from_i64};

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
    /// Rows of other chips whose range columns are idle, last first: a standalone range
    /// row goes there before taking a row of its own ([`Walk::take_range_row`]).
    pub(crate) side: Vec<usize>,
}

impl Walk<'_, '_> {
    /// Copy-constrains `dst` to the element at `src`.
    pub(crate) fn bind(&mut self, src: Src, dst: Cell) {
        match src {
            Src::Cell(c) => self.region.constrain_equal(c, dst),
        }
    }

    /// The next free row; advances the cursor by `rows`.
    pub(crate) fn take(&mut self, rows: usize) -> usize {
        let at = self.row;
        self.row += rows;
        at
    }

    /// A row for one standalone range check: the next idle side row, else the next free row.
    pub(crate) fn take_range_row(&mut self) -> usize {
        self.side.pop().unwrap_or_else(|| self.take(1))
    }
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
    pub(crate) fn src(&self, i: usize) -> Result<Src, LayoutFault> {
        self.src.get(i).copied().ok_or(LayoutFault::Length {
            what: "operand",
            expected: i + 1,
            got: self.src.len(),
        })
    }

    /// The value of element `i`, if known.
    pub(crate) fn at(&self, i: usize) -> Result<Option<i64>, LayoutFault> {
        element(self.val, i)
    }

    /// Fails unless the operand has `n` elements.
    pub(crate) fn expect_len(&self, n: usize) -> Result<(), LayoutFault> {
        expect_len("operand", n, self.src.len())
    }
}

/// With advice parameters: a node's checked parameter cells (one list per tensor of
/// [`zkinfer_ir::qgraph::op_params`]) and a cell pinned to 0.
#[derive(Debug, Clone)]
pub(crate) struct NodeParams {
    /// The cells of each parameter tensor.
    pub(crate) tensors: Vec<Vec<Cell>>,
    /// A cell the circuit fixes to 0 (for padding weights).
    pub(crate) zero: Cell,
}

impl NodeParams {
    /// The cells of parameter tensor `i`.
    pub(crate) fn tensor(&self, i: usize) -> Result<&[Cell], LayoutFault> {
        self.tensors
            .get(i)
            .map(Vec::as_slice)
            .ok_or(LayoutFault::Parameter("a parameter tensor without cells"))
    }
}

/// Copy-constrains every advice weight and bias of the idle accumulators of a group (those
/// past its last output) to the zero cell. Nothing to do with fixed weights.
pub(crate) fn bind_idle_params(
    walk: &mut Walk<'_, '_>,
    idle: Option<&[crate::chips::linear::DotCells]>,
    zero: Cell,
) {
    for dot in idle.unwrap_or_default() {
        for cell in dot.bias.iter().chain(&dot.weights) {
            walk.region.constrain_equal(*cell, zero);
        }
    }
}

/// Copy-constrains the advice weights of `dot` to `weights` (the first `weights.len()`
/// cells; every further one, padding, to the zero cell) and its bias to `bias`. Nothing to
/// do with fixed weights.
pub(crate) fn bind_dot_params(
    walk: &mut Walk<'_, '_>,
    dot: &crate::chips::linear::DotCells,
    weights: &[Cell],
    bias: Cell,
    zero: Cell,
) -> Result<(), LayoutFault> {
    let Some(b) = dot.bias else {
        return Ok(());
    };
    walk.region.constrain_equal(b, bias);
    for (i, cell) in dot.weights.iter().enumerate() {
        walk.region
            .constrain_equal(*cell, weights.get(i).copied().unwrap_or(zero));
    }
    Ok(())
}

/// What a per-op layout in [`crate::lay`] sees of its node.
pub(crate) struct NodeCtx<'a> {
    /// The graph (for its tables and tensor descriptions).
    pub(crate) graph: &'a QGraph,
    /// The node.
    pub(crate) node: &'a QNode,
    /// Its operands, in order.
    pub(crate) operands: Vec<Operand<'a>>,
    /// Its output values (None during key generation).
    pub(crate) out: Option<&'a [i64]>,
    /// Its parameter cells, when parameters are advice.
    pub(crate) params: Option<NodeParams>,
    /// Index of the node in `QGraph::nodes` (what a corruption names).
    #[cfg(any(test, feature = "test-utils"))]
    pub(crate) index: usize,
    /// The test-only corruption, if any.
    #[cfg(any(test, feature = "test-utils"))]
    pub(crate) corruption: Option<Corruption>,
}

impl<'a> NodeCtx<'a> {
    /// The context of node `index`: its operands' sources and values (checked against each
    /// other) and its output values.
    pub(crate) fn new(
        graph: &'a QGraph,
        index: usize,
        tensors: &'a [Vec<Src>],
        trace: Option<&'a Trace>,
    ) -> Result<Self, LayoutFault> {
        let node = graph.nodes.get(index).ok_or(LayoutFault::MissingTensor {
            tensor: index + 1,
            place: "graph",
        })?;
        let operands = node
            .inputs
            .iter()
            .map(|&id| {
                let src = tensors.get(id).ok_or(LayoutFault::MissingTensor {
                    tensor: id,
                    place: "layout",
                })?;
                let val = known(trace, id)?;
                if let Some(v) = val {
                    expect_len("operand values", src.len(), v.len())?;
                }
                let desc = graph.tensor(id).ok_or(LayoutFault::MissingTensor {
                    tensor: id,
                    place: "graph",
                })?;
                Ok(Operand { src, val, desc })
            })
            .collect::<Result<_, LayoutFault>>()?;
        let out = known(trace, index + 1)?;
        if let Some(o) = out {
            expect_len("output values", node.out.numel(), o.len())?;
        }
        Ok(NodeCtx {
            graph,
            node,
            operands,
            out,
            params: None,
            #[cfg(any(test, feature = "test-utils"))]
            index,
            #[cfg(any(test, feature = "test-utils"))]
            corruption: None,
        })
    }

    /// Operand `i`.
    pub(crate) fn operand(&self, i: usize) -> Result<&Operand<'a>, LayoutFault> {
        self.operands
            .get(i)
            .ok_or(LayoutFault::MissingOperand { index: i })
    }

    /// Output value `i`, if known.
    pub(crate) fn out_at(&self, i: usize) -> Result<Option<i64>, LayoutFault> {
        element(self.out, i)
    }

    /// Elements of the node's output.
    pub(crate) fn numel(&self) -> usize {
        self.node.out.numel()
    }

    /// The corruption's kind if it targets output element `element` of this node.
    #[cfg(any(test, feature = "test-utils"))]
    pub(crate) fn corruption_at(&self, element: usize) -> Option<CorruptionKind> {
        Corruption::at(self.corruption.as_ref(), self.index, element)
    }
}

/// The values of tensor `id`, when proving.
pub(crate) fn known(trace: Option<&Trace>, id: usize) -> Result<Option<&[i64]>, LayoutFault> {
    match trace {
        None => Ok(None),
        Some(t) => t.get(id).map(Some).ok_or(LayoutFault::MissingTensor {
            tensor: id,
            place: "trace",
        }),
    }
}

/// Value `i` of `vals`, if known; an error if `vals` is known but too short.
pub(crate) fn element(vals: Option<&[i64]>, i: usize) -> Result<Option<i64>, LayoutFault> {
    match vals {
        None => Ok(None),
        Some(v) => v.get(i).copied().map(Some).ok_or(LayoutFault::Length {
            what: "values",
            expected: i + 1,
            got: v.len(),
        }),
    }
}

/// Fails unless `what` has `expected` elements.
pub(crate) fn expect_len(
    what: &'static str,
    expected: usize,
    got: usize,
) -> Result<(), LayoutFault> {
    if expected == got {
        Ok(())
    } else {
        Err(LayoutFault::Length {
            what,
            expected,
            got,
        })
    }
}

/// A known or unknown field value.
pub(crate) fn value(v: Option<i64>) -> Value<Fr> {
    v.map_or(Value::unknown(), |v| Value::known(fr_from_i64(v)))
}

/// A known or unknown field value from a 128-bit integer.
pub(crate) fn value_i128(v: Option<i128>) -> Value<Fr> {
    v.map_or(Value::unknown(), |v| Value::known(fr_from_i128(v)))
}
