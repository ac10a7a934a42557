//! Elementwise ops: Add, Sub, Mul, Div (activations or constants on either side, numpy
//! broadcasting), the lookup-table functions (Sigmoid, Tanh, Erf, Exp, Sqrt, Reciprocal) and Neg.
//!
//! A per-channel affine map right after a `Linear` or `Conv` read nowhere else is folded into
//! that node's weights and bias instead of becoming a node of its own.

use std::rc::Rc;

use crate::graph::{ElementOp, Op, TensorId, UnaryFn};
use crate::onnx::emit::apply_unary;
use crate::onnx::emit::fold_affine;
use crate::onnx::error::ImportError;
use crate::onnx::node::NodeCtx;
use crate::onnx::shape::{broadcast_shape, broadcast_to};
use crate::onnx::state::{Importer, Value};
use crate::onnx::tensor::{Const, ConstData};

/// The four arithmetic ops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bin {
    Add,
    Sub,
    Mul,
    Div,
}

impl Bin {
    fn from_op(op: &str) -> Option<Self> {
        match op {
            "Add" => Some(Bin::Add),
            "Sub" => Some(Bin::Sub),
            "Mul" => Some(Bin::Mul),
            "Div" => Some(Bin::Div),
            _ => None,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Bin::Add => "+",
            Bin::Sub => "-",
            Bin::Mul => "*",
            Bin::Div => "/",
        }
    }

    fn graph_op(self) -> Op {
        match self {
            Bin::Add => Op::Add,
            Bin::Sub => Op::Sub,
            Bin::Mul => Op::Mul,
            Bin::Div => Op::Div,
        }
    }
}

/// `Add`, `Sub`, `Mul`, `Div`.
pub(crate) fn binary<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let bin = Bin::from_op(ctx.op()).ok_or_else(|| ctx.unsupported("is not an arithmetic op"))?;
    let (a, b) = (imp.input(ctx, 0)?, imp.input(ctx, 1)?);
    if matches!((bin, &a), (Bin::Div, Value::Tensor(_))) && imp.is_int(ctx, 0) && imp.is_int(ctx, 1)
    {
        // Integer division truncates (constants fold below, as integers).
        return super::integer::int_div(imp, ctx);
    }
    if matches!((bin, &a, &b), (Bin::Div, Value::Const(_), Value::Tensor(_)))
        && imp.is_int(ctx, 0)
        && imp.is_int(ctx, 1)
    {
        // A reciprocal table would give 7 / 2 = 3.5 where ONNX truncates to 3.
        return Err(ctx.unsupported(
            "integer division of a constant by a computed integer (only a constant divisor is supported)",
        ));
    }
    let dims = |imp: &Importer<'g>, v: &Value| match v {
        Value::Tensor(t) => imp.shape(*t).to_vec(),
        Value::Const(c) => c.dims.clone(),
    };
    let (da, db) = (dims(imp, &a), dims(imp, &b));
    let shape = broadcast_shape(&da, &db).ok_or_else(|| {
        ctx.shape_err(format!(
            "operands of shapes {da:?} {} {db:?} do not broadcast",
            bin.symbol()
        ))
    })?;
    match (a, b) {
        (Value::Tensor(a), Value::Tensor(b)) => {
            let a = imp.broadcast_tensor(ctx, a, &shape, "broadcast_a")?;
            let b = imp.broadcast_tensor(ctx, b, &shape, "broadcast_b")?;
            let id = imp.push(ctx, ctx.name.clone(), bin.graph_op(), vec![a, b], shape)?;
            imp.bind(out, Value::Tensor(id));
        }
        (Value::Tensor(t), Value::Const(c)) => {
            let t = imp.broadcast_tensor(ctx, t, &shape, "broadcast")?;
            let c = full_const(ctx, &c, &shape)?;
            let start = imp.nodes.len();
            tensor_op_const(imp, ctx, out, bin, t, c)?;
            // A stored tensor of the model (a learned scale or shift) is a trained weight;
            // a literal the exporter wrote as a `Constant` stays structural.
            if imp.is_initializer(ctx.input_name(1).unwrap_or_default()) {
                imp.mark_own_trained_since(ctx, start);
            }
        }
        (Value::Const(c), Value::Tensor(t)) => {
            let t = imp.broadcast_tensor(ctx, t, &shape, "broadcast")?;
            let c = full_const(ctx, &c, &shape)?;
            let start = imp.nodes.len();
            const_op_tensor(imp, ctx, out, bin, c, t)?;
            if imp.is_initializer(ctx.input_name(0).unwrap_or_default()) {
                imp.mark_own_trained_since(ctx, start);
            }
        }
        (Value::Const(a), Value::Const(b)) => {
            let c = fold_binary(ctx, bin, &a, &b, shape)?;
            imp.bind(out, Value::Const(Rc::new(c)));
        }
    }
    Ok(())
}

