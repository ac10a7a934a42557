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
use super::MAX_BOUND_BITS;

/// Largest table (rows) the compiler builds.
pub const MAX_TABLE_ROWS: i64 = 1 << 22;

/// A function to tabulate: its name and its float definition.
pub(crate) struct TableFn<'a> {
    /// Table name, e.g. `exp` or `rsqrt(x+1e-5)`.
    pub name: String,
    /// What identifies the function exactly (its parameters included): nodes with the same
    /// key and scales may share one table.
    pub key: String,
    /// The function.
    pub f: &'a dyn Fn(f64) -> f64,
    /// Whether the value stays constant (after rounding) past some argument, below / above.
    pub saturates: (bool, bool),
}

/// Static knowledge about a table argument beyond its bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArgRange {
    /// Never above 0 (softmax's `x - max`).
    NonPositive,
    /// Never below 0 (a variance).
    NonNegative,
}

/// Functions tabulated at their operand's scale, never rescaled or interpolated (see
/// [`lookup`]): the steps whose table is tiny at any scale.
pub(crate) const AT_OPERAND_SCALE: &[UnaryFn] = &[UnaryFn::Sign];

impl<'a> TableFn<'a> {
    /// Whether this function is tabulated at its operand's scale ([`AT_OPERAND_SCALE`]).
    pub fn is_exact_at_operand_scale(&self) -> bool {
        AT_OPERAND_SCALE
            .iter()
            .any(|f| self.key == format!("{f:?}"))
    }

    /// A plain unary function.
    pub fn unary(func: UnaryFn, f: &'a dyn Fn(f64) -> f64) -> Self {
        let saturates = func.spec().saturates;
        TableFn {
            name: func.name().to_string(),
            key: format!("{func:?}"),
            f,
            saturates,
        }
    }
}

fn quant(f: &dyn Fn(f64) -> f64, q: i64, in_scale: u32, out_scale: u32) -> Option<i64> {
    round_value(f(q as f64 / f64::from(in_scale).exp2()) * f64::from(out_scale).exp2())
}

