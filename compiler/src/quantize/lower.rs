//! Lowering of each float op to integer ops (ARCHITECTURE.md section 3).

use crate::error::QuantizeError;
use crate::geometry::ConvGeom;
use crate::graph::{Node, Op, TensorId, UnaryFn};
use crate::qgraph::{QOp, QTensor};

use super::builder::Builder;
use super::tables::{lookup, TableFn};
use super::{check_finite, checked_bound, quantize_f32};

fn malformed(node: &Node, detail: &str) -> QuantizeError {
    QuantizeError::Malformed {
        node: node.name.clone(),
        detail: detail.to_string(),
    }
}

/// Lowers one float node whose operands are the quantized tensors `args`.
pub(crate) fn lower(
    b: &mut Builder,
    node: &Node,
    args: &[TensorId],
) -> Result<TensorId, QuantizeError> {
    b.node_trained = node.trained;
    let x = *args
        .first()
        .ok_or_else(|| malformed(node, "operand 0 missing"))?;
    let second = || {
        args.get(1)
            .copied()
            .ok_or_else(|| malformed(node, "operand 1 missing"))
    };
    let xt = b.tensor(x);
    let name = node.name.clone();
    let shape = node.shape.clone();
    match &node.op {
        Op::Linear {
            weight,
            bias,
            n_in,
            n_out,
        } => {
            check_finite(&format!("weights of `{name}`"), weight)?;
            check_finite(&format!("bias of `{name}`"), bias)?;
            if *n_in == 0 || weight.len() != n_in * n_out || bias.len() != *n_out {
                return Err(malformed(node, "weight/bias size"));
            }
            let ws = weight_scale_for(weight, b.config.weight_scale);
            let acc_scale = ws + xt.scale;
            let qw = quantize_f32(weight, ws);
            let qb = quantize_f32(bias, acc_scale);
            let mut bound: u128 = 0;
            for (row, bj) in qw.chunks_exact(*n_in).zip(&qb) {
                let s: u128 = row.iter().map(|w| u128::from(w.unsigned_abs())).sum();
                bound = bound.max(s * u128::from(xt.bound) + u128::from(bj.unsigned_abs()));
            }
            let acc = QTensor {
                shape,
                scale: acc_scale,
                bound: checked_bound(&name, bound)?,
            };
            let op = QOp::Linear {
                weight: qw,
                bias: qb,
                n_in: *n_in,
                n_out: *n_out,
            };
            let lin = b.with_weights(|b| b.push(name.clone(), op, vec![x], acc))?;
            b.rescale_to(lin, b.config.scale, &name)
        }
        Op::Conv { weight, bias, geom } => {
            check_finite(&format!("weights of `{name}`"), weight)?;
            check_finite(&format!("bias of `{name}`"), bias)?;
            if !geom.is_valid()
                || weight.len() != geom.weight_len()
                || bias.len() != geom.out_channels
                || geom.in_numel() != xt.numel()
            {
                return Err(malformed(node, "convolution weights or shapes disagree"));
            }
            let ws = b.config.weight_scale;
            let qw = quantize_f32(weight, ws);
            let qb = quantize_f32(bias, ws + xt.scale);
            conv(b, x, qw, qb, geom.clone(), ws, name)
        }
        Op::AvgPool {
            geom,
            count_include_pad,
        } => {
            if !geom.is_valid() || geom.in_numel() != xt.numel() {
                return Err(malformed(node, "pool window and input shape disagree"));
            }
            let counts: Vec<usize> = (0..geom.out_numel())
                .map(|o| {
                    if *count_include_pad {
                        geom.window()
                    } else {
                        geom.taps(o).len().max(1)
                    }
                })
                .collect();
            let ones = vec![1i64; geom.weight_len()];
            let sum = conv(
                b,
                x,
                ones,
                vec![0; geom.out_channels],
                geom.clone(),
                0,
                format!("{name}/sum"),
            )?;
            let first = counts.first().copied().unwrap_or(1);
            if counts.iter().all(|&c| c == first) {
                b.div_const(sum, first, &name)
            } else {
                let factor = counts
                    .iter()
                    .map(|&c| ((1u64 << 16) as f64 / c as f64).round() as i64)
                    .collect();
                let m = b.mul_const(sum, factor, format!("{name}/div"))?;
                b.push_rescale(m, 16, format!("{name}/div/rescale"), xt.scale)
            }
        }
        Op::MaxPool { geom } => {
            if !geom.is_valid() || geom.in_numel() != xt.numel() {
                return Err(malformed(node, "pool window and input shape disagree"));
            }
            let window = geom.window();
            let mut index = Vec::with_capacity(geom.out_numel() * window);
            for o in 0..geom.out_numel() {
                let taps = geom.taps(o);
                let first = taps
                    .first()
                    .map(|t| t.0)
                    .ok_or_else(|| malformed(node, "a pooling window lies entirely in padding"))?;
                // Padded positions repeat an element of the window: the max is unchanged.
                index.extend(taps.iter().map(|t| t.0));
                index.extend(std::iter::repeat_n(first, window - taps.len()));
            }
            let n = index.len();
            let windows = b.select(vec![x], index, vec![n], format!("{name}/windows"))?;
            let out = QTensor { shape, ..xt };
            b.push(name, QOp::Max { group: window }, vec![windows], out)
        }
        Op::ReduceMax { group } => {
            if *group == 0 || xt.numel() % group != 0 {
                return Err(malformed(
                    node,
                    "the reduced group does not divide the input",
                ));
            }
            let out = QTensor { shape, ..xt };
            b.push(name, QOp::Max { group: *group }, vec![x], out)
        }
        Op::Relu => b.push(name, QOp::Relu, vec![x], QTensor { shape, ..xt }),
        Op::Elementwise { op } => {
            let bound = checked_bound(&name, op.bound(u128::from(xt.bound)))?;
            let out = QTensor { shape, bound, ..xt };
            b.push(name, QOp::Elementwise { op: *op }, vec![x], out)
        }
        Op::Reshape => b.relabel(x, xt.scale, shape, name),
        Op::Check { lo, hi } => {
            // The limits at the operand's scale, rounded inwards and clipped to the operand's
            // bound (a value past it cannot occur).
            let at = |v: f64| v * f64::from(xt.scale).exp2();
            let bound = xt.bound as f64;
            let (qlo, qhi) = (at(*lo).ceil().max(-bound), at(*hi).floor().min(bound));
            if qlo.is_nan() || qhi.is_nan() || qlo > qhi {
                return Err(malformed(
                    node,
                    &format!(
                        "no value at scale 2^{} lies in the checked range [{lo}, {hi}]",
                        xt.scale
                    ),
                ));
            }
            let (qlo, qhi) = (qlo as i64, qhi as i64);
            let bound = xt.bound.min(qlo.unsigned_abs().max(qhi.unsigned_abs()));
            let out = QTensor { shape, bound, ..xt };
            b.push(name, QOp::Check { lo: qlo, hi: qhi }, vec![x], out)
        }
        Op::AddConst { constant } => {
            check_finite(&format!("constant of `{name}`"), constant)?;
            // An integer tensor (scale 0) plus 1/2 must not round the constant away: bring
            // `x` to the activation scale first when the constant is not exact at its own.
            let (x, xt) = if xt.scale < b.config.scale && !exact_at(constant, xt.scale) {
                let target = b.config.scale;
                let id = b.affine(
                    x,
                    1i64 << (target - xt.scale),
                    Vec::new(),
                    format!("{name}/align"),
                )?;
                let id = b.relabel(id, target, xt.shape.clone(), format!("{name}/align/scale"))?;
                (id, b.tensor(id))
            } else {
                (x, xt)
            };
            let qc = quantize_f32(constant, xt.scale);
            let cmax = qc.iter().map(|c| c.unsigned_abs()).max().unwrap_or(0);
            let bound = checked_bound(&name, u128::from(xt.bound) + u128::from(cmax))?;
            let op = QOp::Add {
                coef_a: 1,
                coef_b: 0,
                constant: qc,
            };
            b.with_weights(|b| b.push(name, op, vec![x], QTensor { shape, bound, ..xt }))
        }
        Op::MulConst { constant } => {
            check_finite(&format!("constant of `{name}`"), constant)?;
            b.with_weights(|b| b.mul_float(x, constant, shape, name))
        }
        Op::Add | Op::Sub => {
            let y = second()?;
            let yt = b.tensor(y);
            let scale = xt.scale.max(yt.scale);
            let coef_a = 1i64 << (scale - xt.scale);
            let mut coef_b = 1i64 << (scale - yt.scale);
            if matches!(node.op, Op::Sub) {
                coef_b = -coef_b;
            }
            let bound = u128::from(xt.bound) * coef_a.unsigned_abs() as u128
                + u128::from(yt.bound) * coef_b.unsigned_abs() as u128;
            let out = QTensor {
                shape,
                scale,
                bound: checked_bound(&name, bound)?,
            };
            let op = QOp::Add {
                coef_a,
                coef_b,
                constant: Vec::new(),
            };
            b.push(name, op, vec![x, y], out)
        }
        Op::Mul => {
            let y = second()?;
            let yt = b.tensor(y);
            let out = QTensor {
                shape,
                scale: xt.scale + yt.scale,
                bound: checked_bound(&name, u128::from(xt.bound) * u128::from(yt.bound))?,
            };
            let p = b.push(name.clone(), QOp::Mul, vec![x, y], out)?;
            b.rescale_to(p, b.config.scale, &name)
        }
        Op::Div => {
            let y = second()?;
            let yt = b.tensor(y);
            let target = b.config.scale;
            let shift = (target + yt.scale).checked_sub(xt.scale).ok_or_else(|| {
                malformed(
                    node,
                    "numerator scale too high for a division; lower --scale",
                )
            })?;
            // A quotient has no static bound: use the calibrated one, widened by the
            // headroom; the circuit range-checks it, and a larger quotient is an error.
            let (lo, hi) = b.observed(x);
            let (dlo, _) = b.observed(y);
            if dlo < 1 {
                return Err(malformed(
                    node,
                    "the divisor is not positive on the calibration set; only positive divisors are supported",
                ));
            }
            let num = u128::from(lo.unsigned_abs().max(hi.unsigned_abs())) << shift;
            let q_est = num / u128::from(dlo.unsigned_abs()) + 1;
            let bound = checked_bound(&name, q_est << (b.config.headroom_bits + 1))?;
            let out = QTensor {
                shape,
                scale: target,
                bound,
            };
            b.push(name, QOp::Div { shift }, vec![x, y], out)
        }
        Op::Unary {
            func: func @ (UnaryFn::Floor | UnaryFn::Ceil),
        } => integer_part(b, x, *func == UnaryFn::Ceil, &name),
        Op::Unary {
            func: UnaryFn::Trunc,
        } => trunc(b, x, &name),
        Op::Unary {
            func: UnaryFn::Round,
        } => round_half_even(b, x, &name),
        Op::Unary { func } => {
            let f = |v: f64| func.eval(v);
            lookup(b, x, &TableFn::unary(*func, &f), None, &name)
        }
        Op::MatMul { batch, m, k, n } => {
            let y = second()?;
            let yt = b.tensor(y);
            let bound = u128::from(xt.bound) * u128::from(yt.bound) * *k as u128;
            let out = QTensor {
                shape,
                scale: xt.scale + yt.scale,
                bound: checked_bound(&name, bound)?,
            };
            let op = QOp::MatMul {
                batch: *batch,
                m: *m,
                k: *k,
                n: *n,
            };
            let p = b.push(name.clone(), op, vec![x, y], out)?;
            b.rescale_to(p, b.config.scale, &name)
        }
        Op::Softmax { group } => super::norm::softmax(b, x, *group, shape, &name),
        Op::LayerNorm {
            gamma,
            beta,
            epsilon,
            group,
        } => {
            check_finite(&format!("scale of `{name}`"), gamma)?;
            check_finite(&format!("bias of `{name}`"), beta)?;
            super::norm::layer_norm(b, x, (gamma, beta, *epsilon), *group, shape, &name)
        }
        Op::Select { index } => {
            let scale = args.iter().map(|&a| b.tensor(a).scale).max().unwrap_or(0);
            // Align every operand to the highest scale first (free when they already agree).
            let mut aligned = Vec::with_capacity(args.len());
            for (i, &a) in args.iter().enumerate() {
                let t = b.tensor(a);
                if t.scale == scale {
                    aligned.push(a);
                } else {
                    let c = 1i64 << (scale - t.scale);
                    let id = b.affine(a, c, Vec::new(), format!("{name}/align{i}"))?;
                    aligned.push(b.relabel(
                        id,
                        scale,
                        t.shape,
                        format!("{name}/align{i}/scale"),
                    )?);
                }
            }
            b.select(aligned, index.clone(), shape, name)
        }
    }
}

