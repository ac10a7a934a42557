//! Layout of `Lookup`: one function-table row per element, `x` copied from the source and
//! `y` the output.

use crate::chips::lookup::LookupConfig;
use crate::error::LayoutFault;
use crate::lay::ctx::{NodeCtx, Src, Walk};
use crate::lay::{tamper, NodeRows, RowsCtx};

/// Rows: one per element (the table itself lives outside the model region).
pub(crate) fn rows(rc: &RowsCtx<'_>) -> NodeRows {
    NodeRows::plain(rc.numel())
}

/// Lays out `y[i] = tables[table](x[i])`.
pub(crate) fn lay(
    lookup: &LookupConfig,
    walk: &mut Walk<'_, '_>,
    ctx: &NodeCtx<'_>,
    table: usize,
) -> Result<Vec<Src>, LayoutFault> {
    // With a table the graph lacks no honest witness could pass: refuse to build the circuit.
    if table >= ctx.graph.tables.len() {
        return Err(LayoutFault::Parameter(
            "it names a table the model does not have",
        ));
    }
    let x = ctx.operand(0)?;
    x.expect_len(ctx.numel())?;
    let mut out = Vec::with_capacity(ctx.numel());
    for i in 0..ctx.numel() {
        let mut w = match (x.at(i)?, ctx.out_at(i)?) {
            (Some(xv), Some(yv)) => Some((xv, yv)),
            _ => None,
        };
        tamper!(ctx, i, lookup(&mut w));
        let row = walk.take(1);
        let cells = lookup.assign(walk.region, row, table, w)?;
        walk.bind(x.src(i)?, cells.x);
        out.push(Src::Cell(cells.y));
    }
    Ok(out)
}
