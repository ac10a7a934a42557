//! Layouts of the exact elementwise family ([`ElementOp`]): one arm per op, each in a file
//! of its own built from the existing chips.

use zkinfer_ir::ElementOp;

use crate::circuit::ModelConfig;
use crate::error::LayoutFault;
use crate::lay::ctx::{NodeCtx, Src, Walk};
use crate::lay::{NodeRows, RowsCtx};

/// Rows of an elementwise node.
pub(crate) fn rows(_rc: &RowsCtx<'_>, op: ElementOp) -> NodeRows {
    match op {}
}

/// Lays out `y[i] = op(x[i])`.
pub(crate) fn lay(
    _config: &ModelConfig,
    _walk: &mut Walk<'_, '_>,
    _ctx: &NodeCtx<'_>,
    op: ElementOp,
) -> Result<Vec<Src>, LayoutFault> {
    match op {}
}