/// Significant bits the largest weight of a layer gets when the weight scale leaves it fewer
/// than [`WEIGHT_BITS`] - 2.
const WEIGHT_BITS: u32 = 12;

/// The weight scale for `weights`: `base`, unless the largest weight is so small that `base`
/// leaves it under 10 significant bits (a mean's `1/n`, a tiny layer); then enough for
/// [`WEIGHT_BITS`] (up to 24), so small weights keep their relative precision. Ordinary
/// layers keep `base` and their circuits.
fn weight_scale_for(weights: &[f32], base: u32) -> u32 {
    let most = weights.iter().fold(0f32, |m, w| m.max(w.abs()));
    if !(most > 0.0 && most.is_finite()) {
        return base;
    }
    let below_one = (-f64::from(most).log2().floor()).max(0.0) as u32;
    let want = WEIGHT_BITS + below_one;
    if want >= base + 3 {
        want.min(24.max(base))
    } else {
        base
    }
}

/// Exact convolution with integer weights at `weight_scale`, then a rescale to the
/// activation scale.
fn conv(
    b: &mut Builder,
    x: TensorId,
    weight: Vec<i64>,
    bias: Vec<i64>,
    geom: ConvGeom,
    weight_scale: u32,
    name: String,
) -> Result<TensorId, QuantizeError> {
    let xt = b.tensor(x);
    let per_out = geom.channels_per_group() * geom.window();
    let mut bound: u128 = 0;
    for (oc, bj) in bias.iter().enumerate() {
        let s: u128 = weight
            .iter()
            .skip(oc * per_out)
            .take(per_out)
            .map(|w| u128::from(w.unsigned_abs()))
            .sum();
        bound = bound.max(s * u128::from(xt.bound) + u128::from(bj.unsigned_abs()));
    }
    let [c, h, w] = geom.out_shape();
    let acc = QTensor {
        shape: vec![1, c, h, w],
        scale: xt.scale + weight_scale,
        bound: checked_bound(&name, bound)?,
    };
    let op = QOp::Conv { weight, bias, geom };
    let id = b.with_weights(|b| b.push(name.clone(), op, vec![x], acc))?;
    b.rescale_to(id, b.config.scale.max(xt.scale), &name)
}

