//! Reductions over any axes: ReduceSum, ReduceMean, ReduceSumSquare, ReduceL1, ReduceL2,
//! ReduceLogSumExp, ReduceMax, ReduceMin, ReduceProd.
//!
//! The reduced axes are moved last by a `Select` (free when they already are), the tensor is
//! viewed as `[outer, n]`, and each row of `n` becomes one value: a `Linear` with constant
//! weights for the sums (exact: the weights are 1, or `1/n` for the mean), a `ReduceMax`, or
//! a balanced tree of `Mul`s for the product.
//! The elementwise parts (square, abs, exp, sqrt, log, negation) are the existing ops.

use std::rc::Rc;

use crate::graph::{ElementOp, Op, TensorId, UnaryFn};
use crate::onnx::emit::ReducePlan;
use crate::onnx::error::ImportError;
use crate::onnx::node::NodeCtx;
use crate::onnx::shape::normalize_axis;
use crate::onnx::state::{Importer, Value};
use crate::onnx::tensor::{Const, ConstData};

/// The reduced axes of the node (attribute before `since`, input 1 from it), resolved against
/// `dims`; `None` when the node is an identity (`noop_with_empty_axes` with no axes).
fn plan<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    dims: Vec<usize>,
) -> Result<Option<ReducePlan>, ImportError> {
    // Axes moved from an attribute to input 1 at opset 13 for ReduceSum, 18 for the others.
    let since = if ctx.op() == "ReduceSum" { 13 } else { 18 };
    let raw = if imp.opset >= since {
        match imp.input_opt(ctx, 1)? {
            None => None,
            Some(Value::Tensor(_)) => {
                return Err(ctx.not_constant(ctx.input_name(1).unwrap_or_default()))
            }
            Some(Value::Const(c)) => match &c.data {
                ConstData::I64(v) => Some(v.clone()),
                ConstData::F32(_) => return Err(ctx.bad_node("axes must be an integer tensor")),
            },
        }
    } else {
        ctx.attr_ints("axes")?
    };
    let rank = dims.len();
    let axes = match raw {
        Some(a) if !a.is_empty() => a
            .iter()
            .map(|&a| {
                normalize_axis(a, rank).ok_or_else(|| {
                    ctx.bad_attr("axes", format!("{a} is out of range for {dims:?}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ if ctx.attr_int("noop_with_empty_axes", 0)? != 0 => return Ok(None),
        _ => (0..rank).collect(),
    };
    let keepdims = ctx.attr_int("keepdims", 1)? != 0;
    Ok(Some(ReducePlan::new(dims, axes, keepdims)))
}

/// What is reduced, and how.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Sum,
    Mean,
    SumSquare,
    L1,
    L2,
    LogSumExp,
    Max,
    Min,
    Prod,
}

impl Kind {
    fn from_op(op: &str) -> Option<Kind> {
        Some(match op {
            "ReduceSum" => Kind::Sum,
            "ReduceMean" => Kind::Mean,
            "ReduceSumSquare" => Kind::SumSquare,
            "ReduceL1" => Kind::L1,
            "ReduceL2" => Kind::L2,
            "ReduceLogSumExp" => Kind::LogSumExp,
            "ReduceMax" => Kind::Max,
            "ReduceMin" => Kind::Min,
            "ReduceProd" => Kind::Prod,
            _ => return None,
        })
    }

    /// The reduction of one group in f64 (constant folding).
    fn fold(self, g: &[f64]) -> f64 {
        let sum = |f: fn(f64) -> f64| g.iter().map(|&v| f(v)).sum::<f64>();
        match self {
            Kind::Sum => sum(|v| v),
            Kind::Mean => sum(|v| v) / g.len().max(1) as f64,
            Kind::SumSquare => sum(|v| v * v),
            Kind::L1 => sum(f64::abs),
            Kind::L2 => sum(|v| v * v).sqrt(),
            Kind::LogSumExp => sum(f64::exp).ln(),
            Kind::Max => g.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            Kind::Min => g.iter().copied().fold(f64::INFINITY, f64::min),
            Kind::Prod => g.iter().product(),
        }
    }
}

/// One of the reductions.
pub(crate) fn reduce<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let kind = Kind::from_op(ctx.op()).ok_or_else(|| ctx.unsupported("is not a reduction"))?;
    let x = imp.input(ctx, 0)?;
    let dims = match &x {
        Value::Tensor(t) => imp.shape(*t).to_vec(),
        Value::Const(c) => c.dims.clone(),
    };
    let Some(p) = plan(imp, ctx, dims)? else {
        match x {
            Value::Tensor(t) => imp.alias(out, t),
            c @ Value::Const(_) => imp.bind(out, c),
        }
        return Ok(());
    };
    if p.n == 0 || p.outer == 0 {
        return Err(ctx.unsupported(format!("reduces an empty tensor {:?}", p.dims)));
    }
    let t = match x {
        Value::Const(c) => {
            let v = c.to_f32();
            let ordered: Vec<f64> = p
                .row_order()
                .and_then(|order| {
                    order
                        .iter()
                        .map(|&i| v.get(i).copied().map(f64::from))
                        .collect()
                })
                .ok_or_else(|| ctx.shape_err(format!("cannot reorder the axes of {:?}", p.dims)))?;
            let data = ordered.chunks(p.n).map(|g| kind.fold(g) as f32).collect();
            imp.bind(out, Value::Const(Rc::new(Const::f32(p.out_shape, data))));
            return Ok(());
        }
        Value::Tensor(t) => t,
    };
    let moved = p.to_rows(imp, ctx, t)?;
    let reduced = reduce_rows(imp, ctx, kind, moved, &p)?;
    let id = imp.push(
        ctx,
        ctx.name.clone(),
        Op::Reshape,
        vec![reduced],
        p.out_shape,
    )?;
    imp.bind(out, Value::Tensor(id));
    Ok(())
}

/// Reduces each row of the `[outer, n]` tensor `t` to one value (`[outer, 1]`).
fn reduce_rows<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    kind: Kind,
    t: TensorId,
    p: &ReducePlan,
) -> Result<TensorId, ImportError> {
    let sub = |l: &str| format!("{}/{l}", ctx.name);
    let rows = vec![p.outer, p.n];
    let one = vec![p.outer, 1];
    let sum = |imp: &mut Importer<'g>, t: TensorId, w: f32, label: &str| {
        let op = Op::Linear {
            weight: vec![w; p.n],
            bias: vec![0.0],
            n_in: p.n,
            n_out: 1,
        };
        imp.push(ctx, sub(label), op, vec![t], one.clone())
    };
    let unary = |imp: &mut Importer<'g>, t: TensorId, func: UnaryFn, shape: &[usize]| {
        imp.push(
            ctx,
            sub(func.name()),
            Op::Unary { func },
            vec![t],
            shape.to_vec(),
        )
    };
    Ok(match kind {
        Kind::Sum => sum(imp, t, 1.0, "sum")?,
        Kind::Mean => sum(imp, t, 1.0 / p.n as f32, "mean")?,
        Kind::SumSquare | Kind::L2 => {
            let sq = imp.push(ctx, sub("square"), Op::Mul, vec![t, t], rows)?;
            let s = sum(imp, sq, 1.0, "sum")?;
            if kind == Kind::L2 {
                unary(imp, s, UnaryFn::Sqrt, &one)?
            } else {
                s
            }
        }
        Kind::L1 => {
            let op = Op::Elementwise { op: ElementOp::Abs };
            let a = imp.push(ctx, sub("abs"), op, vec![t], rows)?;
            sum(imp, a, 1.0, "sum")?
        }
        Kind::LogSumExp => {
            // m + log(sum(exp(x - m))) with m the row maximum: the exponent's argument is
            // never positive and the logarithm's lies in [1, n], so both tables stay small.
            let m = imp.push(
                ctx,
                sub("max"),
                Op::ReduceMax { group: p.n },
                vec![t],
                one.clone(),
            )?;
            let spread = (0..p.outer * p.n).map(|i| i / p.n).collect();
            let mb = imp.push(
                ctx,
                sub("max/rows"),
                Op::Select { index: spread },
                vec![m],
                rows.clone(),
            )?;
            let d = imp.push(ctx, sub("shifted"), Op::Sub, vec![t, mb], rows.clone())?;
            let e = unary(imp, d, UnaryFn::Exp, &rows)?;
            let s = sum(imp, e, 1.0, "sum")?;
            let l = unary(imp, s, UnaryFn::Log, &one)?;
            imp.push(ctx, sub("logsumexp"), Op::Add, vec![l, m], one)?
        }
        Kind::Max => {
            let op = Op::ReduceMax { group: p.n };
            imp.push(ctx, sub("max"), op, vec![t], one)?
        }
        Kind::Min => {
            // min(x) = -max(-x)
            let neg = |v: usize| Op::MulConst {
                constant: vec![-1.0; v],
            };
            let n = imp.push(ctx, sub("neg"), neg(p.outer * p.n), vec![t], rows)?;
            let op = Op::ReduceMax { group: p.n };
            let m = imp.push(ctx, sub("max"), op, vec![n], one.clone())?;
            imp.push(ctx, sub("min"), neg(p.outer), vec![m], one)?
        }
        Kind::Prod => {
            // A balanced tree of products: each level multiplies the first half of every row
            // by the second (an odd element is carried up unchanged).
            let mut t = t;
            let mut width = p.n;
            let mut level = 0;
            while width > 1 {
                let half = width / 2;
                let carry = width % 2;
                let pick = |offset: usize| -> Vec<usize> {
                    (0..p.outer)
                        .flat_map(|r| (0..half).map(move |j| r * width + offset + j))
                        .collect()
                };
                let shape = vec![p.outer, half];
                let a = imp.push(
                    ctx,
                    sub(&format!("prod{level}/a")),
                    Op::Select { index: pick(0) },
                    vec![t],
                    shape.clone(),
                )?;
                let b = imp.push(
                    ctx,
                    sub(&format!("prod{level}/b")),
                    Op::Select { index: pick(half) },
                    vec![t],
                    shape.clone(),
                )?;
                let m = imp.push(
                    ctx,
                    sub(&format!("prod{level}")),
                    Op::Mul,
                    vec![a, b],
                    shape,
                )?;
                t = if carry == 1 {
                    let next = half + 1;
                    let index = (0..p.outer)
                        .flat_map(|r| {
                            (0..next).map(move |j| {
                                if j < half {
                                    r * half + j
                                } else {
                                    p.outer * half + r * width + width - 1
                                }
                            })
                        })
                        .collect();
                    let label = sub(&format!("prod{level}/carry"));
                    imp.push(
                        ctx,
                        label,
                        Op::Select { index },
                        vec![m, t],
                        vec![p.outer, next],
                    )?
                } else {
                    m
                };
                width = half + carry;
                level += 1;
            }
            if p.n == 1 {
                let op = Op::Reshape;
                imp.push(ctx, sub("prod"), op, vec![t], one)?
            } else {
                t
            }
        }
    })
}
