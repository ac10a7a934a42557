//! MatMul on the bilinear chip: one dot product per output element, in the index order of
//! `semantics::matmul` (`a [batch, m, k]`, `b [batch, k, n]`, `y [batch, m, n]`).
//!
//! When a dot product's last row has padding lanes, the node starts with one arithmetic row
//! whose coefficients are all 0, which pins its `out` cell to 0; every padding lane is
//! copied from that cell (and so are the row's own `a` and `b`, leaving no cell free).

use halo2_proofs::circuit::Value;
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::Error;

use crate::chips::add::ArithCoefs;
use crate::chips::bilinear::{bilinear_sums, BilinearConfig};
use crate::circuit::ModelConfig;
use crate::corrupt::CorruptionKind;
use crate::field::fr_from_i64;
use crate::lay::node_io::NodeIo;
use crate::layout::{Src, Walk};
use crate::plan::CircuitParams;

/// Rows of a MatMul laid out with `lanes` linear lanes (the pool width follows from them).
pub(crate) fn rows(batch: usize, m: usize, k: usize, n: usize, lanes: usize) -> usize {
    let width = CircuitParams {
        lanes,
        ..CircuitParams::default()
    }
    .pool_width();
    rows_with(batch, m, k, n, BilinearConfig::lanes_for(width))
}

/// Rows of a MatMul over `h` bilinear lanes: an optional zero row, then the dot products.
fn rows_with(batch: usize, m: usize, k: usize, n: usize, h: usize) -> usize {
    let dots = batch * m * n;
    if dots == 0 {
        return 0;
    }
    let zero = usize::from(BilinearConfig::has_padding(k, h));
    zero + dots * BilinearConfig::rows_per_dot(k, h)
}

/// Gathers `vals[idx]` for every index, when the values are known.
fn gather(vals: Option<&[i64]>, idx: &[usize]) -> Result<Option<Vec<i64>>, Error> {
    match vals {
        None => Ok(None),
        Some(v) => idx
            .iter()
            .map(|&i| v.get(i).copied().ok_or(Error::Synthesis))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
    }
}

fn lane_values(vals: Option<&[i64]>, k: usize) -> Vec<Value<Fr>> {
    match vals {
        Some(v) => v.iter().map(|&x| Value::known(fr_from_i64(x))).collect(),
        None => vec![Value::unknown(); k],
    }
}

/// `y[bi, i, j] = Σ_t a[bi, i, t] * b[bi, t, j]`.
pub(crate) fn matmul(
    config: &ModelConfig,
    walk: &mut Walk<'_, '_>,
    io: &NodeIo<'_>,
    [batch, m, k, n]: [usize; 4],
) -> Result<Vec<Src>, Error> {
    let (a_src, a_val) = io.operand(0)?;
    let (b_src, b_val) = io.operand(1)?;
    if a_src.len() != batch * m * k || b_src.len() != batch * k * n {
        return Err(Error::Synthesis);
    }
    let bilinear = config.bilinear.as_ref().ok_or(Error::Synthesis)?;
    let h = bilinear.lanes();
    let start = walk.row;
    let dots = batch * m * n;
    let padded = BilinearConfig::has_padding(k, h);
    let zero = if dots > 0 && padded {
        let cells = config.add.assign_arith(
            walk.region,
            walk.row,
            ArithCoefs::default(),
            Some((0, 0, 0)),
        )?;
        walk.row += 1;
        walk.region.constrain_equal(cells.out, cells.a);
        walk.region.constrain_equal(cells.out, cells.b);
        Some(cells.out)
    } else {
        None
    };
    let mut out = Vec::with_capacity(dots);
    for bi in 0..batch {
        for i in 0..m {
            for j in 0..n {
                let e = (bi * m + i) * n + j;
                let a_idx: Vec<usize> = (0..k).map(|t| (bi * m + i) * k + t).collect();
                let b_idx: Vec<usize> = (0..k).map(|t| (bi * k + t) * n + j).collect();
                let mut av = gather(a_val, &a_idx)?;
                let mut bv = gather(b_val, &b_idx)?;
                let corruption = io.corruption(e);
                match (corruption, av.as_mut(), bv.as_mut()) {
                    (Some(CorruptionKind::DotLane(d)), Some(av), _) if k > 0 => av[0] += d,
                    (Some(CorruptionKind::MatMulPad(d)), Some(av), Some(bv)) if padded => {
                        av.push(1);
                        bv.push(d);
                    }
                    _ => {}
                }
                let mut sums = match (&av, &bv) {
                    (Some(a), Some(b)) => Some(bilinear_sums(a, b, h)),
                    _ => None,
                };
                if let (Some(CorruptionKind::MatMulAcc(d)), Some(s)) = (corruption, sums.as_mut()) {
                    if let Some(last) = s.last_mut() {
                        *last += d;
                    }
                }
                let cells = bilinear.assign_dot(
                    walk.region,
                    walk.row,
                    k,
                    &lane_values(av.as_deref(), k),
                    &lane_values(bv.as_deref(), k),
                    sums.as_deref(),
                    zero,
                )?;
                walk.row += BilinearConfig::rows_per_dot(k, h);
                for (&x, cell) in a_idx.iter().zip(cells.a) {
                    walk.bind(*a_src.get(x).ok_or(Error::Synthesis)?, cell);
                }
                for (&x, cell) in b_idx.iter().zip(cells.b) {
                    walk.bind(*b_src.get(x).ok_or(Error::Synthesis)?, cell);
                }
                out.push(Src::Cell(cells.acc));
            }
        }
    }
    NodeIo::check_rows(walk, start, rows_with(batch, m, k, n, h))?;
    Ok(out)
}
