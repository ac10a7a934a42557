//! Mul and MulConst on the arithmetic gate, one row per element.
//!
//! `Mul`: `out = a·b` (`cm = 1`), both operands copied from their sources.
//! `MulConst`: `out = factor·x` (`ca = factor`); the `b` cell is copied from the same
//! source as `a`, so no cell of the row is left free.

use halo2_proofs::plonk::Error;

use crate::chips::add::ArithCoefs;
use crate::circuit::ModelConfig;
use crate::corrupt::CorruptionKind;
use crate::lay::node_io::{at, NodeIo};
use crate::layout::{Src, Walk};

/// Rows of an elementwise op on `numel` elements.
pub(crate) fn rows(numel: usize) -> usize {
    numel
}

/// `y[i] = a[i] * b[i]`.
pub(crate) fn mul(
    config: &ModelConfig,
    walk: &mut Walk<'_, '_>,
    io: &NodeIo<'_>,
) -> Result<Vec<Src>, Error> {
    let (a_src, a_val) = io.operand(0)?;
    let (b_src, b_val) = io.operand(1)?;
    if a_src.len() != b_src.len() {
        return Err(Error::Synthesis);
    }
    let start = walk.row;
    let coefs = ArithCoefs {
        cm: 1,
        ..ArithCoefs::default()
    };
    let mut out = Vec::with_capacity(a_src.len());
    for (i, (a, b)) in a_src.iter().zip(b_src).enumerate() {
        let mut w = match (at(a_val, i)?, at(b_val, i)?, at(io.out, i)?) {
            (Some(a), Some(b), Some(y)) => Some((a, b, y)),
            _ => None,
        };
        match (io.corruption(i), w.as_mut()) {
            (Some(CorruptionKind::MulOutput(d)), Some(w)) => w.2 += d,
            (Some(CorruptionKind::MulOperandB(d)), Some(w)) => {
                w.1 += d;
                w.2 = w.0.wrapping_mul(w.1);
            }
            _ => {}
        }
        let cells = config.add.assign_arith(walk.region, walk.row, coefs, w)?;
        walk.row += 1;
        walk.bind(*a, cells.a);
        walk.bind(*b, cells.b);
        out.push(Src::Cell(cells.out));
    }
    NodeIo::check_rows(walk, start, rows(a_src.len()))?;
    Ok(out)
}

/// `y[i] = factor[i] * x[i]`.
pub(crate) fn mul_const(
    config: &ModelConfig,
    walk: &mut Walk<'_, '_>,
    io: &NodeIo<'_>,
    factor: &[i64],
) -> Result<Vec<Src>, Error> {
    let (x_src, x_val) = io.operand(0)?;
    if factor.len() != x_src.len() {
        return Err(Error::Synthesis);
    }
    let start = walk.row;
    let mut out = Vec::with_capacity(x_src.len());
    for (i, (x, f)) in x_src.iter().zip(factor).enumerate() {
        let mut w = match (at(x_val, i)?, at(io.out, i)?) {
            (Some(x), Some(y)) => Some((x, x, y)),
            _ => None,
        };
        if let (Some(CorruptionKind::MulOutput(d)), Some(w)) = (io.corruption(i), w.as_mut()) {
            w.2 += d;
        }
        let coefs = ArithCoefs {
            ca: *f,
            ..ArithCoefs::default()
        };
        let cells = config.add.assign_arith(walk.region, walk.row, coefs, w)?;
        walk.row += 1;
        walk.bind(*x, cells.a);
        walk.bind(*x, cells.b);
        out.push(Src::Cell(cells.out));
    }
    NodeIo::check_rows(walk, start, rows(x_src.len()))?;
    Ok(out)
}