/// `v` rounded half up, if it is finite and within the value bound.
fn round_value(v: f64) -> Option<i64> {
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
    // A comparison (`Sign`) is tabulated at its operand's own scale: its table is 3 rows at
    // any scale (the clamp to [-1, 1] below), and it is then exact on the quantized values,
    // so `sign(a - b) = -sign(b - a)` and comparisons are a total preorder. Rounded to a
    // coarser table scale first, two values half a step apart would each rank above the other.
    let exact = func.is_exact_at_operand_scale();
    let table_scale = if exact {
        b.tensor(x).scale
    } else {
        b.table_scales.get(name).copied().unwrap_or(cfg.table_scale)
    };
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
    if exact {
        // A comparison's table spans [-1, 1] (clamped below) whatever the calibration saw:
        // a difference of either sign, or a tie, stays provable.
        lo = lo.min(-1).max(static_lo);
        hi = hi.max(1).min(static_hi);
    } else {
        // Widening never crosses zero when the calibration never did: functions with a
        // pole or an edge there (reciprocal, square roots) stay defined over the whole table.
        if olo >= 1 {
            lo = lo.max(1);
        }
        if ohi <= -1 {
            hi = hi.min(-1);
        }
    }
    let mut clamp_lo = None;
    let mut clamp_hi = None;
    let limit = (MAX_TABLE_ROWS / 2).min(bound.max(1));
    if func.saturates.0 && static_lo < lo.min(0) {
        let s = saturation(func.f, -1, limit, in_s, out_s);
        if lo <= s {
            // Calibration may lie wholly past the saturation point: the domain is then [s, s].
            lo = s;
            hi = hi.max(s);
            clamp_lo = Some(s);
        }
    }
    if func.saturates.1 && static_hi > hi.max(0) {
        let s = saturation(func.f, 1, limit, in_s, out_s);
        if hi >= s {
            hi = s;
            lo = lo.min(s);
            clamp_hi = Some(s);
        }
    }
    // One table for every node with this function and these scales: the domain grows to
    // the union that `quantize` settled on (a no-op on its first pass, which records it).
    let key = (func.key.clone(), in_s, out_s);
    b.domains.entry(key.clone()).or_default().push((lo, hi));
    if let Some(&(ulo, uhi)) = b.shared_domains.get(&key) {
        lo = lo.min(ulo);
        hi = hi.max(uhi);
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
    if let Some(&bits) = b.interpolation.get(name).filter(|_| !exact) {
        if bits >= 1 && bits <= in_s && hi - lo >= 1 << bits {
            // The grid admits arguments up to half a cell past either end of the domain;
            // a plain table refuses those, and so must this one (a pole may lie there).
            let t = b.tensor(arg);
            let bound = t.bound.min(lo.unsigned_abs().max(hi.unsigned_abs()));
            let out = QTensor { bound, ..t };
            let op = QOp::Check { lo, hi };
            let arg = b.push(format!("{name}/in_domain"), op, vec![arg], out)?;
            return interpolated(b, arg, func, (lo, hi), (in_s, out_s), bits, name);
        }
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
    push_lookup(b, table, arg, shape, name.to_string())
}

/// Pushes `y = table[x]`, sharing an identical table already built.
fn push_lookup(
    b: &mut Builder,
    table: Table,
    x: TensorId,
    shape: Vec<usize>,
    name: String,
) -> Result<TensorId, QuantizeError> {
    let (max_abs, out_s) = (table.max_abs(), table.out_scale);
    let index = match b.tables.iter().position(|t| *t == table) {
        Some(i) => i,
        None => {
            b.tables.push(table);
            b.tables.len() - 1
        }
    };
    b.push(
        name,
        QOp::Lookup { table: index },
        vec![x],
        QTensor {
            shape,
            scale: out_s,
            bound: max_abs,
        },
    )
}

/// Name suffix of an interpolated lookup's slope table node.
pub(crate) const SLOPE_SUFFIX: &str = "/slope";

/// `f(x)` for `x` (integers at scale `in_s`, in `[lo, hi]`) from a table every `2^bits`
/// arguments: with `h = rescale(x, bits)` (the nearest grid point) and `r = x - 2^bits·h`
/// (in `[-2^(bits-1), 2^(bits-1))`), `y = f(h) + rescale(s(h)·r, bits)`, where `s(h)` is the
/// rise of `f` across the cell, `f(h + ½) - f(h - ½)` in output units. Two tables of about
/// `(hi - lo) / 2^bits` rows replace one of `hi - lo`; the extra rows per element are three
/// rescales, two adds, two lookups and a product, all existing ops, so the runtime and the
/// circuit agree by construction. Both tables hold [`INTERPOLATION_EXTRA_BITS`] more bits
/// than the output and the sum is rounded once at the end: the error is at most
/// `|f''|·(2^bits / 2^in_s)² / 8` plus just over half an output step.
fn interpolated(
    b: &mut Builder,
    x: TensorId,
    func: &TableFn<'_>,
    (lo, hi): (i64, i64),
    (in_s, out_s): (u32, u32),
    bits: u32,
    name: &str,
) -> Result<TensorId, QuantizeError> {
    let xt = b.tensor(x);
    let (shape, step) = (xt.shape.clone(), 1i64 << bits);
    let half = step / 2;
    let grid_s = in_s - bits;
    let h = b.push_rescale(x, bits, format!("{name}/grid"), grid_s)?;
    let ht = b.tensor(h);
    // r = x - 2^bits·h: what the grid point leaves, in [-half, half).
    let r = b.push(
        format!("{name}/offset"),
        QOp::Add {
            coef_a: 1,
            coef_b: -step,
            constant: Vec::new(),
        },
        vec![x, h],
        QTensor {
            shape: shape.clone(),
            scale: in_s,
            bound: checked_sum(name, xt.bound, ht.bound.saturating_mul(step.unsigned_abs()))?,
        },
    )?;
    let grid = |q: i64| (q + half).div_euclid(step);
    let (glo, ghi) = (grid(lo), grid(hi));
    let bad = |at: f64| {
        QuantizeError::Table {
        node: name.to_string(),
        detail: format!(
            "{} is not finite or too large near argument {at} of its interpolation grid; narrow the calibration range",
            func.name
        ),
    }
    };
    // The tables and the sum carry EXTRA_BITS more than the output; one last rescale drops them,
    // so the rounding of the base, the rise and the correction stays below an output step.
    let fine_s = out_s + INTERPOLATION_EXTRA_BITS;
    // f at integer argument q, in fine output units.
    let v = |q: i64| (func.f)(q as f64 / f64::from(in_s).exp2()) * f64::from(fine_s).exp2();
    let round =
        |y: f64, at: i64| round_value(y).ok_or_else(|| bad(at as f64 / f64::from(in_s).exp2()));
    let mut base = Vec::with_capacity((ghi - glo + 1) as usize);
    let mut rise = Vec::with_capacity(base.capacity());
    for g in glo..=ghi {
        let x = g * step;
        let (b0, s) = if x - half >= lo && x + half <= hi {
            // An inner cell: the value at the grid point and the rise across the cell.
            (v(x), v(x + half) - v(x - half))
        } else {
            // A cell at the edge of the domain: the line through its two outermost
            // arguments inside [lo, hi], so f is never evaluated outside the domain (a pole
            // or an edge just past it stays out of reach).
            let (a, z) = ((x - half).max(lo), (x + half).min(hi));
            let m = if z > a {
                (v(z) - v(a)) / (z - a) as f64
            } else {
                0.0
            };
            (v(a) + m * (x - a) as f64, m * step as f64)
        };
        base.push(round(b0, x)?);
        rise.push(round(s, x)?);
    }
    let table = |values: Vec<i64>, what: &str| Table {
        name: format!("{}{what}", func.name),
        in_scale: grid_s,
        out_scale: fine_s,
        lo: glo,
        values,
    };
    let f0 = push_lookup(b, table(base, ""), h, shape.clone(), name.to_string())?;
    let slope = push_lookup(
        b,
        table(rise, " rise"),
        h,
        shape.clone(),
        format!("{name}{SLOPE_SUFFIX}"),
    )?;
    let (st, rt) = (b.tensor(slope), b.tensor(r));
    let prod = b.push(
        format!("{name}/slope_times_offset"),
        QOp::Mul,
        vec![slope, r],
        QTensor {
            shape: shape.clone(),
            scale: fine_s + bits,
            bound: checked_product(name, st.bound, rt.bound)?,
        },
    )?;
    // |s·r| <= S·half, so the rescaled correction is within S/2 + 1: the circuit range-checks
    // a rescale's output against its declared bound, so the tight bound is enforced.
    let corr_bound = st.bound / 2 + 1;
    let corr = b.push(
        format!("{name}/correction"),
        QOp::Rescale { shift: bits },
        vec![prod],
        QTensor {
            shape: shape.clone(),
            scale: fine_s,
            bound: corr_bound,
        },
    )?;
    let f0_bound = b.tensor(f0).bound;
    let sum = b.push(
        format!("{name}/interpolated"),
        QOp::Add {
            coef_a: 1,
            coef_b: 1,
            constant: Vec::new(),
        },
        vec![f0, corr],
        QTensor {
            shape,
            scale: fine_s,
            bound: checked_sum(name, f0_bound, corr_bound)?,
        },
    )?;
    b.push_rescale(
        sum,
        INTERPOLATION_EXTRA_BITS,
        format!("{name}/round"),
        out_s,
    )
}

/// Extra fraction bits of an interpolated lookup's tables (see [`interpolated`]).
pub(crate) const INTERPOLATION_EXTRA_BITS: u32 = 6;

fn checked_sum(name: &str, a: u64, b: u64) -> Result<u64, QuantizeError> {
    super::checked_bound(name, u128::from(a) + u128::from(b))
}

fn checked_product(name: &str, a: u64, b: u64) -> Result<u64, QuantizeError> {
    super::checked_bound(name, u128::from(a) * u128::from(b))
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
