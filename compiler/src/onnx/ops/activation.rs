//! Activations built from existing ops: LeakyRelu, PRelu, Clip, HardSigmoid, HardSwish, the
//! n-ary Max, Min, Sum and Mean, the parametric table functions (Elu, Selu, Celu, Gelu, Pow)
//! and the inference no-op Dropout.
//!
//! The piecewise-linear ones are exact compositions of `Relu`, `Add`/`Sub` and constant
//! scalings (`max(x, c) = c + relu(x - c)`, `min(x, c) = x - relu(x - c)`), so their
//! quantized form is as exact as its constants. Constant operands fold at import.

use std::rc::Rc;

use crate::graph::{Op, Param, TensorId, UnaryFn};
use crate::onnx::emit::add_scalar;
use crate::onnx::emit::broadcast_all;
use crate::onnx::emit::clamp;
use crate::onnx::emit::push_elementwise;
use crate::onnx::emit::push_sub;
use crate::onnx::error::ImportError;
use crate::onnx::node::NodeCtx;
use crate::onnx::shape::{broadcast_shape, broadcast_to};
use crate::onnx::state::{Importer, Value};
use crate::onnx::tensor::Const;

/// `t * c` for `c` one value per element.
fn scale<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    label: &str,
    t: TensorId,
    c: Vec<f32>,
) -> Result<TensorId, ImportError> {
    push_elementwise(imp, ctx, label, Op::MulConst { constant: c }, vec![t])
}

/// The activation input 0, or its constant (folded by the caller).
enum Arg {
    Tensor(TensorId),
    Const(Rc<Const>),
}

fn arg<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<Arg, ImportError> {
    Ok(match imp.input(ctx, 0)? {
        Value::Tensor(t) => Arg::Tensor(t),
        Value::Const(c) => Arg::Const(c),
    })
}

/// Binds the node output to `f` applied to a constant input.
fn fold<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>, c: &Const, f: impl Fn(f64) -> f64) {
    let data = c
        .to_f32()
        .into_iter()
        .map(|x| f(f64::from(x)) as f32)
        .collect();
    if let Ok(out) = ctx.output_name() {
        imp.bind(out, Value::Const(Rc::new(Const::f32(c.dims.clone(), data))));
    }
}

/// An optional scalar input `k` (Clip's `min`/`max`), which must be a constant.
fn scalar_input<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    k: usize,
) -> Result<Option<f32>, ImportError> {
    match imp.input_opt(ctx, k)? {
        None => Ok(None),
        Some(Value::Tensor(_)) => Err(ctx.not_constant(ctx.input_name(k).unwrap_or_default())),
        Some(Value::Const(c)) => match c.to_f32().as_slice() {
            [v] => Ok(Some(*v)),
            _ => Err(ctx.shape_err(format!(
                "input #{k} `{}` must be a scalar, got shape {:?}",
                ctx.input_name(k).unwrap_or_default(),
                c.dims
            ))),
        },
    }
}

/// `LeakyRelu` (`alpha`, default 0.01): `alpha·x + (1 - alpha)·relu(x)`.
pub(crate) fn leaky_relu<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let alpha = ctx.attr_float("alpha", 0.01)?;
    let t = match arg(imp, ctx)? {
        Arg::Const(c) => {
            let a = f64::from(alpha);
            fold(imp, ctx, &c, |x| if x < 0.0 { a * x } else { x });
            return Ok(());
        }
        Arg::Tensor(t) => t,
    };
    let n: usize = imp.shape(t).iter().product();
    let y = slope_mix(imp, ctx, t, vec![alpha; n])?;
    imp.bind(out, Value::Tensor(y));
    Ok(())
}