/// `floor(x)` or `ceil(x)` exactly, without a table: at scale `s`, `floor(X / 2^s)` is the
/// round-half-up rescale of `X - 2^(s-1)` and `ceil` that of `X + 2^(s-1) - 1`. The result is
/// an integer at scale 0 (an input already at scale 0 passes through).
fn integer_part(
    b: &mut Builder,
    x: TensorId,
    ceil: bool,
    name: &str,
) -> Result<TensorId, QuantizeError> {
    let t = b.tensor(x);
    if t.scale == 0 {
        return Ok(x);
    }
    let half = 1i64 << (t.scale - 1);
    let offset = if ceil { half - 1 } else { -half };
    let n = t.shape.iter().product();
    let shifted = b.affine(x, 1, vec![offset; n], format!("{name}/offset"))?;
    b.push_rescale(shifted, t.scale, name.to_string(), 0)
}

/// ONNX `Round` (ties to even), exact and without a table, for `x` at scale `s`: the
/// half-up rounding `rescale(x, s)`, less 1 at the ties whose half-up result is odd, which
/// are the `x` with `x - 2^(s-1) ≡ 0 (mod 2^(s+1))`. With `x' = x - 2^(s-1)`,
/// `q = floor(x' / 2^(s+1))` and `m = x' - 2^(s+1)·q ∈ [0, 2^(s+1))`, that tie indicator is
/// `relu(1 - m)`. An input at scale 0 passes through.
fn round_half_even(b: &mut Builder, x: TensorId, name: &str) -> Result<TensorId, QuantizeError> {
    let t = b.tensor(x);
    if t.scale == 0 {
        return Ok(x);
    }
    let s = t.scale;
    let n: usize = t.shape.iter().product();
    let half_up = b.push_rescale(x, s, format!("{name}/half_up"), 0)?;
    let shifted = b.affine(
        x,
        1,
        vec![-(1i64 << (s - 1)); n],
        format!("{name}/tie_offset"),
    )?;
    // floor(x' / 2^(s+1)) = rescale(x' - 2^s, s + 1) = rescale(x - 3·2^(s-1), s + 1), the
    // rescale rounding half up.
    let below = b.affine(
        x,
        1,
        vec![-(3i64 << (s - 1)); n],
        format!("{name}/pair_offset"),
    )?;
    let pair = b.push_rescale(below, s + 1, format!("{name}/pair"), 0)?;
    let (st, pt) = (b.tensor(shifted), b.tensor(pair));
    let step = 1i64 << (s + 1);
    let m = b.push(
        format!("{name}/in_pair"),
        QOp::Add {
            coef_a: 1,
            coef_b: -step,
            constant: Vec::new(),
        },
        vec![shifted, pair],
        QTensor {
            shape: t.shape.clone(),
            scale: s,
            bound: checked_bound(
                name,
                u128::from(st.bound) + u128::from(pt.bound) * step.unsigned_abs() as u128,
            )?,
        },
    )?;
    let one_minus = b.affine(m, -1, vec![1; n], format!("{name}/tie_gap"))?;
    let gap = b.tensor(one_minus);
    let tie = b.push(format!("{name}/tie"), QOp::Relu, vec![one_minus], gap)?;
    let (ht, tt) = (b.tensor(half_up), b.tensor(tie));
    // The tie is 0 or 1, but its declared bound is its operand's: the sum's bound says so.
    b.push(
        name.to_string(),
        QOp::Add {
            coef_a: 1,
            coef_b: -1,
            constant: Vec::new(),
        },
        vec![half_up, tie],
        QTensor {
            shape: ht.shape,
            scale: 0,
            bound: checked_bound(name, u128::from(ht.bound) + u128::from(tt.bound))?,
        },
    )
}

