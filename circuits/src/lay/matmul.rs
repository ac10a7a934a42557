//! MatMul on the bilinear chip: one dot product per output element, in the index order of
//! `semantics::matmul` (`a [batch, m, k]`, `b [batch, k, n]`, `y [batch, m, n]`).
//!
//! When a dot product's last row has padding lanes, the node starts with one arithmetic row
//! whose coefficients are all 0, which pins its `out` cell to 0; every padding lane is
//! copied from that cell (and so are the row's own `a` and `b`, leaving no cell free).

use halo2_proofs::circuit::Value;
use halo2_proofs::halo2curves::bn256::Fr;

use crate::chips::add::{AddConfig, ArithCoefs};
use crate::chips::bilinear::{bilinear_sums, BilinearConfig};
use crate::config::DotShape;
use crate::error::LayoutFault;
use crate::field::fr_from_i64;
use crate::lay::ctx::{element, NodeCtx, Src, Walk};
use crate::lay::{tamper, NodeRows, RowsCtx};

/// Rows of a MatMul laid out with `rc.lanes` linear lanes (the pool width follows from them).
pub(crate) fn rows(rc: &RowsCtx<'_>, [batch, m, k, n]: [usize; 4]) -> NodeRows {
    NodeRows::plain(rows_for(batch, m, k, n, rc.shape))
}

/// [`rows`] of a `[batch, m, k] x [batch, k, n]` MatMul beside a linear chip of `shape`.
pub(crate) fn rows_for(batch: usize, m: usize, k: usize, n: usize, shape: DotShape) -> usize {
    rows_with(
        batch,
        m,
        k,
        n,
        BilinearConfig::lanes_for(shape.pool_width()),
    )
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
fn gather(vals: Option<&[i64]>, idx: &[usize]) -> Result<Option<Vec<i64>>, LayoutFault> {
    match vals {
        None => Ok(None),
        Some(_) => idx
            .iter()
            .map(|&i| element(vals, i).map(Option::unwrap_or_default))
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
pub(crate) fn lay(
    bilinear: &BilinearConfig,
    arith: &AddConfig,
    walk: &mut Walk<'_, '_>,
    ctx: &NodeCtx<'_>,
    [batch, m, k, n]: [usize; 4],
) -> Result<Vec<Src>, LayoutFault> {
    let (a, b) = (ctx.operand(0)?, ctx.operand(1)?);
    a.expect_len(batch * m * k)?;
    b.expect_len(batch * k * n)?;
    let h = bilinear.lanes();
    let dots = batch * m * n;
    let padded = BilinearConfig::has_padding(k, h);
    let zero = if dots > 0 && padded {
        let row = walk.take(1);
        let cells = arith.assign_arith(walk.region, row, ArithCoefs::default(), Some((0, 0, 0)))?;
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
                let mut av = gather(a.val, &a_idx)?;
                let mut bv = gather(b.val, &b_idx)?;
                tamper!(ctx, e, matmul_lanes(&mut av, &mut bv, padded));
                let mut sums = match (&av, &bv) {
                    (Some(a), Some(b)) => Some(bilinear_sums(a, b, h)),
                    _ => None,
                };
                tamper!(ctx, e, dot_sums(&mut sums));
                let row = walk.take(BilinearConfig::rows_per_dot(k, h));
                let cells = bilinear.assign_dot(
                    walk.region,
                    row,
                    k,
                    &lane_values(av.as_deref(), k),
                    &lane_values(bv.as_deref(), k),
                    sums.as_deref(),
                    zero,
                )?;
                for (&x, cell) in a_idx.iter().zip(cells.a) {
                    walk.bind(a.src(x)?, cell);
                }
                for (&x, cell) in b_idx.iter().zip(cells.b) {
                    walk.bind(b.src(x)?, cell);
                }
                out.push(Src::Cell(cells.acc));
            }
        }
    }
    Ok(out)
}