/// `Shrink` with `bias = lambd` (PyTorch's Softshrink): `relu(x - λ) - relu(-x - λ)`, exact.
/// A hard shrink (`bias ≠ lambd`, a jump at `±λ`) is refused, naming the node.
pub(crate) fn shrink<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let lambd = ctx.attr_float("lambd", 0.5)?;
    let bias = ctx.attr_float("bias", 0.0)?;
    if !(lambd >= 0.0 && bias == lambd) {
        return Err(ctx.unsupported(format!(
            "bias {bias} with lambd {lambd}: only bias = lambd >= 0 (a soft shrink) is supported"
        )));
    }
    let t = match arg(imp, ctx)? {
        Arg::Const(c) => {
            let l = f64::from(lambd);
            fold(imp, ctx, &c, |x| {
                if x > l {
                    x - l
                } else if x < -l {
                    x + l
                } else {
                    0.0
                }
            });
            return Ok(());
        }
        Arg::Tensor(t) => t,
    };
    let n = imp.shape(t).iter().product();
    let above = add_scalar(imp, ctx, "above", t, -lambd)?;
    let above = push_elementwise(imp, ctx, "above/relu", Op::Relu, vec![above])?;
    let neg = scale(imp, ctx, "neg", t, vec![-1.0; n])?;
    let below = add_scalar(imp, ctx, "below", neg, -lambd)?;
    let below = push_elementwise(imp, ctx, "below/relu", Op::Relu, vec![below])?;
    let y = push_elementwise(imp, ctx, "", Op::Sub, vec![above, below])?;
    imp.bind(out, Value::Tensor(y));
    Ok(())
}

/// `slope·x + (1 - slope)·relu(x)`, one slope per element.
fn slope_mix<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    t: TensorId,
    slope: Vec<f32>,
) -> Result<TensorId, ImportError> {
    let r = push_elementwise(imp, ctx, "relu", Op::Relu, vec![t])?;
    if slope.iter().all(|&s| s == 0.0) {
        return Ok(r);
    }
    let rest = slope.iter().map(|s| 1.0 - s).collect();
    let sx = scale(imp, ctx, "negative", t, slope)?;
    let rr = scale(imp, ctx, "positive", r, rest)?;
    push_elementwise(imp, ctx, "", Op::Add, vec![sx, rr])
}

/// `PRelu` with a constant slope (broadcast to the input).
pub(crate) fn prelu<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let slope = imp.const_input(ctx, 1)?;
    let Arg::Tensor(t) = arg(imp, ctx)? else {
        return Err(ctx.unsupported("a constant input is not supported"));
    };
    let dims = imp.shape(t).to_vec();
    let s = broadcast_to(&slope.to_f32(), &slope.dims, &dims).ok_or_else(|| {
        ctx.shape_err(format!(
            "slope of shape {:?} does not broadcast to the input {dims:?}",
            slope.dims
        ))
    })?;
    let y = slope_mix(imp, ctx, t, s)?;
    imp.bind(out, Value::Tensor(y));
    Ok(())
}

/// `Clip`: bounds from inputs 1 and 2 (opset 11+) or the `min`/`max` attributes.
pub(crate) fn clip<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let (lo, hi) = if imp.opset < 11 {
        let lo = ctx
            .attr("min")
            .map(|_| ctx.attr_float("min", 0.0))
            .transpose()?;
        let hi = ctx
            .attr("max")
            .map(|_| ctx.attr_float("max", 0.0))
            .transpose()?;
        (lo, hi)
    } else {
        (scalar_input(imp, ctx, 1)?, scalar_input(imp, ctx, 2)?)
    };
    let (lo, hi) = (lo.filter(|v| v.is_finite()), hi.filter(|v| v.is_finite()));
    let t = match arg(imp, ctx)? {
        Arg::Const(c) => {
            let (l, h) = (
                lo.map_or(f64::MIN, f64::from),
                hi.map_or(f64::MAX, f64::from),
            );
            fold(imp, ctx, &c, |x| x.max(l).min(h));
            return Ok(());
        }
        Arg::Tensor(t) => t,
    };
    if lo.is_none() && hi.is_none() {
        imp.alias(out, t);
        return Ok(());
    }
    let y = clamp(imp, ctx, "", t, lo, hi)?;
    imp.bind(out, Value::Tensor(y));
    Ok(())
}

