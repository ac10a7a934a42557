//! Layout of `Lookup`: one function-table row per element, `x` copied from the source and
//! `y` the output.

use halo2_proofs::plonk::Error;

use crate::circuit::ModelConfig;
use crate::corrupt::CorruptionKind;
use crate::layout::{element, NodeCtx, Src, Walk};

/// Lays out `y[i] = tables[table](x[i])`.
pub(crate) fn lay(
    config: &ModelConfig,
    walk: &mut Walk<'_, '_>,
    ctx: &NodeCtx<'_>,
    table: usize,
) -> Result<Vec<Src>, Error> {
    // Without the function table configured, or with a table the graph lacks, no honest
    // witness could pass: refuse to build the circuit at all.
    let chip = config.lookup.as_ref().ok_or(Error::Synthesis)?;
    if table >= ctx.graph.tables.len() {
        return Err(Error::Synthesis);
    }
    let x = ctx.operand(0)?;
    let numel = ctx.node.out.numel();
    if x.src.len() != numel {
        return Err(Error::Synthesis);
    }
    let mut out = Vec::with_capacity(numel);
    for i in 0..numel {
        let mut w = match (x.at(i)?, element(ctx.out, i)?) {
            (Some(xv), Some(yv)) => Some((xv, yv)),
            _ => None,
        };
        if let (Some(CorruptionKind::LookupOutput(d)), Some(w)) = (ctx.corruption_at(i), w.as_mut())
        {
            w.1 += d;
        }
        let cells = chip.assign(walk.region, walk.row, table, w)?;
        walk.row += 1;
        walk.bind(x.src(i)?, cells.x);
        out.push(Src::Cell(cells.y));
    }
    Ok(out)
}
