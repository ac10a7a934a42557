//! Layout of `Div`: per element, the division row, then the range rows of `t` (read by the
//! division gate at the next row), `r` and `y`.

use halo2_proofs::plonk::Error;

use crate::chips::div::DivWitness;
use crate::circuit::ModelConfig;
use crate::corrupt::CorruptionKind;
use crate::layout::{element, range_row, range_row_i128, NodeCtx, Src, Walk};
use crate::plan::{bits, signed_bits};

/// Rows per element: the division row and three range rows.
pub(crate) const ROWS_PER_ELEMENT: usize = 4;

/// Largest shift the reference semantics accepts.
pub(crate) const MAX_SHIFT: u32 = 62;

/// Bits of the range checks on `r` and `t` for a divisor bounded by `bound`: both lie in
/// `[0, 2b - 1]`, and `2^c > 2·bound`.
pub(crate) fn remainder_bits(bound: u64) -> u32 {
    bits(bound.saturating_mul(2))
}

/// Lays out `y[i] = floor((a[i]·2^(shift+1) + b[i]) / (2·b[i]))`.
pub(crate) fn lay(
    config: &ModelConfig,
    walk: &mut Walk<'_, '_>,
    ctx: &NodeCtx<'_>,
    shift: u32,
) -> Result<Vec<Src>, Error> {
    // The gate reads `t` from the next row's range value: they must be one column.
    let chip = config.div.as_ref().ok_or(Error::Synthesis)?;
    if shift > MAX_SHIFT || chip.t != config.range.value {
        return Err(Error::Synthesis);
    }
    let (a, b) = (ctx.operand(0)?, ctx.operand(1)?);
    let numel = ctx.node.out.numel();
    if a.src.len() != numel || b.src.len() != numel {
        return Err(Error::Synthesis);
    }
    let c = remainder_bits(b.desc.bound);
    let y_bits = signed_bits(ctx.node.out.bound);
    let y_off = i128::from(ctx.node.out.bound);
    let mut out = Vec::with_capacity(numel);
    for i in 0..numel {
        let mut w = match (a.at(i)?, b.at(i)?, element(ctx.out, i)?) {
            (Some(av), Some(bv), Some(y)) => Some(DivWitness::with_quotient(av, bv, y, shift)),
            _ => None,
        };
        match (ctx.corruption_at(i), w.as_mut()) {
            (Some(CorruptionKind::DivOutput(d)), Some(w)) => w.y += d,
            (Some(CorruptionKind::DivQuotient(d)), Some(w)) => {
                w.y += d;
                w.r -= 2 * i128::from(w.b) * i128::from(d);
            }
            _ => {}
        }
        let cells = chip.assign(walk.region, walk.row, shift, w)?;
        walk.row += 1;
        // This row holds `t`: the division gate on the row above reads it by rotation.
        range_row_i128(config, walk, w.map(|w| w.t()), 0, c)?;
        let r_cell = range_row_i128(config, walk, w.map(|w| w.r), 0, c)?;
        walk.region.constrain_equal(cells.r, r_cell);
        let y_cell = range_row(config, walk, w.map(|w| w.y), y_off, y_bits)?;
        walk.region.constrain_equal(cells.y, y_cell);
        walk.bind(a.src(i)?, cells.a);
        walk.bind(b.src(i)?, cells.b);
        out.push(Src::Cell(cells.y));
    }
    Ok(out)
}