/// `HardSigmoid` (`alpha` 0.2, `beta` 0.5) and `HardSwish` (`x · HardSigmoid(x)` with
/// `alpha = 1/6`): `clip(alpha·x + beta, 0, 1)`.
pub(crate) fn hard_sigmoid<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let swish = ctx.op() == "HardSwish";
    let (alpha, beta) = if swish {
        (1.0 / 6.0, 0.5)
    } else {
        (ctx.attr_float("alpha", 0.2)?, ctx.attr_float("beta", 0.5)?)
    };
    let t = match arg(imp, ctx)? {
        Arg::Const(c) => {
            let (a, b) = (f64::from(alpha), f64::from(beta));
            let hs = move |x: f64| (a * x + b).clamp(0.0, 1.0);
            fold(imp, ctx, &c, |x| if swish { x * hs(x) } else { hs(x) });
            return Ok(());
        }
        Arg::Tensor(t) => t,
    };
    let n: usize = imp.shape(t).iter().product();
    let ax = scale(imp, ctx, "alpha", t, vec![alpha; n])?;
    let lin = add_scalar(imp, ctx, "beta", ax, beta)?;
    let y = if swish {
        let h = clamp(imp, ctx, "gate/", lin, Some(0.0), Some(1.0))?;
        if let Some(node) = imp.node_mut(h) {
            node.name = format!("{}/gate", ctx.name);
        }
        push_elementwise(imp, ctx, "", Op::Mul, vec![t, h])?
    } else {
        clamp(imp, ctx, "", lin, Some(0.0), Some(1.0))?
    };
    imp.bind(out, Value::Tensor(y));
    Ok(())
}

/// The n-ary `Max`, `Min`, `Sum` and `Mean` (numpy broadcasting, constants allowed).
pub(crate) fn variadic<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let n = ctx.proto.input.len();
    if n == 0 {
        return Err(ctx.bad_node("has no inputs"));
    }
    let mut values = Vec::with_capacity(n);
    for k in 0..n {
        values.push(imp.input(ctx, k)?);
    }
    let shape = broadcast_all(imp, ctx, &values)?;
    let numel: usize = shape.iter().product();
    // Constants merge into one (numpy semantics), activations are brought to the full shape.
    let mut konst: Option<Vec<f32>> = None;
    let mut tensors = Vec::new();
    let op = ctx.op();
    let merge = |a: f32, b: f32| match op {
        "Max" => a.max(b),
        "Min" => a.min(b),
        _ => a + b,
    };
    for (k, v) in values.into_iter().enumerate() {
        match v {
            Value::Const(c) => {
                let full = broadcast_to(&c.to_f32(), &c.dims, &shape).ok_or_else(|| {
                    ctx.shape_err(format!("constant of shape {:?} does not broadcast", c.dims))
                })?;
                konst = Some(match konst {
                    None => full,
                    Some(acc) => acc.iter().zip(&full).map(|(&a, &b)| merge(a, b)).collect(),
                });
            }
            Value::Tensor(t) => {
                tensors.push(imp.broadcast_tensor(ctx, t, &shape, &format!("broadcast{k}"))?);
            }
        }
    }
    let mean = op == "Mean";
    let Some((&first, rest)) = tensors.split_first() else {
        let mut c = konst.unwrap_or_default();
        if mean {
            c.iter_mut().for_each(|v| *v /= n as f32);
        }
        imp.bind(out, Value::Const(Rc::new(Const::f32(shape, c))));
        return Ok(());
    };
    let mut acc = first;
    let steps = rest.len() + usize::from(konst.is_some());
    let mut done = 0;
    let label = |done: usize, is_mean: bool| {
        if done + 1 == steps && !is_mean {
            String::new()
        } else {
            format!("step{done}")
        }
    };
    for &t in rest {
        let l = label(done, mean);
        acc = match op {
            // max(a, b) = a + relu(b - a); min(a, b) = a - relu(a - b)
            "Max" | "Min" => {
                let d = if op == "Max" {
                    push_elementwise(imp, ctx, &format!("{l}/diff"), Op::Sub, vec![t, acc])?
                } else {
                    push_elementwise(imp, ctx, &format!("{l}/diff"), Op::Sub, vec![acc, t])?
                };
                let r = push_elementwise(imp, ctx, &format!("{l}/relu"), Op::Relu, vec![d])?;
                let combine = if op == "Max" { Op::Add } else { Op::Sub };
                push_elementwise(imp, ctx, &l, combine, vec![acc, r])?
            }
            _ => push_elementwise(imp, ctx, &l, Op::Add, vec![acc, t])?,
        };
        done += 1;
    }
    if let Some(c) = konst {
        let l = label(done, mean);
        acc = match op {
            "Max" | "Min" => {
                // Elementwise constant bounds: max(t, c) = c + relu(t - c), min(t, c) = t - relu(t - c).
                let neg: Vec<f32> = c.iter().map(|v| -v).collect();
                let d = push_elementwise(
                    imp,
                    ctx,
                    &format!("{l}/diff"),
                    Op::AddConst { constant: neg },
                    vec![acc],
                )?;
                let r = push_elementwise(imp, ctx, &format!("{l}/relu"), Op::Relu, vec![d])?;
                if op == "Max" {
                    push_elementwise(imp, ctx, &l, Op::AddConst { constant: c }, vec![r])?
                } else {
                    push_elementwise(imp, ctx, &l, Op::Sub, vec![acc, r])?
                }
            }
            _ => push_elementwise(imp, ctx, &l, Op::AddConst { constant: c }, vec![acc])?,
        };
    }
    if mean {
        acc = scale(imp, ctx, "", acc, vec![1.0 / n as f32; numel])?;
    } else if steps == 0 {
        imp.alias(out, acc);
        return Ok(());
    }
    imp.bind(out, Value::Tensor(acc));
    Ok(())
}

