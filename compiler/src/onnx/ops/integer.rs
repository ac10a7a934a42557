//! Integer arithmetic by a constant: `BitShift` and `Mod`.
//!
//! `x << k` is `x · 2^k` and `x >> k` is `floor(x / 2^k)`: a power-of-two scaling and the exact
//! `Floor` (a rescale), so both are exact. `Mod(x, c)` with a constant divisor is
//! `x - c·floor(x / c)` (`fmod = 0`: the sign of the divisor) or `x - c·trunc(x / c)`
//! (`fmod = 1`: the sign of the dividend). For integer `x` the floor is taken of
//! `(x + 1/2) / c`, a half-step from any integer, with `1/c` carried to about
//! `16 + EXTRA_FACTOR_BITS` significant bits, so the rounding of `1/c` cannot move it for
//! `|x|` up to about `2^(15 + EXTRA_FACTOR_BITS)`. Each integer quotient is then checked
//! exact: its remainder `v - |c|·q` must lie in `[0, |c|)` (a [`Op::Check`]), so a quotient
//! the approximation got wrong is refused at prove time, never proven. For float `x` near a
//! multiple of `c` the quantized quotient may round to either side (the accuracy report
//! measures it). Integer `Div` by a constant truncates the same way.

use std::rc::Rc;

use crate::graph::{Op, TensorId, UnaryFn};
use crate::onnx::emit::dims_of;
use crate::onnx::emit::push_sub;
use crate::onnx::error::ImportError;
use crate::onnx::node::NodeCtx;
use crate::onnx::shape::broadcast_to;
use crate::onnx::state::{Importer, Value};
use crate::onnx::tensor::Const;

/// Extra bits of `1/c` beyond the weight scale in an integer division: the factor is
/// `2^j / c` with `j = EXTRA_FACTOR_BITS + bits(max |c|)`, so it carries about
/// `16 + EXTRA_FACTOR_BITS` significant bits whatever `c`; the product is then relabelled by
/// `2^-j` (free). Quotients are then exact for `|x|` up to about `2^(15 + EXTRA_FACTOR_BITS)`.
const EXTRA_FACTOR_BITS: i32 = 9;

/// `x · (1/c)` for per-element `c`, with `1/c` carried as `2^j / c` (see
/// [`EXTRA_FACTOR_BITS`]), named `node/label...`.
fn times_reciprocal<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    label: &str,
    x: TensorId,
    c: &[f32],
    dims: &[usize],
) -> Result<TensorId, ImportError> {
    let most = c.iter().fold(1f32, |m, d| m.max(d.abs()));
    let up = 2f32.powi(EXTRA_FACTOR_BITS + most.log2().ceil() as i32);
    let op = Op::MulConst {
        constant: c.iter().map(|d| up / d).collect(),
    };
    let scaled = push_sub(
        imp,
        ctx,
        &format!("{label}/scaled"),
        op,
        vec![x],
        dims.to_vec(),
    )?;
    let op = Op::MulConst {
        constant: vec![1.0 / up; c.len()],
    };
    push_sub(imp, ctx, label, op, vec![scaled], dims.to_vec())
}

/// Checks every element of `r` to lie in `[lo(c), hi(c)]` for its own divisor `c`: one
/// [`Op::Check`] per distinct divisor, over the elements that have it.
fn check_remainders<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    label: &str,
    r: TensorId,
    c: &[f32],
    range: impl Fn(f32) -> (f64, f64),
) -> Result<(), ImportError> {
    let mut divisors: Vec<f32> = c.to_vec();
    divisors.sort_by(f32::total_cmp);
    divisors.dedup();
    let uniform = divisors.len() == 1;
    for (k, &d) in divisors.iter().enumerate() {
        let (lo, hi) = range(d);
        let index: Vec<usize> = (0..c.len()).filter(|&i| c.get(i) == Some(&d)).collect();
        let name = if uniform {
            format!("{}/{label}", ctx.name)
        } else {
            format!("{}/{label}{k}", ctx.name)
        };
        let part = if uniform {
            r
        } else {
            let n = index.len();
            imp.push(
                ctx,
                format!("{name}/elements"),
                Op::Select { index },
                vec![r],
                vec![n],
            )?
        };
        let shape = imp.shape(part).to_vec();
        imp.push(ctx, name, Op::Check { lo, hi }, vec![part], shape)?;
    }
    Ok(())
}

/// The constant second operand broadcast to the first's shape.
fn constant_operand<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    dims: &[usize],
) -> Result<Vec<f32>, ImportError> {
    let c = match imp.input(ctx, 1)? {
        Value::Const(c) => c,
        Value::Tensor(_) => {
            let name = ctx.input_name(1).unwrap_or_default();
            return Err(ctx.unsupported(format!(
                "`{name}` is computed from the graph input; only a constant is supported"
            )));
        }
    };
    broadcast_to(&c.to_f32(), &c.dims, dims)
        .ok_or_else(|| ctx.shape_err(format!("{:?} does not broadcast to {dims:?}", c.dims)))
}