/// Constant `c` broadcast to `shape`, as floats.
fn full_const(ctx: &NodeCtx<'_>, c: &Const, shape: &[usize]) -> Result<Vec<f32>, ImportError> {
    broadcast_to(&c.to_f32(), &c.dims, shape).ok_or_else(|| {
        ctx.shape_err(format!(
            "constant of shape {:?} does not broadcast to {shape:?}",
            c.dims
        ))
    })
}

/// `t op c` with `c` already broadcast to `t`'s shape.
fn tensor_op_const<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    out: &'g str,
    bin: Bin,
    t: TensorId,
    c: Vec<f32>,
) -> Result<(), ImportError> {
    match bin {
        Bin::Add => add_const(imp, ctx, out, t, c),
        Bin::Sub => add_const(imp, ctx, out, t, c.into_iter().map(|v| -v).collect()),
        Bin::Mul => mul_const(imp, ctx, out, t, c),
        Bin::Div => {
            if c.contains(&0.0) {
                return Err(ctx.unsupported(format!(
                    "divisor `{}` contains 0",
                    ctx.input_name(1).unwrap_or_default()
                )));
            }
            let inv = c.into_iter().map(|v| (1.0 / f64::from(v)) as f32).collect();
            mul_const(imp, ctx, out, t, inv)
        }
    }
}

/// `c op t` with `c` already broadcast to `t`'s shape.
fn const_op_tensor<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    out: &'g str,
    bin: Bin,
    c: Vec<f32>,
    t: TensorId,
) -> Result<(), ImportError> {
    let shape = imp.shape(t).to_vec();
    match bin {
        Bin::Add | Bin::Mul => tensor_op_const(imp, ctx, out, bin, t, c),
        Bin::Sub => {
            // c - t = (-1) * t + c
            let neg = Op::MulConst {
                constant: vec![-1.0; c.len()],
            };
            let name = format!("{}/neg", ctx.name);
            let n = imp.push(ctx, name, neg, vec![t], shape.clone())?;
            let op = Op::AddConst { constant: c };
            let id = imp.push(ctx, ctx.name.clone(), op, vec![n], shape)?;
            imp.bind(out, Value::Tensor(id));
            Ok(())
        }
        Bin::Div => {
            // c / t = c * (1 / t)
            let recip = Op::Unary {
                func: UnaryFn::Reciprocal,
            };
            if c.iter().all(|&v| v == 1.0) {
                let id = imp.push(ctx, ctx.name.clone(), recip, vec![t], shape)?;
                imp.bind(out, Value::Tensor(id));
                return Ok(());
            }
            let name = format!("{}/reciprocal", ctx.name);
            let r = imp.push(ctx, name, recip, vec![t], shape.clone())?;
            let op = Op::MulConst { constant: c };
            let id = imp.push(ctx, ctx.name.clone(), op, vec![r], shape)?;
            imp.bind(out, Value::Tensor(id));
            Ok(())
        }
    }
}

/// `t + c` (`c` broadcast to `t`'s shape): folded into a preceding Linear/Conv bias when it
/// is constant per output channel, else an `AddConst` node.
pub(crate) fn add_const<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    out: &'g str,
    t: TensorId,
    c: Vec<f32>,
) -> Result<(), ImportError> {
    if fold_affine(imp, t, None, &c) {
        imp.alias(out, t);
        return Ok(());
    }
    let shape = imp.shape(t).to_vec();
    let id = imp.push(
        ctx,
        ctx.name.clone(),
        Op::AddConst { constant: c },
        vec![t],
        shape,
    )?;
    imp.bind(out, Value::Tensor(id));
    Ok(())
}

