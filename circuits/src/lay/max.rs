//! Layout of `Max`: per group, its max-chip rows, then one range row per gap `d_i`.

use halo2_proofs::plonk::Error;

use crate::circuit::ModelConfig;
use crate::corrupt::CorruptionKind;
use crate::layout::{element, range_row_i128, NodeCtx, Src, Walk};
use crate::plan::bits;

/// Rows of one group of `group` elements: the chip rows and the gaps' range rows.
pub(crate) fn rows_per_group(group: usize) -> usize {
    2 * group
}

/// Bits of the gap range check for an input bounded by `bound`: `0 ≤ d ≤ 2·bound`.
pub(crate) fn gap_bits(bound: u64) -> u32 {
    bits(bound.saturating_mul(2))
}

/// Lays out `y[g] = max(x[g·group .. (g+1)·group])`; the output is each group's last `m`.
pub(crate) fn lay(
    config: &ModelConfig,
    walk: &mut Walk<'_, '_>,
    ctx: &NodeCtx<'_>,
    group: usize,
) -> Result<Vec<Src>, Error> {
    let x = ctx.operand(0)?;
    let numel = ctx.node.out.numel();
    if group == 0 || x.src.len() != numel * group {
        return Err(Error::Synthesis);
    }
    let d_bits = gap_bits(x.desc.bound);
    let mut out = Vec::with_capacity(numel);
    for g in 0..numel {
        let base = g * group;
        // Each row's (m, x): the claimed max is the trace's output.
        let mut rows: Option<Vec<(i64, i64)>> = match element(ctx.out, g)? {
            Some(m) => (0..group)
                .map(|i| Ok(x.at(base + i)?.map(|xi| (m, xi))))
                .collect::<Result<Vec<_>, Error>>()?
                .into_iter()
                .collect(),
            None => None,
        };
        match (ctx.corruption_at(g), rows.as_mut()) {
            (Some(CorruptionKind::MaxClaim(delta)), Some(rows)) => {
                rows.iter_mut().for_each(|r| r.0 += delta);
            }
            (Some(CorruptionKind::MaxLastRow), Some(rows)) => {
                if let Some(last) = rows.last_mut() {
                    last.0 = last.1;
                }
            }
            _ => {}
        }
        let cells = config.max.as_ref().ok_or(Error::Synthesis)?.assign_group(
            walk.region,
            walk.row,
            group,
            rows.as_deref(),
        )?;
        walk.row += group;
        for (i, c) in cells.iter().enumerate() {
            walk.bind(x.src(base + i)?, c.x);
        }
        for (i, c) in cells.iter().enumerate() {
            let d = rows
                .as_ref()
                .and_then(|r| r.get(i))
                .map(|&(m, xi)| i128::from(m) - i128::from(xi));
            let d_cell = range_row_i128(config, walk, d, 0, d_bits)?;
            walk.region.constrain_equal(c.d, d_cell);
        }
        out.push(Src::Cell(cells.last().ok_or(Error::Synthesis)?.m));
    }
    Ok(out)
}
