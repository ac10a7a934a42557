//! Layout of `Linear`: per input row and output unit, one dot product on the linear chip
//! whose lanes are copied from the input row, against the weights plus the bias (fixed
//! cells, or advice copied from the checked parameter cells).

use halo2_proofs::circuit::Value;
use halo2_proofs::halo2curves::bn256::Fr;

use crate::chips::linear::{running_sums, LinearConfig};
use crate::error::LayoutFault;
use crate::lay::ctx::{bind_dot_params, expect_len, value, NodeCtx, Src, Walk};
use crate::lay::{tamper, NodeRows, RowsCtx};

/// A parameter tensor whose cells do not match the op's parameters.
const LENGTH: LayoutFault = LayoutFault::Parameter("parameter cells of the wrong length");

/// Rows: one dot product of `n_in` lanes per output element.
pub(crate) fn rows(rc: &RowsCtx<'_>, n_in: usize, n_out: usize) -> NodeRows {
    let dots = rc.numel() / n_out.max(1) * n_out;
    NodeRows::plain(dots * LinearConfig::rows_per_dot(n_in, rc.lanes))
}

/// `y[r, j] = bias[j] + Σ_i weight[j, i] · x[r, i]`.
pub(crate) fn lay(
    linear: &LinearConfig,
    walk: &mut Walk<'_, '_>,
    ctx: &NodeCtx<'_>,
    weight: &[i64],
    bias: &[i64],
    [n_in, n_out]: [usize; 2],
) -> Result<Vec<Src>, LayoutFault> {
    let x = ctx.operand(0)?;
    if n_in == 0 || n_out == 0 {
        return Err(LayoutFault::Parameter("a Linear needs n_in, n_out >= 1"));
    }
    expect_len("weight", n_in * n_out, weight.len())?;
    expect_len("bias", n_out, bias.len())?;
    let rows_in = x.src.len() / n_in;
    x.expect_len(rows_in * n_in)?;
    let lanes = linear.lanes();
    let mut out = Vec::with_capacity(rows_in * n_out);
    for r in 0..rows_in {
        let xs = &x.src[r * n_in..(r + 1) * n_in];
        let xv: Option<&[i64]> = x.val.map(|v| &v[r * n_in..(r + 1) * n_in]);
        let lane_values: Vec<Value<Fr>> = (0..n_in)
            .map(|i| value(xv.and_then(|v| v.get(i).copied())))
            .collect();
        for j in 0..n_out {
            #[allow(unused_mut)]
            let mut w = weight[j * n_in..(j + 1) * n_in].to_vec();
            let b = bias[j];
            let mut sums = xv.map(|xv| running_sums(xv, &w, b, lanes));
            tamper!(
                ctx,
                r * n_out + j,
                dot_weight(&mut w, &mut sums, xv, b, lanes)
            );
            tamper!(ctx, r * n_out + j, dot_sums(&mut sums));
            #[cfg(any(test, feature = "test-utils"))]
            let lane_values = {
                let mut lanes_in = lane_values.clone();
                tamper!(
                    ctx,
                    r * n_out + j,
                    dot_pad(&mut w, &mut lanes_in, &mut sums, lanes)
                );
                lanes_in
            };
            let w = w.as_slice();
            let row = walk.take(LinearConfig::rows_per_dot(n_in, lanes));
            let dot = linear.assign_dot(walk.region, row, &lane_values, w, b, sums.as_deref())?;
            for (src, cell) in xs.iter().zip(&dot.lanes) {
                walk.bind(*src, *cell);
            }
            if let Some(p) = &ctx.params {
                let (wc, bc) = (p.tensor(0)?, p.tensor(1)?);
                let weights = wc.get(j * n_in..(j + 1) * n_in).ok_or(LENGTH)?;
                let bias = bc.get(j).copied().ok_or(LENGTH)?;
                bind_dot_params(walk, &dot, weights, bias, p.zero)?;
            }
            out.push(Src::Cell(dot.out));
        }
    }
    Ok(out)
}
