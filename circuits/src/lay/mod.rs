//! Per-op layout, one file per op. Each file says how many rows its op takes (`rows`) and
//! lays one node out from its [`NodeCtx`] on the chips it uses (`lay`), returning where its
//! output elements live. This module is the one place that maps a [`QOp`] to its file:
//! [`rows`] for the planner, [`lay`] for the layout of the whole graph.

pub(crate) mod add;
pub(crate) mod arith;
pub(crate) mod check;
pub(crate) mod commit;
pub(crate) mod conv;
pub(crate) mod ctx;
pub(crate) mod div;
pub(crate) mod element;
pub(crate) mod linear;
pub(crate) mod lookup;
pub(crate) mod matmul;
pub(crate) mod max;
pub(crate) mod params;
pub(crate) mod range_row;
pub(crate) mod relu;
pub(crate) mod rescale;
pub(crate) mod select;

use zkinfer_ir::{QGraph, QNode, QOp};

use crate::config::{DotShape, ModelConfig};
use crate::error::LayoutFault;
pub(crate) use ctx::{NodeCtx, Src, Walk};

/// Applies the test-only corruption aimed at output element `$i` of `$ctx`'s node through
/// `crate::corrupt::$site(kind, args..)`. Compiled out of every build without the
/// `test-utils` feature: the proving path has no test branch.
macro_rules! tamper {
    ($ctx:expr, $i:expr, $site:ident($($arg:expr),* $(,)?)) => {
        #[cfg(any(test, feature = "test-utils"))]
        {
            if let Some(kind) = $ctx.corruption_at($i) {
                $crate::corrupt::$site(kind, $($arg),*);
            }
        }
        #[cfg(not(any(test, feature = "test-utils")))]
        {
            let _ = ($i, $($arg),*);
        }
    };
}
pub(crate) use tamper;

/// Rows a node takes and the widest range check it needs (bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NodeRows {
    /// Rows of the model region.
    pub rows: usize,
    /// Widest range check (sets the number of limb columns).
    pub range_bits: u32,
}

impl NodeRows {
    /// `rows` rows with no range check.
    pub(crate) fn plain(rows: usize) -> Self {
        NodeRows {
            rows,
            range_bits: 0,
        }
    }
}

/// What an op's row count may depend on: the node, its operands' bounds and the linear
/// chip's row shape.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowsCtx<'a> {
    pub(crate) graph: &'a QGraph,
    pub(crate) node: &'a QNode,
    /// The linear chip's lanes and accumulators per row.
    pub(crate) shape: DotShape,
}

impl RowsCtx<'_> {
    /// Elements of the node's output.
    pub(crate) fn numel(&self) -> usize {
        self.node.out.numel()
    }

    /// Static bound of operand `i` (the node's own bound if it is missing).
    pub(crate) fn operand_bound(&self, i: usize) -> u64 {
        self.node
            .inputs
            .get(i)
            .and_then(|&t| self.graph.tensor(t))
            .map_or(self.node.out.bound, |t| t.bound)
    }
}

/// Rows of `node` laid out with the linear chip's `shape`.
pub(crate) fn rows(graph: &QGraph, node: &QNode, shape: DotShape) -> NodeRows {
    let rc = RowsCtx { graph, node, shape };
    match &node.op {
        QOp::Linear { n_in, n_out, .. } => linear::rows(&rc, *n_in, *n_out),
        QOp::Rescale { shift } => rescale::rows(&rc, *shift),
        QOp::Relu => relu::rows(&rc),
        QOp::Add { .. } => add::rows(&rc),
        QOp::Reshape | QOp::Select { .. } => NodeRows::default(),
        QOp::Lookup { .. } => lookup::rows(&rc),
        QOp::Max { group } => max::rows(&rc, *group),
        QOp::Div { .. } => div::rows(&rc),
        QOp::Conv { geom, .. } => conv::rows(&rc, geom),
        QOp::MatMul { batch, m, k, n } => matmul::rows(&rc, [*batch, *m, *k, *n]),
        QOp::Mul | QOp::MulConst { .. } => arith::rows(&rc),
        QOp::Elementwise { op } => element::rows(&rc, *op),
        QOp::Check { lo, hi } => check::rows(&rc, *lo, *hi),
    }
}

/// Whether `op`'s rows leave pool column 0 and the range-check columns idle (the linear
/// chip's rows): standalone range checks may sit on them (`plan::side_rows`).
pub(crate) fn leaves_range_idle(op: &QOp) -> bool {
    matches!(op, QOp::Linear { .. } | QOp::Conv { .. })
}

/// The configured optional chip, or the fault naming it.
fn chip<'c, T>(config: &'c Option<T>, name: &'static str) -> Result<&'c T, LayoutFault> {
    config.as_ref().ok_or(LayoutFault::MissingChip(name))
}

/// Lays out the node of `ctx` at `walk`'s row on the chips its op uses; returns where its
/// output elements live.
pub(crate) fn lay(
    config: &ModelConfig,
    walk: &mut Walk<'_, '_>,
    ctx: &NodeCtx<'_>,
) -> Result<Vec<Src>, LayoutFault> {
    let range = &config.range;
    match &ctx.node.op {
        QOp::Linear {
            weight,
            bias,
            n_in,
            n_out,
        } => linear::lay(&config.linear, walk, ctx, weight, bias, [*n_in, *n_out]),
        QOp::Rescale { shift } => rescale::lay(&config.rescale, range, walk, ctx, *shift),
        QOp::Relu => relu::lay(&config.relu, range, walk, ctx),
        QOp::Add {
            coef_a,
            coef_b,
            constant,
        } => add::lay(&config.add, walk, ctx, [*coef_a, *coef_b], constant),
        QOp::Reshape => Ok(ctx.operand(0)?.src.to_vec()),
        QOp::Lookup { table } => lookup::lay(chip(&config.lookup, "lookup")?, walk, ctx, *table),
        QOp::Max { group } => max::lay(chip(&config.max, "max")?, range, walk, ctx, *group),
        QOp::Div { shift } => div::lay(chip(&config.div, "division")?, range, walk, ctx, *shift),
        QOp::Conv { weight, bias, geom } => {
            conv::lay(&config.linear, walk, ctx, weight, bias, geom)
        }
        QOp::MatMul { batch, m, k, n } => {
            let bilinear = chip(&config.bilinear, "bilinear")?;
            matmul::lay(bilinear, &config.add, walk, ctx, [*batch, *m, *k, *n])
        }
        QOp::Mul => arith::mul(&config.add, walk, ctx),
        QOp::MulConst { factor } => arith::mul_const(&config.add, walk, ctx, factor),
        QOp::Select { index } => select::lay(ctx, index),
        QOp::Elementwise { op } => element::lay(config, walk, ctx, *op),
        QOp::Check { lo, hi } => check::lay(range, walk, ctx, *lo, *hi),
    }
}
