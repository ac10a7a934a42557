//! Softmax and layer normalization, lowered to max, lookups, sums and exact divisions.

use crate::error::QuantizeError;
use crate::graph::TensorId;
use crate::qgraph::{QOp, QTensor};

use super::builder::Builder;
use super::checked_bound;
use super::tables::{lookup, ArgRange, TableFn};

fn groups_of(b: &Builder, x: TensorId, group: usize, name: &str) -> Result<usize, QuantizeError> {
    let n = b.tensor(x).numel();
    if group == 0 || n % group != 0 {
        return Err(QuantizeError::Malformed {
            node: name.to_string(),
            detail: format!("{n} elements do not split into groups of {group}"),
        });
    }
    Ok(n / group)
}

/// `x - broadcast(per_group)`, at `x`'s scale.
fn centered(
    b: &mut Builder,
    x: TensorId,
    per_group: TensorId,
    group: usize,
    name: String,
) -> Result<TensorId, QuantizeError> {
    let xt = b.tensor(x);
    let n = xt.numel();
    let pb = b.broadcast_groups(per_group, group, vec![n], format!("{name}/broadcast"))?;
    let pt = b.tensor(pb);
    let bound = checked_bound(&name, u128::from(xt.bound) + u128::from(pt.bound))?;
    let op = QOp::Add {
        coef_a: 1,
        coef_b: -1,
        constant: Vec::new(),
    };
    b.push(
        name,
        op,
        vec![x, pb],
        QTensor {
            shape: vec![n],
            scale: xt.scale,
            bound,
        },
    )
}

/// Softmax over contiguous groups: `m = max`, `e = exp(x - m)` by table, `S = Σ e`, and
/// `p = round(e · 2^scale / S)` by an exact, range-checked division.
pub(crate) fn softmax(
    b: &mut Builder,
    x: TensorId,
    group: usize,
    shape: Vec<usize>,
    name: &str,
) -> Result<TensorId, QuantizeError> {
    let groups = groups_of(b, x, group, name)?;
    let xt = b.tensor(x);
    let n = xt.numel();
    let m = b.push(
        format!("{name}/max"),
        QOp::Max { group },
        vec![x],
        QTensor {
            shape: vec![groups],
            ..xt.clone()
        },
    )?;
    let d = centered(b, x, m, group, format!("{name}/shift"))?;
    let exp = |v: f64| libm::exp(v);
    let f = TableFn {
        name: "exp".into(),
        key: "exp".into(),
        f: &exp,
        saturates: (true, false),
    };
    let e = lookup(
        b,
        d,
        &f,
        Some(ArgRange::NonPositive),
        &format!("{name}/exp"),
    )?;
    let sum = b.group_sum(e, group, vec![groups], format!("{name}/sum"))?;
    let sb = b.broadcast_groups(sum, group, vec![n], format!("{name}/sum/broadcast"))?;
    let scale = b.config.scale;
    b.push(
        name.to_string(),
        QOp::Div { shift: scale },
        vec![e, sb],
        QTensor {
            shape,
            scale,
            bound: 1 << scale,
        },
    )
}

/// Bits by which the calibrated values of `c` may be read larger while staying below one
/// (at most 12, and no more than `c`'s scale allows).
fn range_bits(b: &Builder, c: TensorId) -> u32 {
    let ct = b.tensor(c);
    let (lo, hi) = b.observed(c);
    let most = lo.unsigned_abs().max(hi.unsigned_abs());
    if most == 0 {
        return 0;
    }
    // Values below one have magnitude bits below the scale.
    let bits = 64 - most.leading_zeros();
    ct.scale.saturating_sub(bits).min(12).min(ct.scale)
}

/// Layer normalization over contiguous groups: mean and variance by exact sums and
/// rounded divisions, `1/sqrt(var + eps)` by table, then scale and shift.
pub(crate) fn layer_norm(
    b: &mut Builder,
    x: TensorId,
    (gamma, beta, epsilon): (&[f32], &[f32], f32),
    group: usize,
    shape: Vec<usize>,
    name: &str,
) -> Result<TensorId, QuantizeError> {
    let groups = groups_of(b, x, group, name)?;
    let xt = b.tensor(x);
    let n = xt.numel();
    let sum = b.group_sum(x, group, vec![groups], format!("{name}/sum"))?;
    let mean = b.div_const(sum, group, &format!("{name}/mean"))?;
    let c = centered(b, x, mean, group, format!("{name}/center"))?;
    // Layer norm ignores a common factor: read the centered values 2^k times larger (a free
    // relabel) so that the variance the rsqrt table sees is near one, where a uniform table
    // is precise, whatever the input's magnitude; epsilon grows by 4^k to match.
    let k = range_bits(b, c);
    let c = if k > 0 {
        let ct = b.tensor(c);
        b.relabel(c, ct.scale - k, vec![n], format!("{name}/center/scaled"))?
    } else {
        c
    };
    let epsilon = epsilon * 4f32.powi(k as i32);
    let ct = b.tensor(c);
    let sq = b.push(
        format!("{name}/square"),
        QOp::Mul,
        vec![c, c],
        QTensor {
            shape: vec![n],
            scale: 2 * ct.scale,
            bound: checked_bound(name, u128::from(ct.bound) * u128::from(ct.bound))?,
        },
    )?;
    let ss = b.group_sum(sq, group, vec![groups], format!("{name}/sum_sq"))?;
    // The variance feeds a table, which reads any scale: it may drop fraction bits to fit.
    let var = b.div_const_from(ss, group, &format!("{name}/var"), b.config.scale)?;
    let eps = f64::from(epsilon);
    let rsqrt = move |v: f64| 1.0 / libm::sqrt(v + eps);
    let f = TableFn {
        name: format!("rsqrt(x+{epsilon:e})"),
        key: format!("rsqrt(x+{epsilon:e})"),
        f: &rsqrt,
        saturates: (false, false),
    };
    let r = lookup(
        b,
        var,
        &f,
        Some(ArgRange::NonNegative),
        &format!("{name}/rsqrt"),
    )?;
    let rb = b.broadcast_groups(r, group, vec![n], format!("{name}/rsqrt/broadcast"))?;
    let rt = b.tensor(rb);
    let prod = b.push(
        format!("{name}/normalize"),
        QOp::Mul,
        vec![c, rb],
        QTensor {
            shape: vec![n],
            scale: ct.scale + rt.scale,
            bound: checked_bound(name, u128::from(ct.bound) * u128::from(rt.bound))?,
        },
    )?;
    let mut y = b.rescale_to(prod, b.config.scale, &format!("{name}/normalize"))?;
    if gamma.iter().any(|&g| g != 1.0) {
        let g: Vec<f32> = (0..n)
            .map(|i| gamma.get(i % group).copied().unwrap_or(1.0))
            .collect();
        y = b.with_weights(|b| b.mul_float(y, &g, vec![n], format!("{name}/gamma")))?;
    }
    if beta.iter().any(|&v| v != 0.0) {
        let yt = b.tensor(y);
        let bf: Vec<f32> = (0..n)
            .map(|i| beta.get(i % group).copied().unwrap_or(0.0))
            .collect();
        let qb = super::quantize_f32(&bf, yt.scale);
        y = b.with_weights(|b| b.affine(y, 1, qb, format!("{name}/beta")))?;
    }
    let yt = b.tensor(y);
    b.relabel(y, yt.scale, shape, name.to_string())
}
