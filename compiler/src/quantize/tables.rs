//! Lookup-table lowering of elementwise functions.
//!
//! The argument is rescaled to the table scale (`--table-scale`); the table covers the
//! calibrated range (widened by the headroom) and, where the function saturates inside
//! that range, stops at the saturation point and clamps the argument there instead, so
//! the table stays small and saturated inputs never fall outside it.

use crate::error::QuantizeError;
use crate::graph::{TensorId, UnaryFn};
use crate::qgraph::{QOp, QTensor, Table};

use super::builder::Builder;
use super::norm::ArgRange;
use super::MAX_BOUND_BITS;

/// Largest table (rows) the compiler builds.
pub const MAX_TABLE_ROWS: i64 = 1 << 22;

/// A function to tabulate: its name and its float definition.
pub(crate) struct TableFn<'a> {
    /// Table name, e.g. `exp` or `rsqrt(x+1e-5)`.
    pub name: String,
    /// The function.
    pub f: &'a dyn Fn(f64) -> f64,
    /// Whether the value stays constant (after rounding) past some argument, below / above.
    pub saturates: (bool, bool),
}

impl<'a> TableFn<'a> {
    /// A plain unary function.
    pub fn unary(func: UnaryFn, f: &'a dyn Fn(f64) -> f64) -> Self {
        let saturates = func.spec().saturates;
        TableFn {
            name: func.name().to_string(),
            f,
            saturates,
        }
    }
}

fn quant(f: &dyn Fn(f64) -> f64, q: i64, in_scale: u32, out_scale: u32) -> Option<i64> {
    let v = f(q as f64 / f64::from(in_scale).exp2()) * f64::from(out_scale).exp2();
    let r = (v + 0.5).floor();
    (r.is_finite() && r.abs() < f64::from(MAX_BOUND_BITS).exp2()).then_some(r as i64)
}

/// First argument (walking from 0 by `step` = ±1, up to `limit` steps) past which the
/// quantized value never changes again, judged against the value at `limit`.
fn saturation(f: &dyn Fn(f64) -> f64, step: i64, limit: i64, in_s: u32, out_s: u32) -> i64 {
    let end = quant(f, step * limit, in_s, out_s);
    let mut q = step * limit;
    // Walk inwards while the value still equals the asymptotic one.
    while q != 0 && quant(f, q - step, in_s, out_s) == end {
        q -= step;
    }
    q
}

/// Tabulates `func` at `x` and returns the looked-up tensor (at `config.scale`).
/// `range` adds what is known statically about the argument's sign.
pub(crate) fn lookup(
    b: &mut Builder,
    x: TensorId,
    func: &TableFn<'_>,
    range: Option<ArgRange>,
    name: &str,
) -> Result<TensorId, QuantizeError> {
    let cfg = b.config;
    let table_scale = b.table_scales.get(name).copied().unwrap_or(cfg.table_scale);
    let xr = b.rescale_to(x, table_scale, name)?;
    let xt = b.tensor(xr);
    let (in_s, out_s) = (xt.scale, cfg.scale);
    let bound = i64::try_from(xt.bound).unwrap_or(i64::MAX);
    let (static_lo, static_hi) = match range {
        None => (-bound, bound),
        Some(ArgRange::NonPositive) => (-bound, 0),
        Some(ArgRange::NonNegative) => (0, bound),
    };
    let (olo, ohi) = b.observed(xr);
    // Values are bounded by 2^62, so their spread fits in i128 and half of it in i64.
    let half = ((i128::from(ohi) - i128::from(olo)) / 2) as i64;
    let widen = half
        .saturating_mul(1 << cfg.headroom_bits.min(16))
        .saturating_add((1i64 << in_s.min(62)) / 8 + 1);
    let center = olo.saturating_add(half);
    let mut lo = center.saturating_sub(widen).max(static_lo);
    let mut hi = center.saturating_add(widen).min(static_hi);
    // Widening never crosses zero when the calibration never did: functions with a pole or
    // an edge there (reciprocal, square roots) stay defined over the whole table.
    if olo >= 1 {
        lo = lo.max(1);
    }
    if ohi <= -1 {
        hi = hi.min(-1);
    }
    let mut clamp_lo = None;
    let mut clamp_hi = None;
    let limit = (MAX_TABLE_ROWS / 2).min(bound.max(1));
    if func.saturates.0 && static_lo < lo.min(0) {
        let s = saturation(func.f, -1, limit, in_s, out_s);
        if lo <= s {
            lo = s;
            clamp_lo = Some(s);
        }
    }
    if func.saturates.1 && static_hi > hi.max(0) {
        let s = saturation(func.f, 1, limit, in_s, out_s);
        if hi >= s {
            hi = s;
            clamp_hi = Some(s);
        }
    }
    let rows = i128::from(hi) - i128::from(lo) + 1;
    if !(1..=i128::from(MAX_TABLE_ROWS)).contains(&rows) {
        return Err(QuantizeError::Table {
            node: name.to_string(),
            detail: format!(
                "the {} table would need {rows} rows for arguments [{lo}, {hi}] at scale 2^{in_s}; lower --table-scale or narrow the calibration range",
                func.name
            ),
        });
    }
    let mut arg = xr;
    let shape = xt.shape.clone();
    let n = xt.numel();
    if let Some(l) = clamp_lo {
        // max(x, l) = l + relu(x - l)
        let d = b.affine(arg, 1, vec![-l; n], format!("{name}/clamp_lo/sub"))?;
        let r = push_relu(b, d, format!("{name}/clamp_lo/relu"))?;
        arg = b.affine(r, 1, vec![l; n], format!("{name}/clamp_lo"))?;
    }
    if let Some(h) = clamp_hi {
        // min(x, h) = h - relu(h - x)
        let d = b.affine(arg, -1, vec![h; n], format!("{name}/clamp_hi/sub"))?;
        let r = push_relu(b, d, format!("{name}/clamp_hi/relu"))?;
        arg = b.affine(r, -1, vec![h; n], format!("{name}/clamp_hi"))?;
    }
    let values = (lo..=hi)
        .map(|q| {
            quant(func.f, q, in_s, out_s).ok_or_else(|| QuantizeError::Table {
                node: name.to_string(),
                detail: format!(
                    "{} is not finite or too large at argument {} inside the table domain [{lo}, {hi}] (scale 2^{in_s}); narrow the calibration range",
                    func.name,
                    q as f64 / f64::from(in_s).exp2()
                ),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let table = Table {
        name: func.name.clone(),
        in_scale: in_s,
        out_scale: out_s,
        lo,
        values,
    };
    let max_abs = table.max_abs();
    let index = match b.tables.iter().position(|t| *t == table) {
        Some(i) => i,
        None => {
            b.tables.push(table);
            b.tables.len() - 1
        }
    };
    b.push(
        name.to_string(),
        QOp::Lookup { table: index },
        vec![arg],
        QTensor {
            shape,
            scale: out_s,
            bound: max_abs,
        },
    )
}

/// `max(x, 0)`, bound unchanged.
pub(crate) fn push_relu(
    b: &mut Builder,
    x: TensorId,
    name: String,
) -> Result<TensorId, QuantizeError> {
    let t = b.tensor(x);
    b.push(name, QOp::Relu, vec![x], t)
}