/// `Elu`, `Selu`, `Celu` and `Gelu`: a table of the function at the node's attributes.
pub(crate) fn parametric<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let func = match ctx.op() {
        "Elu" => UnaryFn::Elu {
            alpha: Param::new(ctx.attr_float("alpha", 1.0)?),
        },
        "Selu" => UnaryFn::Selu {
            alpha: Param::new(ctx.attr_float("alpha", crate::unary::SELU_ALPHA)?),
            gamma: Param::new(ctx.attr_float("gamma", crate::unary::SELU_GAMMA)?),
        },
        "Celu" => {
            let alpha = ctx.attr_float("alpha", 1.0)?;
            if alpha == 0.0 {
                return Err(ctx.bad_attr("alpha", "must not be 0"));
            }
            UnaryFn::Celu {
                alpha: Param::new(alpha),
            }
        }
        "Gelu" => match ctx.attr_string("approximate")?.as_deref() {
            None | Some("none") => UnaryFn::Gelu,
            Some("tanh") => UnaryFn::GeluTanh,
            Some(other) => {
                return Err(
                    ctx.bad_attr("approximate", format!("`{other}` is not `none` or `tanh`"))
                )
            }
        },
        _ => return Err(ctx.unsupported("is not a parametric activation")),
    };
    crate::onnx::emit::apply_unary(imp, ctx, func)
}

