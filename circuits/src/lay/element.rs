//! Layouts of the exact elementwise family ([`ElementOp`]): one arm per op, each in a file
//! of its own (`element/<op>.rs`), on its own chip or on the existing ones.

mod abs;

use zkinfer_ir::ElementOp;

use crate::config::ModelConfig;
use crate::error::LayoutFault;
use crate::lay::ctx::{NodeCtx, Src, Walk};
use crate::lay::{chip, NodeRows, RowsCtx};

/// Rows of an elementwise node.
pub(crate) fn rows(rc: &RowsCtx<'_>, op: ElementOp) -> NodeRows {
    match op {
        ElementOp::Abs => abs::rows(rc),
    }
}

/// Lays out `y[i] = op(x[i])`.
pub(crate) fn lay(
    config: &ModelConfig,
    walk: &mut Walk<'_, '_>,
    ctx: &NodeCtx<'_>,
    op: ElementOp,
) -> Result<Vec<Src>, LayoutFault> {
    match op {
        ElementOp::Abs => abs::lay(chip(&config.abs, "abs")?, &config.range, walk, ctx),
    }
}