/// `t * c` (`c` broadcast to `t`'s shape) as a `MulConst` node.
fn mul_const<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    out: &'g str,
    t: TensorId,
    c: Vec<f32>,
) -> Result<(), ImportError> {
    let shape = imp.shape(t).to_vec();
    let id = imp.push(
        ctx,
        ctx.name.clone(),
        Op::MulConst { constant: c },
        vec![t],
        shape,
    )?;
    imp.bind(out, Value::Tensor(id));
    Ok(())
}

/// Folds a binary op on two constants (integers stay integers: shape arithmetic).
fn fold_binary(
    ctx: &NodeCtx<'_>,
    bin: Bin,
    a: &Const,
    b: &Const,
    dims: Vec<usize>,
) -> Result<Const, ImportError> {
    let bad = || ctx.shape_err(format!("{:?} {} {:?}", a.dims, bin.symbol(), b.dims));
    if let (ConstData::I64(x), ConstData::I64(y)) = (&a.data, &b.data) {
        let x = broadcast_to(x, &a.dims, &dims).ok_or_else(bad)?;
        let y = broadcast_to(y, &b.dims, &dims).ok_or_else(bad)?;
        let values = x
            .iter()
            .zip(&y)
            .map(|(&x, &y)| match bin {
                Bin::Add => x.checked_add(y),
                Bin::Sub => x.checked_sub(y),
                Bin::Mul => x.checked_mul(y),
                Bin::Div => x.checked_div(y),
            })
            .collect::<Option<Vec<i64>>>()
            .ok_or_else(|| ctx.unsupported("integer overflow or division by zero in constants"))?;
        return Ok(Const::i64(dims, values));
    }
    let x = broadcast_to(&a.to_f32(), &a.dims, &dims).ok_or_else(bad)?;
    let y = broadcast_to(&b.to_f32(), &b.dims, &dims).ok_or_else(bad)?;
    let values = x
        .iter()
        .zip(&y)
        .map(|(&x, &y)| match bin {
            Bin::Add => x + y,
            Bin::Sub => x - y,
            Bin::Mul => x * y,
            Bin::Div => x / y,
        })
        .collect();
    Ok(Const::f32(dims, values))
}

/// Sigmoid, Tanh, Erf, Exp, Sqrt, Reciprocal (folded on constants). `Reciprocal` of a `Sqrt`
/// read nowhere else becomes one `Rsqrt`.
pub(crate) fn unary<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let func = UnaryFn::from_onnx(ctx.op())
        .ok_or_else(|| ctx.unsupported("is not an elementwise function"))?;
    apply_unary(imp, ctx, func)
}

/// An op of the exact elementwise family ([`ElementOp`]), folded when its input is a
/// constant.
pub(crate) fn elementwise<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let op = ElementOp::from_onnx(ctx.op())
        .ok_or_else(|| ctx.unsupported("is not an exact elementwise op"))?;
    let value = match imp.input(ctx, 0)? {
        Value::Const(c) => {
            let data = c
                .to_f32()
                .into_iter()
                .map(|x| op.float(f64::from(x)) as f32)
                .collect();
            Value::Const(Rc::new(Const::f32(c.dims.clone(), data)))
        }
        Value::Tensor(t) => {
            let shape = imp.shape(t).to_vec();
            let node = Op::Elementwise { op };
            Value::Tensor(imp.push(ctx, ctx.name.clone(), node, vec![t], shape)?)
        }
    };
    imp.bind(out, value);
    Ok(())
}

/// `Neg`: a `MulConst` by -1 (folded on constants).
pub(crate) fn neg<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    match imp.input(ctx, 0)? {
        Value::Const(c) => {
            let data = match &c.data {
                ConstData::I64(v) => ConstData::I64(v.iter().map(|x| x.wrapping_neg()).collect()),
                ConstData::F32(v) => ConstData::F32(v.iter().map(|x| -x).collect()),
            };
            let c = Const {
                dims: c.dims.clone(),
                data,
            };
            imp.bind(out, Value::Const(Rc::new(c)));
        }
        Value::Tensor(t) => {
            let n = imp.shape(t).iter().product();
            mul_const(imp, ctx, out, t, vec![-1.0; n])?;
        }
    }
    Ok(())
}
