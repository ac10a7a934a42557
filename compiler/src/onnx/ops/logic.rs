//! Comparisons, boolean logic, `Where` and `Cast`, as compositions of existing ops (the
//! index ops along an axis are in `argmax.rs`).
//!
//! Booleans are the numbers 0 and 1 (exact at every scale). A comparison is a step of the
//! difference: `a > b` is `relu(sign(a - b))`, `a == b` is `1 - |sign(a - b)|`, with `sign` the
//! three-valued table; `and`, `or` and `xor` are polynomials of their 0/1 operands. The index of
//! the first maximum of a row is `n - max_i((n - i) · [x_i == max x])`, exact on integers. The
//! quantized comparison is exact on the quantized values; a float difference smaller than the
//! table's resolution may compare as equal (the accuracy report measures it).

use std::rc::Rc;

use crate::graph::{ElementOp, Op, TensorId, UnaryFn};
use crate::onnx::emit::broadcast_all;
use crate::onnx::emit::sub_name;
use crate::onnx::error::ImportError;
use crate::onnx::node::NodeCtx;
use crate::onnx::shape::broadcast_to;
use crate::onnx::state::{Importer, Value};
use crate::onnx::tensor::{Const, ConstData};

/// An operand at the node's broadcast shape.
enum Operand {
    Tensor(TensorId),
    Const(Vec<f32>),
}

/// Builds the node's ops, naming each `node/label`; `finish` gives the last one the node's name.
struct Build<'i, 'g> {
    imp: &'i mut Importer<'g>,
    ctx: &'i NodeCtx<'g>,
    shape: Vec<usize>,
}

impl<'g> Build<'_, 'g> {
    fn push(
        &mut self,
        label: &str,
        op: Op,
        inputs: Vec<TensorId>,
    ) -> Result<TensorId, ImportError> {
        let name = sub_name(self.ctx, label);
        self.imp
            .push(self.ctx, name, op, inputs, self.shape.clone())
    }

    fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// `m·t + c` (either step skipped when it is the identity).
    fn affine(
        &mut self,
        label: &str,
        t: TensorId,
        m: f32,
        c: f32,
    ) -> Result<TensorId, ImportError> {
        let n = self.numel();
        let mut t = t;
        if m != 1.0 {
            t = self.push(
                &format!("{label}/scale"),
                Op::MulConst {
                    constant: vec![m; n],
                },
                vec![t],
            )?;
        }
        if c != 0.0 {
            t = self.push(
                label,
                Op::AddConst {
                    constant: vec![c; n],
                },
                vec![t],
            )?;
        }
        Ok(t)
    }

    /// `a - b` (at least one operand is a tensor).
    fn sub(&mut self, label: &str, a: &Operand, b: &Operand) -> Result<TensorId, ImportError> {
        match (a, b) {
            (Operand::Tensor(a), Operand::Tensor(b)) => self.push(label, Op::Sub, vec![*a, *b]),
            (Operand::Tensor(a), Operand::Const(c)) => {
                let constant = c.iter().map(|v| -v).collect();
                self.push(label, Op::AddConst { constant }, vec![*a])
            }
            (Operand::Const(c), Operand::Tensor(b)) => {
                let n = self.numel();
                let neg = self.push(
                    &format!("{label}/neg"),
                    Op::MulConst {
                        constant: vec![-1.0; n],
                    },
                    vec![*b],
                )?;
                self.push(
                    label,
                    Op::AddConst {
                        constant: c.clone(),
                    },
                    vec![neg],
                )
            }
            (Operand::Const(_), Operand::Const(_)) => {
                Err(self.ctx.bad_node("internal: two constants"))
            }
        }
    }

    /// `a · b` (at least one operand is a tensor).
    fn mul(&mut self, label: &str, a: &Operand, b: &Operand) -> Result<TensorId, ImportError> {
        match (a, b) {
            (Operand::Tensor(a), Operand::Tensor(b)) => self.push(label, Op::Mul, vec![*a, *b]),
            (Operand::Tensor(t), Operand::Const(c)) | (Operand::Const(c), Operand::Tensor(t)) => {
                self.push(
                    label,
                    Op::MulConst {
                        constant: c.clone(),
                    },
                    vec![*t],
                )
            }
            (Operand::Const(_), Operand::Const(_)) => {
                Err(self.ctx.bad_node("internal: two constants"))
            }
        }
    }

    /// `a + b` (at least one operand is a tensor).
    fn add(&mut self, label: &str, a: &Operand, b: &Operand) -> Result<TensorId, ImportError> {
        match (a, b) {
            (Operand::Tensor(a), Operand::Tensor(b)) => self.push(label, Op::Add, vec![*a, *b]),
            (Operand::Tensor(t), Operand::Const(c)) | (Operand::Const(c), Operand::Tensor(t)) => {
                self.push(
                    label,
                    Op::AddConst {
                        constant: c.clone(),
                    },
                    vec![*t],
                )
            }
            (Operand::Const(_), Operand::Const(_)) => {
                Err(self.ctx.bad_node("internal: two constants"))
            }
        }
    }

    /// `v · mask`: a constant stays one.
    fn masked(&mut self, label: &str, v: &Operand, mask: Vec<f32>) -> Result<Operand, ImportError> {
        Ok(match v {
            Operand::Const(c) => Operand::Const(c.iter().zip(&mask).map(|(c, m)| c * m).collect()),
            Operand::Tensor(t) => {
                Operand::Tensor(self.push(label, Op::MulConst { constant: mask }, vec![*t])?)
            }
        })
    }

    /// `sign(t)`: -1, 0 or 1.
    fn sign(&mut self, label: &str, t: TensorId) -> Result<TensorId, ImportError> {
        self.push(
            label,
            Op::Unary {
                func: UnaryFn::Sign,
            },
            vec![t],
        )
    }

    /// `[t > 0]`.
    fn positive(&mut self, label: &str, t: TensorId) -> Result<TensorId, ImportError> {
        let s = self.sign(&format!("{label}/sign"), t)?;
        self.push(label, Op::Relu, vec![s])
    }

    /// `[t == 0]`.
    fn zero(&mut self, label: &str, t: TensorId) -> Result<TensorId, ImportError> {
        let s = self.sign(&format!("{label}/sign"), t)?;
        let a = self.push(
            &format!("{label}/abs"),
            Op::Elementwise { op: ElementOp::Abs },
            vec![s],
        )?;
        self.affine(label, a, -1.0, 1.0)
    }

    /// Gives the last node the ONNX node's name and binds the output to it.
    fn finish(self, t: TensorId) -> Result<(), ImportError> {
        let out = self.ctx.output_name()?;
        if let Some(node) = self.imp.node_mut(t) {
            node.name = self.ctx.name.clone();
        }
        self.imp.bind(out, Value::Tensor(t));
        Ok(())
    }
}

