//! Layout of `Max`: per group, its max-chip rows, then one range row per gap `d_i`.

use crate::chips::max::MaxConfig;
use crate::chips::range::RangeConfig;
use crate::error::LayoutFault;
use crate::field::bits;
use crate::lay::ctx::{NodeCtx, Src, Walk};
use crate::lay::range_row::range_row_i128;
use crate::lay::{tamper, NodeRows, RowsCtx};

/// Rows: per group of `group` elements, the chip rows and the gaps' range rows.
pub(crate) fn rows(rc: &RowsCtx<'_>, group: usize) -> NodeRows {
    NodeRows {
        rows: rc.numel() * rows_per_group(group),
        range_bits: gap_bits(rc.operand_bound(0)),
    }
}

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
    max: &MaxConfig,
    range: &RangeConfig,
    walk: &mut Walk<'_, '_>,
    ctx: &NodeCtx<'_>,
    group: usize,
) -> Result<Vec<Src>, LayoutFault> {
    let x = ctx.operand(0)?;
    let numel = ctx.numel();
    if group == 0 {
        return Err(LayoutFault::Parameter(
            "a Max group needs at least one element",
        ));
    }
    x.expect_len(numel * group)?;
    let d_bits = gap_bits(x.desc.bound);
    let mut out = Vec::with_capacity(numel);
    for g in 0..numel {
        let base = g * group;
        // Each row's (m, x): the claimed max is the trace's output.
        let mut rows: Option<Vec<(i64, i64)>> = match ctx.out_at(g)? {
            Some(m) => (0..group)
                .map(|i| Ok(x.at(base + i)?.map(|xi| (m, xi))))
                .collect::<Result<Vec<_>, LayoutFault>>()?
                .into_iter()
                .collect(),
            None => None,
        };
        tamper!(ctx, g, max(&mut rows));
        let row = walk.take(group);
        let cells = max.assign_group(walk.region, row, group, rows.as_deref())?;
        for (i, c) in cells.iter().enumerate() {
            walk.bind(x.src(base + i)?, c.x);
        }
        for (i, c) in cells.iter().enumerate() {
            let d = rows
                .as_ref()
                .and_then(|r| r.get(i))
                .map(|&(m, xi)| i128::from(m) - i128::from(xi));
            let d_cell = range_row_i128(range, walk, d, 0, d_bits)?;
            walk.region.constrain_equal(c.d, d_cell);
        }
        let last = cells
            .last()
            .ok_or(LayoutFault::Parameter("an empty Max group"))?;
        out.push(Src::Cell(last.m));
    }
    Ok(out)
}
