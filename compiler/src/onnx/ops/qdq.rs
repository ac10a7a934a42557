//! `QuantizeLinear` and `DequantizeLinear` (the QDQ format of quantized ONNX models).
//!
//! `QuantizeLinear` is `clamp(round(x / scale) + zero_point)` to the range of the zero
//! point's type (uint8 when absent): a constant scaling, `floor(u + 1/2)` (exact and without a
//! table; ONNX rounds an exact tie `n + 1/2` to even, this rounds it up, which the accuracy
//! report measures) and an exact clamp. `DequantizeLinear` is `(x - zero_point) · scale`. On constants
//! (quantized weights) both fold at import, so a QDQ model's weights become float constants.

use std::rc::Rc;

use crate::graph::{Op, UnaryFn};
use crate::onnx::emit::clamp;
use crate::onnx::emit::dims_of;
use crate::onnx::error::ImportError;
use crate::onnx::node::NodeCtx;
use crate::onnx::proto::tensor_proto::DataType;
use crate::onnx::shape::normalize_axis;
use crate::onnx::state::{Importer, Value};
use crate::onnx::tensor::Const;

/// Per-element scale and zero point, and the quantized type's range `(lo, hi)`.
struct Params {
    scale: Vec<f32>,
    zero_point: Vec<f32>,
    range: (f32, f32),
}

/// Scale and zero point broadcast to `dims` (per tensor, or per `axis` for a 1-D scale), and
/// the zero point's integer range.
fn params<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    dims: &[usize],
) -> Result<Params, ImportError> {
    let scale = imp.const_input(ctx, 1)?.to_f32();
    let (zp, range) = match ctx.input_name(2).filter(|n| !n.is_empty()) {
        None => (vec![0.0], (0.0, 255.0)),
        Some(name) => {
            let c = imp.const_input(ctx, 2)?;
            let ty = imp.const_type(name);
            let range = match ty {
                Some(t) if t == DataType::Int8 as i32 => (-128.0, 127.0),
                Some(t) if t == DataType::Uint8 as i32 => (0.0, 255.0),
                Some(t) if t == DataType::Int16 as i32 => (-32768.0, 32767.0),
                Some(t) if t == DataType::Uint16 as i32 => (0.0, 65535.0),
                Some(t) if t == DataType::Int32 as i32 => (-2147483648.0, 2147483647.0),
                _ => (0.0, 255.0),
            };
            (c.to_f32(), range)
        }
    };
    if scale.is_empty() || zp.is_empty() || scale.iter().any(|s| !s.is_finite() || *s == 0.0) {
        return Err(ctx.bad_node(format!("scale {scale:?} must be finite and non-zero")));
    }
    let n: usize = dims.iter().product();
    let spread = |v: &[f32], what: &str| -> Result<Vec<f32>, ImportError> {
        if v.len() == 1 {
            return Ok(vec![v[0]; n]);
        }
        let axis = ctx.attr_int("axis", 1)?;
        let a = normalize_axis(axis, dims.len())
            .ok_or_else(|| ctx.bad_attr("axis", format!("{axis} is out of range for {dims:?}")))?;
        let len = dims.get(a).copied().unwrap_or(0);
        if v.len() != len {
            return Err(ctx.shape_err(format!(
                "{what} holds {} values; axis {a} of {dims:?} has {len}",
                v.len()
            )));
        }
        let inner: usize = dims.iter().skip(a + 1).product();
        Ok((0..n).map(|i| v[(i / inner.max(1)) % len]).collect())
    };
    Ok(Params {
        scale: spread(&scale, "y_scale")?,
        zero_point: spread(&zp, "zero point")?,
        range,
    })
}

/// `QuantizeLinear` and `DequantizeLinear`.
pub(crate) fn qdq<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let x = imp.input(ctx, 0)?;
    let dims = dims_of(imp, &x);
    let Params {
        scale,
        zero_point: zp,
        range: (lo, hi),
    } = params(imp, ctx, &dims)?;
    let quantize = ctx.op() == "QuantizeLinear";
    let value = match x {
        Value::Const(c) => {
            let v = c.to_f32();
            let data = v
                .iter()
                .zip(scale.iter().zip(&zp))
                .map(|(&x, (&s, &z))| {
                    if quantize {
                        ((x / s).round_ties_even() + z).clamp(lo, hi)
                    } else {
                        (x - z) * s
                    }
                })
                .collect();
            Value::Const(Rc::new(Const::f32(dims, data)))
        }
        Value::Tensor(t) => {
            let name = |l: &str| format!("{}/{l}", ctx.name);
            let id = if quantize {
                let inv = scale.iter().map(|s| 1.0 / s).collect();
                let d = imp.push(
                    ctx,
                    name("divide"),
                    Op::MulConst { constant: inv },
                    vec![t],
                    dims.clone(),
                )?;
                // round(u) as floor(u + 1/2): exact, with no table (ties round up).
                let n = dims.iter().product();
                let op = Op::AddConst {
                    constant: vec![0.5; n],
                };
                let h = imp.push(ctx, name("half"), op, vec![d], dims.clone())?;
                let op = Op::Unary {
                    func: UnaryFn::Floor,
                };
                let mut r = imp.push(ctx, name("round"), op, vec![h], dims.clone())?;
                if zp.iter().any(|&z| z != 0.0) {
                    let op = Op::AddConst { constant: zp };
                    r = imp.push(ctx, name("zero_point"), op, vec![r], dims)?;
                }
                clamp(imp, ctx, "saturate", r, Some(lo), Some(hi))?
            } else {
                let mut r = t;
                if zp.iter().any(|&z| z != 0.0) {
                    let constant = zp.iter().map(|z| -z).collect();
                    r = imp.push(
                        ctx,
                        name("zero_point"),
                        Op::AddConst { constant },
                        vec![r],
                        dims.clone(),
                    )?;
                }
                imp.push(
                    ctx,
                    ctx.name.clone(),
                    Op::MulConst { constant: scale },
                    vec![r],
                    dims,
                )?
            };
            Value::Tensor(id)
        }
    };
    imp.bind(out, value);
    Ok(())
}