/// The float meaning of each elementwise op here (for folding constants).
fn eval(op: &str, v: &[f64]) -> f64 {
    let b = |c: bool| f64::from(u8::from(c));
    let at = |k: usize| v.get(k).copied().unwrap_or(0.0);
    let (x, y) = (at(0), at(1));
    match op {
        "Greater" => b(x > y),
        "Less" => b(x < y),
        "GreaterOrEqual" => b(x >= y),
        "LessOrEqual" => b(x <= y),
        "Equal" => b(x == y),
        "Not" => b(x == 0.0),
        "And" => b(x != 0.0 && y != 0.0),
        "Or" => b(x != 0.0 || y != 0.0),
        "Xor" => b((x != 0.0) != (y != 0.0)),
        // Where(c, x, y)
        _ => {
            if x != 0.0 {
                y
            } else {
                at(2)
            }
        }
    }
}

/// The comparisons, `Not`, `And`, `Or`, `Xor` and `Where`.
pub(crate) fn logic<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let op = ctx.op();
    let arity = match op {
        "Not" => 1,
        "Where" => 3,
        _ => 2,
    };
    let mut values = Vec::with_capacity(arity);
    for k in 0..arity {
        values.push(imp.input(ctx, k)?);
    }
    let shape = broadcast_all(imp, ctx, &values)?;
    let mut ops = Vec::with_capacity(arity);
    for (k, v) in values.into_iter().enumerate() {
        ops.push(match v {
            Value::Tensor(t) => {
                Operand::Tensor(imp.broadcast_tensor(ctx, t, &shape, &format!("broadcast{k}"))?)
            }
            Value::Const(c) => {
                Operand::Const(broadcast_to(&c.to_f32(), &c.dims, &shape).ok_or_else(|| {
                    ctx.shape_err(format!(
                        "constant of shape {:?} does not broadcast to {shape:?}",
                        c.dims
                    ))
                })?)
            }
        });
    }
    if ops.iter().all(|o| matches!(o, Operand::Const(_))) {
        let n: usize = shape.iter().product();
        let data = (0..n)
            .map(|i| {
                let v: Vec<f64> = ops
                    .iter()
                    .map(|o| match o {
                        Operand::Const(c) => c.get(i).copied().map_or(0.0, f64::from),
                        Operand::Tensor(_) => 0.0,
                    })
                    .collect();
                eval(op, &v) as f32
            })
            .collect();
        imp.bind(out, Value::Const(Rc::new(Const::f32(shape, data))));
        return Ok(());
    }
    if let Some(k) = ops
        .iter()
        .position(|o| matches!(o, Operand::Const(c) if c.iter().any(|v| !v.is_finite())))
    {
        return Err(ctx.unsupported(format!(
            "input #{k} `{}` holds an infinite or NaN constant, which has no fixed-point value",
            ctx.input_name(k).unwrap_or_default()
        )));
    }
    let mut b = Build { imp, ctx, shape };
    let (x, y) = (&ops[0], ops.get(1));
    let y = || y.ok_or_else(|| ctx.bad_node("input #1 is missing"));
    let t = match op {
        "Greater" => {
            let d = b.sub("diff", x, y()?)?;
            b.positive("gt", d)?
        }
        "Less" => {
            let d = b.sub("diff", y()?, x)?;
            b.positive("lt", d)?
        }
        "GreaterOrEqual" | "LessOrEqual" => {
            // a >= b is not (b > a); a <= b is not (a > b).
            let d = if op == "GreaterOrEqual" {
                b.sub("diff", y()?, x)?
            } else {
                b.sub("diff", x, y()?)?
            };
            let strict = b.positive("strict", d)?;
            b.affine("not", strict, -1.0, 1.0)?
        }
        "Equal" => {
            let d = b.sub("diff", x, y()?)?;
            b.zero("eq", d)?
        }
        "Not" => match x {
            Operand::Tensor(t) => b.affine("not", *t, -1.0, 1.0)?,
            Operand::Const(_) => return Err(ctx.bad_node("internal: constant Not")),
        },
        "And" => b.mul("and", x, y()?)?,
        "Or" | "Xor" => {
            // a + b - ab, a + b - 2ab
            let s = b.add("sum", x, y()?)?;
            let p = b.mul("product", x, y()?)?;
            let m = if op == "Or" { 1.0 } else { 2.0 };
            let mp = b.affine("product/scaled", p, -m, 0.0)?;
            b.push("combine", Op::Add, vec![s, mp])?
        }
        "Where" => {
            let (c, on, off) = (x, y()?, &ops[2]);
            match c {
                // c·x + (1 - c)·y with a constant condition: two scalings.
                Operand::Const(c) => {
                    let keep: Vec<f32> = c.iter().map(|&v| f32::from(u8::from(v != 0.0))).collect();
                    let drop: Vec<f32> = keep.iter().map(|k| 1.0 - k).collect();
                    let a = b.masked("on", on, keep)?;
                    let z = b.masked("off", off, drop)?;
                    b.add("select", &a, &z)?
                }
                // y + c·(x - y)
                Operand::Tensor(_) => match (on, off) {
                    (Operand::Const(p), Operand::Const(q)) => {
                        let d = Operand::Const(p.iter().zip(q).map(|(p, q)| p - q).collect());
                        let cd = b.mul("scaled", c, &d)?;
                        b.add("select", &Operand::Tensor(cd), off)?
                    }
                    _ => {
                        let d = b.sub("diff", on, off)?;
                        let cd = b.mul("scaled", c, &Operand::Tensor(d))?;
                        b.add("select", &Operand::Tensor(cd), off)?
                    }
                },
            }
        }
        _ => return Err(ctx.unsupported("is not a logic op")),
    };
    b.finish(t)
}

