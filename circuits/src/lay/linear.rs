//! Layout of `Linear`: per input row, the output units in groups of `M` (the linear chip's
//! accumulators), each group one run of rows whose lanes are copied once from the input row,
//! against each unit's weights plus its bias (fixed cells, or advice copied from the checked
//! parameter cells).

use halo2_proofs::circuit::Value;
use halo2_proofs::halo2curves::bn256::Fr;

use crate::chips::linear::{running_sums, DotSpec, LinearConfig};
use crate::error::LayoutFault;
use crate::lay::ctx::{bind_dot_params, bind_idle_params, expect_len, value, NodeCtx, Src, Walk};
use crate::lay::{tamper, NodeRows, RowsCtx};

/// A parameter tensor whose cells do not match the op's parameters.
const LENGTH: LayoutFault = LayoutFault::Parameter("parameter cells of the wrong length");

/// Rows: per input row, `ceil(n_out / M)` groups of `ceil(n_in / K)` rows.
pub(crate) fn rows(rc: &RowsCtx<'_>, n_in: usize, n_out: usize) -> NodeRows {
    let rows_in = rc.numel() / n_out.max(1);
    let s = rc.shape;
    NodeRows::plain(rows_in * LinearConfig::rows_for(n_out, n_in, s.lanes, s.outs))
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
    let (lanes, outs) = (linear.lanes(), linear.outs());
    let mut out = Vec::with_capacity(rows_in * n_out);
    for r in 0..rows_in {
        let xs = &x.src[r * n_in..(r + 1) * n_in];
        let xv: Option<&[i64]> = x.val.map(|v| &v[r * n_in..(r + 1) * n_in]);
        #[allow(unused_mut)]
        let mut lane_values: Vec<Value<Fr>> = (0..n_in)
            .map(|i| value(xv.and_then(|v| v.get(i).copied())))
            .collect();
        for j0 in (0..n_out).step_by(outs) {
            let units = j0..(j0 + outs).min(n_out);
            let mut ws = Vec::with_capacity(units.len());
            let mut sums = Vec::with_capacity(units.len());
            for j in units.clone() {
                #[allow(unused_mut)]
                let mut w = weight[j * n_in..(j + 1) * n_in].to_vec();
                let b = bias[j];
                let mut s = xv.map(|xv| running_sums(xv, &w, b, lanes));
                tamper!(ctx, r * n_out + j, dot_weight(&mut w, &mut s, xv, b, lanes));
                tamper!(ctx, r * n_out + j, dot_sums(&mut s));
                tamper!(
                    ctx,
                    r * n_out + j,
                    dot_pad(&mut w, &mut lane_values, &mut s, lanes)
                );
                ws.push(w);
                sums.push(s);
            }
            #[allow(unused_mut)]
            let mut idle: Vec<(Vec<i64>, Option<Vec<i64>>)> = Vec::new();
            tamper!(
                ctx,
                r * n_out + units.end - 1,
                idle_weight(&mut idle, xv, lanes, outs - units.len())
            );
            let specs: Vec<DotSpec<'_>> = units
                .clone()
                .map(|j| bias[j])
                .chain(idle.iter().map(|_| 0))
                .zip(ws.iter().chain(idle.iter().map(|(w, _)| w)))
                .zip(sums.iter().chain(idle.iter().map(|(_, s)| s)))
                .map(|((b, w), s)| DotSpec {
                    w,
                    bias: b,
                    sums: s.as_deref(),
                })
                .collect();
            let row = walk.take(LinearConfig::rows_per_dot(n_in, lanes));
            let group = linear.assign_group(walk.region, row, &lane_values, &specs)?;
            for (src, cell) in xs.iter().zip(&group.lanes) {
                walk.bind(*src, *cell);
            }
            if let Some(p) = &ctx.params {
                let (wc, bc) = (p.tensor(0)?, p.tensor(1)?);
                for (j, dot) in units.clone().zip(&group.dots) {
                    let weights = wc.get(j * n_in..(j + 1) * n_in).ok_or(LENGTH)?;
                    let bias = bc.get(j).copied().ok_or(LENGTH)?;
                    bind_dot_params(walk, dot, weights, bias, p.zero)?;
                }
                bind_idle_params(walk, group.dots.get(units.len()..), p.zero);
            }
            out.extend(
                group
                    .dots
                    .iter()
                    .take(units.len())
                    .map(|d| Src::Cell(d.out)),
            );
        }
    }
    Ok(out)
}