/// `Pow(x, e)` for a constant scalar `e`: `x·x` and `x·x·x` for 2 and 3, the existing tables
/// for 0.5, -0.5 and -1, the identity for 1, otherwise a `pow` table.
/// `x^y` with a computed exponent: `exp(y · ln x)`, for a positive base (a base outside the
/// log table's calibrated positive domain is a prove-time error naming the node).
fn pow_computed<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    y: TensorId,
) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let y_dims = imp.shape(y).to_vec();
    let (ln, x_dims) = match imp.input(ctx, 0)? {
        Value::Const(c) => {
            if c.to_f32().iter().any(|&v| v <= 0.0) {
                return Err(ctx
                    .unsupported("a computed exponent needs a positive base (x^y = exp(y·ln x))"));
            }
            let logs: Vec<f32> = c.to_f32().iter().map(|&v| v.ln()).collect();
            (
                Value::Const(Rc::new(Const::f32(c.dims.clone(), logs))),
                c.dims.clone(),
            )
        }
        Value::Tensor(x) => {
            let op = Op::Unary { func: UnaryFn::Log };
            let dims = imp.shape(x).to_vec();
            let l = push_sub(imp, ctx, "ln", op, vec![x], dims.clone())?;
            (Value::Tensor(l), dims)
        }
    };
    let shape = broadcast_shape(&x_dims, &y_dims)
        .ok_or_else(|| ctx.shape_err(format!("{x_dims:?} and {y_dims:?} do not broadcast")))?;
    let y = imp.broadcast_tensor(ctx, y, &shape, "exponent")?;
    let product = match ln {
        Value::Const(c) => {
            let values = broadcast_to(&c.to_f32(), &c.dims, &shape)
                .ok_or_else(|| ctx.shape_err("the base does not broadcast"))?;
            push_sub(
                imp,
                ctx,
                "y_ln_x",
                Op::MulConst { constant: values },
                vec![y],
                shape.clone(),
            )?
        }
        Value::Tensor(l) => {
            let l = imp.broadcast_tensor(ctx, l, &shape, "ln/broadcast")?;
            push_sub(imp, ctx, "y_ln_x", Op::Mul, vec![y, l], shape.clone())?
        }
    };
    let op = Op::Unary { func: UnaryFn::Exp };
    let r = push_sub(imp, ctx, "", op, vec![product], shape)?;
    imp.bind(out, Value::Tensor(r));
    Ok(())
}

pub(crate) fn pow<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let e = match imp.input(ctx, 1)? {
        Value::Tensor(y) => return pow_computed(imp, ctx, y),
        Value::Const(c) => match c.to_f32().as_slice() {
            [e] if c.dims.iter().product::<usize>() == 1 => *e,
            _ => return Err(ctx.unsupported("the exponent must be one constant value")),
        },
    };
    let t = match arg(imp, ctx)? {
        Arg::Const(c) => {
            let e = f64::from(e);
            fold(imp, ctx, &c, |x| libm::pow(x, e));
            return Ok(());
        }
        Arg::Tensor(t) => t,
    };
    if e == 1.0 {
        imp.alias(out, t);
        return Ok(());
    }
    let y = match e {
        2.0 => push_elementwise(imp, ctx, "", Op::Mul, vec![t, t])?,
        3.0 => {
            let sq = push_elementwise(imp, ctx, "square", Op::Mul, vec![t, t])?;
            push_elementwise(imp, ctx, "", Op::Mul, vec![sq, t])?
        }
        _ => {
            let func = match e {
                0.5 => UnaryFn::Sqrt,
                -0.5 => UnaryFn::Rsqrt,
                -1.0 => UnaryFn::Reciprocal,
                _ => UnaryFn::Pow {
                    exponent: Param::new(e),
                },
            };
            push_elementwise(imp, ctx, "", Op::Unary { func }, vec![t])?
        }
    };
    imp.bind(out, Value::Tensor(y));
    Ok(())
}

/// `Dropout` at inference: the identity (its mask output must not be read, and
/// `training_mode`, when given, must be a constant false).
pub(crate) fn dropout<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    imp.check_extra_outputs(ctx)?;
    match imp.input_opt(ctx, 2)? {
        None => {}
        Some(Value::Const(c)) if c.to_f32().iter().all(|&v| v == 0.0) => {}
        Some(_) => return Err(ctx.unsupported("training_mode must be a constant false")),
    }
    match imp.input(ctx, 0)? {
        Value::Tensor(t) => imp.alias(out, t),
        c @ Value::Const(_) => imp.bind(out, c),
    }
    Ok(())
}
