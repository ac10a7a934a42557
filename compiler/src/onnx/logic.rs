//! Comparisons, boolean logic, `Where`, and the index ops `ArgMax`, `ArgMin`, `Hardmax` and
//! `LogSoftmax`, as compositions of existing ops.
//!
//! Booleans are the numbers 0 and 1 (exact at every scale). A comparison is a step of the
//! difference: `a > b` is `relu(sign(a - b))`, `a == b` is `1 - |sign(a - b)|`, with `sign` the
//! three-valued table; `and`, `or` and `xor` are polynomials of their 0/1 operands. The index of
//! the first maximum of a row is `n - max_i((n - i) · [x_i == max x])`, exact on integers. The
//! quantized comparison is exact on the quantized values; a float difference smaller than the
//! table's resolution may compare as equal (the accuracy report measures it).

use std::rc::Rc;

use super::error::ImportError;
use super::node::NodeCtx;
use super::reduce::Plan;
use super::shape::{broadcast_shape, broadcast_to, normalize_axis};
use super::state::{Importer, Value};
use super::tensor::{Const, ConstData};
use crate::graph::{ElementOp, Op, TensorId, UnaryFn};

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
        let name = format!("{}/{label}", self.ctx.name);
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
    let dims = |imp: &Importer<'g>, v: &Value| match v {
        Value::Tensor(t) => imp.shape(*t).to_vec(),
        Value::Const(c) => c.dims.clone(),
    };
    let mut shape = dims(imp, &values[0]);
    for v in &values[1..] {
        let d = dims(imp, v);
        shape = broadcast_shape(&shape, &d).ok_or_else(|| {
            ctx.shape_err(format!(
                "operand shapes {shape:?} and {d:?} do not broadcast"
            ))
        })?;
    }
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