/// `BitShift` by constant amounts (`direction` LEFT or RIGHT).
pub(crate) fn bit_shift<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let x = imp.input(ctx, 0)?;
    let dims = dims_of(imp, &x);
    let amounts = constant_operand(imp, ctx, &dims)?;
    if amounts
        .iter()
        .any(|&a| !(0.0..=62.0).contains(&a) || a.fract() != 0.0)
    {
        return Err(ctx.bad_node(format!(
            "shift amounts {amounts:?} must be integers in 0..=62"
        )));
    }
    let left = match ctx.attr_string("direction")?.as_deref() {
        Some("LEFT") => true,
        Some("RIGHT") => false,
        other => return Err(ctx.bad_attr("direction", format!("{other:?} is not LEFT or RIGHT"))),
    };
    let factor: Vec<f32> = amounts
        .iter()
        .map(|&a| if left { 2f32.powf(a) } else { 2f32.powf(-a) })
        .collect();
    let value = match x {
        Value::Const(c) => {
            let data = c
                .to_f32()
                .iter()
                .zip(&factor)
                .map(|(v, f)| if left { v * f } else { (v * f).floor() })
                .collect();
            Value::Const(Rc::new(Const::f32(dims, data)))
        }
        Value::Tensor(t) => {
            let label = if left { "" } else { "scale" };
            // Right shifts by mixed amounts: first `x · 2^(A - a)` (integer factors, exact),
            // then one uniform `2^-A` (a relabel), so no factor is a fraction a weight
            // cannot hold.
            let most = amounts.iter().copied().fold(0f32, f32::max);
            let uniform = amounts.iter().all(|&a| a == most);
            let t = if !left && !uniform {
                let op = Op::MulConst {
                    constant: amounts.iter().map(|&a| 2f32.powf(most - a)).collect(),
                };
                push_sub(imp, ctx, "align", op, vec![t], dims.clone())?
            } else {
                t
            };
            let factor = if !left && !uniform {
                vec![2f32.powf(-most); factor.len()]
            } else {
                factor
            };
            let s = push_sub(
                imp,
                ctx,
                label,
                Op::MulConst { constant: factor },
                vec![t],
                dims.clone(),
            )?;
            if left {
                Value::Tensor(s)
            } else {
                let op = Op::Unary {
                    func: UnaryFn::Floor,
                };
                Value::Tensor(push_sub(imp, ctx, "", op, vec![s], dims.clone())?)
            }
        }
    };
    imp.bind(out, value);
    Ok(())
}

/// `Mod` by a constant divisor.
pub(crate) fn modulo<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let x = imp.input(ctx, 0)?;
    let dims = dims_of(imp, &x);
    let c = constant_operand(imp, ctx, &dims)?;
    if c.iter().any(|&v| v == 0.0 || !v.is_finite()) {
        return Err(ctx.bad_node("the divisor must be finite and non-zero"));
    }
    let fmod = ctx.attr_int("fmod", 0)? != 0;
    if !fmod && matches!(x, Value::Tensor(_)) && !imp.is_int(ctx, 0) {
        return Err(
            ctx.bad_node("fmod = 0 on a floating-point input: ONNX requires fmod = 1 for floats")
        );
    }
    let value = match x {
        Value::Const(k) => {
            let data = k
                .to_f32()
                .iter()
                .zip(&c)
                .map(|(&v, &d)| {
                    let q = v / d;
                    v - d * if fmod { q.trunc() } else { q.floor() }
                })
                .collect();
            Value::Const(Rc::new(Const::f32(dims, data)))
        }
        Value::Tensor(t) => {
            let inv: Vec<f32> = c.iter().map(|d| 1.0 / d).collect();
            let q = if fmod && imp.is_int(ctx, 0) && c.iter().all(|d| d.fract() == 0.0) {
                trunc_div(imp, ctx, t, &c, &dims, "quotient")?
            } else if fmod {
                let op = Op::MulConst { constant: inv };
                let u = push_sub(imp, ctx, "quotient", op, vec![t], dims.clone())?;
                let op = Op::Unary {
                    func: UnaryFn::Trunc,
                };
                push_sub(imp, ctx, "trunc", op, vec![u], dims.clone())?
            } else {
                // floor((x + 1/2) / c) for c > 0; floor((x - 1/2) / c) for c < 0.
                let half = c
                    .iter()
                    .map(|d| if *d > 0.0 { 0.5 } else { -0.5 })
                    .collect();
                let h = push_sub(
                    imp,
                    ctx,
                    "half",
                    Op::AddConst { constant: half },
                    vec![t],
                    dims.clone(),
                )?;
                let u = times_reciprocal(imp, ctx, "quotient", h, &c, &dims)?;
                let op = Op::Unary {
                    func: UnaryFn::Floor,
                };
                push_sub(imp, ctx, "floor", op, vec![u], dims.clone())?
            };
            let neg: Vec<f32> = c.iter().map(|d| -d).collect();
            let qc = push_sub(
                imp,
                ctx,
                "multiple",
                Op::MulConst { constant: neg },
                vec![q],
                dims.clone(),
            )?;
            let y = push_sub(imp, ctx, "", Op::Add, vec![t, qc], dims.clone())?;
            if !fmod {
                // ONNX's fmod = 0 is integer modulus: the result has the divisor's sign and
                // is smaller in magnitude. A quotient the approximation got wrong, or a
                // fractional `x` (which ONNX does not allow here), is refused.
                check_remainders(imp, ctx, "remainder_in_range", y, &c, |d| {
                    let d = f64::from(d);
                    if d > 0.0 {
                        (0.0, d - 1.0)
                    } else {
                        (d + 1.0, 0.0)
                    }
                })?;
            }
            Value::Tensor(y)
        }
    };
    imp.bind(out, value);
    Ok(())
}