/// `trunc(x) = floor(relu(x)) - floor(relu(-x))`, exact and without a table (an input at
/// scale 0 passes through).
fn trunc(b: &mut Builder, x: TensorId, name: &str) -> Result<TensorId, QuantizeError> {
    let t = b.tensor(x);
    if t.scale == 0 {
        return Ok(x);
    }
    let pos = b.push(format!("{name}/positive"), QOp::Relu, vec![x], t.clone())?;
    let pos = integer_part(b, pos, false, &format!("{name}/positive/floor"))?;
    let neg = b.affine(x, -1, Vec::new(), format!("{name}/negated"))?;
    let nt = b.tensor(neg);
    let neg = b.push(format!("{name}/negative"), QOp::Relu, vec![neg], nt)?;
    let neg = integer_part(b, neg, false, &format!("{name}/negative/floor"))?;
    let (pt, nt) = (b.tensor(pos), b.tensor(neg));
    let bound = checked_bound(name, u128::from(pt.bound) + u128::from(nt.bound))?;
    let op = QOp::Add {
        coef_a: 1,
        coef_b: -1,
        constant: Vec::new(),
    };
    let out = QTensor {
        shape: pt.shape,
        scale: 0,
        bound,
    };
    b.push(name.to_string(), op, vec![pos, neg], out)
}

/// Whether every value of `c` is exactly representable at `scale` fractional bits.
fn exact_at(c: &[f32], scale: u32) -> bool {
    let unit = f64::from(2u32.pow(scale.min(31)));
    c.iter().all(|&v| {
        let s = f64::from(v) * unit;
        s == s.round()
    })
}