/// `ArgMax`, `ArgMin` (first or last index of the extreme), `Hardmax` (one-hot of the first
/// maximum) and `LogSoftmax` (`x - max - log Σ e^(x - max)`) along `axis`.
pub(crate) fn along_axis<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let op = ctx.op();
    let x = imp.input(ctx, 0)?;
    let dims = match &x {
        Value::Tensor(t) => imp.shape(*t).to_vec(),
        Value::Const(c) => c.dims.clone(),
    };
    let rank = dims.len();
    let default_axis = if matches!(op, "ArgMax" | "ArgMin") || imp.opset < 13 {
        0
    } else {
        -1
    };
    let raw = ctx.attr_int("axis", default_axis)?;
    let axis = normalize_axis(raw, rank)
        .ok_or_else(|| ctx.bad_attr("axis", format!("{raw} is out of range for {dims:?}")))?;
    let index_op = matches!(op, "ArgMax" | "ArgMin");
    if !index_op && imp.opset < 13 && axis + 1 != rank {
        // Before opset 13, Hardmax and LogSoftmax flatten from `axis` on.
        return Err(ctx.unsupported("opset < 13 with an axis other than the last is not supported"));
    }
    let keepdims = !index_op || ctx.attr_int("keepdims", 1)? != 0;
    let last = ctx.attr_int("select_last_index", 0)? != 0;
    let p = Plan::new(dims, vec![axis], keepdims);
    let n = p.n;
    if n == 0 || p.outer == 0 {
        return Err(ctx.unsupported(format!("works on an empty tensor {:?}", p.dims)));
    }
    let t = match x {
        Value::Const(c) => {
            let v = c.to_f32();
            let order = p
                .row_order()
                .ok_or_else(|| ctx.shape_err("cannot reorder the axes"))?;
            let rows: Vec<f64> = order
                .iter()
                .map(|&i| v.get(i).copied().map_or(0.0, f64::from))
                .collect();
            let data = fold_along(op, &rows, n, last);
            let (shape, data) = if index_op {
                (p.out_shape.clone(), data)
            } else {
                // Back from row order to the input's.
                let mut back = vec![0.0; data.len()];
                for (k, &i) in order.iter().enumerate() {
                    if let (Some(slot), Some(&v)) = (back.get_mut(i), data.get(k)) {
                        *slot = v;
                    }
                }
                (p.dims.clone(), back)
            };
            let data = data.into_iter().map(|v| v as f32).collect();
            imp.bind(out, Value::Const(Rc::new(Const::f32(shape, data))));
            return Ok(());
        }
        Value::Tensor(t) => t,
    };
    let mut rows = p.to_rows(imp, ctx, t)?;
    let row_shape = vec![p.outer, n];
    let one = vec![p.outer, 1];
    let sub = |l: &str| format!("{}/{l}", ctx.name);
    if op == "ArgMin" {
        let neg = Op::MulConst {
            constant: vec![-1.0; p.outer * n],
        };
        rows = imp.push(ctx, sub("neg"), neg, vec![rows], row_shape.clone())?;
    }
    let max = imp.push(
        ctx,
        sub("max"),
        Op::ReduceMax { group: n },
        vec![rows],
        one.clone(),
    )?;
    let spread: Vec<usize> = (0..p.outer * n).map(|i| i / n).collect();
    let max_b = imp.push(
        ctx,
        sub("max/rows"),
        Op::Select {
            index: spread.clone(),
        },
        vec![max],
        row_shape.clone(),
    )?;
    let d = imp.push(
        ctx,
        sub("shifted"),
        Op::Sub,
        vec![rows, max_b],
        row_shape.clone(),
    )?;
    if op == "LogSoftmax" {
        let e = imp.push(
            ctx,
            sub("exp"),
            Op::Unary { func: UnaryFn::Exp },
            vec![d],
            row_shape.clone(),
        )?;
        let sum = Op::Linear {
            weight: vec![1.0; n],
            bias: vec![0.0],
            n_in: n,
            n_out: 1,
        };
        let s = imp.push(ctx, sub("sum"), sum, vec![e], one.clone())?;
        let l = imp.push(
            ctx,
            sub("log"),
            Op::Unary { func: UnaryFn::Log },
            vec![s],
            one,
        )?;
        let l_b = imp.push(
            ctx,
            sub("log/rows"),
            Op::Select { index: spread },
            vec![l],
            row_shape.clone(),
        )?;
        let y = imp.push(ctx, sub("rows_out"), Op::Sub, vec![d, l_b], row_shape)?;
        let id = p.rows_back(imp, ctx, y, ctx.name.clone())?;
        imp.bind(out, Value::Tensor(id));
        return Ok(());
    }
    // [x_i == max]: d_i <= 0, so 1 + sign(d_i).
    let s = imp.push(
        ctx,
        sub("sign"),
        Op::Unary {
            func: UnaryFn::Sign,
        },
        vec![d],
        row_shape.clone(),
    )?;
    let is_max = imp.push(
        ctx,
        sub("is_max"),
        Op::AddConst {
            constant: vec![1.0; p.outer * n],
        },
        vec![s],
        row_shape.clone(),
    )?;
    // Weights n - i pick the first maximum, i + 1 the last.
    let weight = |i: usize| if last { (i + 1) as f32 } else { (n - i) as f32 };
    let w: Vec<f32> = (0..p.outer * n).map(|k| weight(k % n)).collect();
    let marked = imp.push(
        ctx,
        sub("marked"),
        Op::MulConst { constant: w },
        vec![is_max],
        row_shape.clone(),
    )?;
    let best = imp.push(
        ctx,
        sub("best"),
        Op::ReduceMax { group: n },
        vec![marked],
        one.clone(),
    )?;
    let (m, c) = if last { (1.0, -1.0) } else { (-1.0, n as f32) };
    let scaled = imp.push(
        ctx,
        sub("index/scale"),
        Op::MulConst {
            constant: vec![m; p.outer],
        },
        vec![best],
        one.clone(),
    )?;
    let index = imp.push(
        ctx,
        sub("index"),
        Op::AddConst {
            constant: vec![c; p.outer],
        },
        vec![scaled],
        one,
    )?;
    let id = if index_op {
        imp.push(
            ctx,
            ctx.name.clone(),
            Op::Reshape,
            vec![index],
            p.out_shape.clone(),
        )?
    } else {
        // Hardmax: [i == index] per row.
        let index_b = imp.push(
            ctx,
            sub("index/rows"),
            Op::Select { index: spread },
            vec![index],
            row_shape.clone(),
        )?;
        let neg = Op::MulConst {
            constant: vec![-1.0; p.outer * n],
        };
        let ni = imp.push(ctx, sub("index/neg"), neg, vec![index_b], row_shape.clone())?;
        let pos: Vec<f32> = (0..p.outer * n).map(|k| (k % n) as f32).collect();
        let delta = imp.push(
            ctx,
            sub("delta"),
            Op::AddConst { constant: pos },
            vec![ni],
            row_shape.clone(),
        )?;
        let ds = imp.push(
            ctx,
            sub("delta/sign"),
            Op::Unary {
                func: UnaryFn::Sign,
            },
            vec![delta],
            row_shape.clone(),
        )?;
        let da = imp.push(
            ctx,
            sub("delta/abs"),
            Op::Elementwise { op: ElementOp::Abs },
            vec![ds],
            row_shape.clone(),
        )?;
        let negd = Op::MulConst {
            constant: vec![-1.0; p.outer * n],
        };
        let nd = imp.push(ctx, sub("delta/neg"), negd, vec![da], row_shape.clone())?;
        let hot = Op::AddConst {
            constant: vec![1.0; p.outer * n],
        };
        let h = imp.push(ctx, sub("one_hot"), hot, vec![nd], row_shape)?;
        p.rows_back(imp, ctx, h, ctx.name.clone())?
    };
    imp.bind(out, Value::Tensor(id));
    Ok(())
}

/// The op on each row of `n` of `rows` (row order): one value per row for the index ops, `n`
/// for Hardmax and LogSoftmax.
fn fold_along(op: &str, rows: &[f64], n: usize, last: bool) -> Vec<f64> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows.chunks(n) {
        let better = |a: f64, b: f64| if op == "ArgMin" { a < b } else { a > b };
        let mut best = 0;
        for (i, &v) in row.iter().enumerate() {
            let at = row.get(best).copied().unwrap_or(v);
            if better(v, at) || (last && v == at) {
                best = i;
            }
        }
        match op {
            "ArgMax" | "ArgMin" => out.push(best as f64),
            "Hardmax" => out.extend((0..row.len()).map(|i| f64::from(u8::from(i == best)))),
            _ => {
                let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let lse = row.iter().map(|v| (v - m).exp()).sum::<f64>().ln() + m;
                out.extend(row.iter().map(|v| v - lse));
            }
        }
    }
    out
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