/// `Cast`: to a floating-point type, the identity; to an integer type, rounding toward zero
/// (a table); to a boolean, `|sign(x)|`. Constants convert exactly.
pub(crate) fn cast<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let to = ctx.attr_int("to", 0)?;
    enum Target {
        Float,
        Int,
        Bool,
    }
    let target = match to {
        1 | 10 | 11 | 16 => Target::Float,
        2..=7 | 12 | 13 => Target::Int,
        9 => Target::Bool,
        other => return Err(ctx.bad_attr("to", format!("type {other} is not a number type"))),
    };
    match imp.input(ctx, 0)? {
        Value::Const(c) => {
            let v = match (&target, &c.data) {
                (Target::Float, ConstData::I64(v)) => {
                    Const::f32(c.dims.clone(), v.iter().map(|&x| x as f32).collect())
                }
                (Target::Int, ConstData::F32(v)) => Const::i64(
                    c.dims.clone(),
                    v.iter().map(|&x| x.trunc() as i64).collect(),
                ),
                (Target::Bool, _) => Const::i64(
                    c.dims.clone(),
                    c.to_f32().iter().map(|&x| i64::from(x != 0.0)).collect(),
                ),
                _ => (*c).clone(),
            };
            imp.bind(out, Value::Const(Rc::new(v)));
        }
        Value::Tensor(t) => match target {
            Target::Float => imp.alias(out, t),
            Target::Int => {
                let shape = imp.shape(t).to_vec();
                let id = imp.push(
                    ctx,
                    ctx.name.clone(),
                    Op::Unary {
                        func: UnaryFn::Trunc,
                    },
                    vec![t],
                    shape,
                )?;
                imp.bind(out, Value::Tensor(id));
            }
            Target::Bool => {
                let shape = imp.shape(t).to_vec();
                let mut b = Build { imp, ctx, shape };
                let s = b.sign("sign", t)?;
                let a = b.push("abs", Op::Elementwise { op: ElementOp::Abs }, vec![s])?;
                b.finish(a)?;
            }
        },
    }
    Ok(())
}