/// `Div` of integers by a constant integer: truncation toward zero, as ONNX (C) integer
/// division. `trunc(x / c) = sign(c)·(floor((relu(x) + 1/2) / |c|) - floor((relu(-x) + 1/2) / |c|))`,
/// each floor a half-step away from an integer.
pub(crate) fn int_div<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let x = imp.input(ctx, 0)?;
    let dims = dims_of(imp, &x);
    let c = constant_operand(imp, ctx, &dims)?;
    if c.iter().any(|&v| v == 0.0 || v.fract() != 0.0) {
        return Err(ctx.bad_node("integer division by zero or by a non-integer"));
    }
    let value = match x {
        Value::Const(k) => {
            let data = k
                .to_f32()
                .iter()
                .zip(&c)
                .map(|(&v, &d)| (v / d).trunc())
                .collect();
            Value::Const(Rc::new(Const::f32(dims, data)))
        }
        Value::Tensor(t) => Value::Tensor(trunc_div(imp, ctx, t, &c, &dims, "")?),
    };
    imp.bind(out, value);
    Ok(())
}

/// `trunc(t / c)` for an integer tensor `t` and constant integers `c` (see [`int_div`]); the
/// last node is named `node/label` (the node's name when `label` is empty).
fn trunc_div<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    t: TensorId,
    c: &[f32],
    dims: &[usize],
    label: &str,
) -> Result<TensorId, ImportError> {
    let n = c.len();
    let magnitudes: Vec<f32> = c.iter().map(|d| d.abs()).collect();
    let prefix = if label.is_empty() {
        String::new()
    } else {
        format!("{label}/")
    };
    let mut halves = Vec::with_capacity(2);
    for (side, sign) in [("positive", 1.0f32), ("negative", -1.0)] {
        let side = format!("{prefix}{side}");
        let mut v = t;
        if sign < 0.0 {
            let op = Op::MulConst {
                constant: vec![-1.0; n],
            };
            v = push_sub(
                imp,
                ctx,
                &format!("{side}/negated"),
                op,
                vec![v],
                dims.to_vec(),
            )?;
        }
        let r = push_sub(
            imp,
            ctx,
            &format!("{side}/relu"),
            Op::Relu,
            vec![v],
            dims.to_vec(),
        )?;
        let op = Op::AddConst {
            constant: vec![0.5; n],
        };
        let h = push_sub(
            imp,
            ctx,
            &format!("{side}/half"),
            op,
            vec![r],
            dims.to_vec(),
        )?;
        let q = times_reciprocal(imp, ctx, &format!("{side}/quotient"), h, &magnitudes, dims)?;
        let op = Op::Unary {
            func: UnaryFn::Floor,
        };
        let q = push_sub(
            imp,
            ctx,
            &format!("{side}/floor"),
            op,
            vec![q],
            dims.to_vec(),
        )?;
        // The quotient is exact: `relu(±x) - |c|·q ∈ [0, |c|)`.
        let op = Op::MulConst {
            constant: magnitudes.iter().map(|d| -d).collect(),
        };
        let multiple = push_sub(
            imp,
            ctx,
            &format!("{side}/multiple"),
            op,
            vec![q],
            dims.to_vec(),
        )?;
        let rem = push_sub(
            imp,
            ctx,
            &format!("{side}/remainder"),
            Op::Add,
            vec![r, multiple],
            dims.to_vec(),
        )?;
        check_remainders(
            imp,
            ctx,
            &format!("{side}/remainder_in_range"),
            rem,
            &magnitudes,
            |d| (0.0, f64::from(d) - 1.0),
        )?;
        halves.push(q);
    }
    let negative_divisor = c.iter().any(|&d| d < 0.0);
    let magnitude = format!("{prefix}magnitude");
    let first = if negative_divisor {
        magnitude.as_str()
    } else {
        label
    };
    let d = push_sub(imp, ctx, first, Op::Sub, halves, dims.to_vec())?;
    if negative_divisor {
        let constant = c.iter().map(|v| v.signum()).collect();
        push_sub(
            imp,
            ctx,
            label,
            Op::MulConst { constant },
            vec![d],
            dims.to_vec(),
        )
    } else {
        Ok(d)
    }
}
