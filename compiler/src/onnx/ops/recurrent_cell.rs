//! The unrolled cell of `RNN`, `GRU` and `LSTM` (equations in `recurrent.rs`): values that
//! are tensors or constants folded at import, the ops on them, and one time step of a cell.

use crate::graph::{Op, TensorId, UnaryFn};
use crate::onnx::error::ImportError;
use crate::onnx::node::NodeCtx;
use crate::onnx::state::Importer;

/// Which recurrent op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Rnn,
    Gru,
    Lstm,
}

impl Kind {
    /// Gate blocks in `W` and `R`.
    pub(super) fn gates(self) -> usize {
        match self {
            Kind::Rnn => 1,
            Kind::Gru => 3,
            Kind::Lstm => 4,
        }
    }

    /// The default activations of one direction.
    pub(super) fn default_acts(self) -> Vec<Act> {
        let (sig, tanh) = (Act::Table(UnaryFn::Sigmoid), Act::Table(UnaryFn::Tanh));
        match self {
            Kind::Rnn => vec![tanh],
            Kind::Gru => vec![sig, tanh],
            Kind::Lstm => vec![sig, tanh, tanh],
        }
    }
}

/// An activation of the `activations` attribute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Act {
    Relu,
    Table(UnaryFn),
}

impl Act {
    /// Parses an ONNX activation name (case-insensitive, as onnxruntime reads it).
    pub(super) fn parse(ctx: &NodeCtx<'_>, name: &str) -> Result<Act, ImportError> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "relu" => Act::Relu,
            "sigmoid" => Act::Table(UnaryFn::Sigmoid),
            "tanh" => Act::Table(UnaryFn::Tanh),
            "softsign" => Act::Table(UnaryFn::Softsign),
            "softplus" => Act::Table(UnaryFn::Softplus),
            _ => {
                return Err(ctx.bad_attr(
                    "activations",
                    format!(
                        "names `{name}`, which is not supported \
                         (supported: Sigmoid, Tanh, Relu, Softsign, Softplus)"
                    ),
                ))
            }
        })
    }

    /// The graph op applying it.
    pub(super) fn op(self) -> Op {
        match self {
            Act::Relu => Op::Relu,
            Act::Table(func) => Op::Unary { func },
        }
    }

    /// Its value at `x` (for constants folded at import).
    pub(super) fn eval(self, x: f32) -> f32 {
        match self {
            Act::Relu => x.max(0.0),
            Act::Table(func) => func.eval(f64::from(x)) as f32,
        }
    }
}

/// A value of the unrolled cell, `[batch, n]`: a tensor, or a constant folded at import.
#[derive(Debug, Clone)]
pub(super) enum Val {
    T(TensorId),
    C(Vec<f32>),
}

/// Whether `v` is a constant 0 everywhere.
pub(super) fn is_zero(v: &Val) -> bool {
    matches!(v, Val::C(c) if c.iter().all(|&x| x == 0.0))
}

/// Elementwise `f` of two constants.
fn zip(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> Val {
    Val::C(a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect())
}

/// Emits the nodes of one recurrent node; names are `node/<prefix><label>`.
pub(super) struct Cell<'a, 'g> {
    pub(super) imp: &'a mut Importer<'g>,
    pub(super) ctx: &'a NodeCtx<'g>,
    pub(super) batch: usize,
    pub(super) prefix: String,
}

impl Cell<'_, '_> {
    /// Appends `op` on `inputs`, producing `[batch, n]`.
    pub(super) fn push(
        &mut self,
        label: &str,
        op: Op,
        inputs: Vec<TensorId>,
        n: usize,
    ) -> Result<Val, ImportError> {
        let name = format!("{}/{}{label}", self.ctx.name, self.prefix);
        let shape = vec![self.batch, n];
        self.imp.push(self.ctx, name, op, inputs, shape).map(Val::T)
    }

    /// Row length of `v`.
    pub(super) fn width(&self, v: &Val) -> usize {
        let numel = match v {
            Val::T(t) => self.imp.shape(*t).iter().product(),
            Val::C(c) => c.len(),
        };
        numel / self.batch.max(1)
    }

    /// `a + b`.
    pub(super) fn add(&mut self, a: &Val, b: &Val, label: &str) -> Result<Val, ImportError> {
        let n = self.width(a);
        match (a, b) {
            (Val::T(x), Val::T(y)) => self.push(label, Op::Add, vec![*x, *y], n),
            (Val::T(t), c @ Val::C(_)) | (c @ Val::C(_), Val::T(t)) if is_zero(c) => Ok(Val::T(*t)),
            (Val::T(t), Val::C(c)) | (Val::C(c), Val::T(t)) => {
                let op = Op::AddConst {
                    constant: c.clone(),
                };
                self.push(label, op, vec![*t], n)
            }
            (Val::C(x), Val::C(y)) => Ok(zip(x, y, |p, q| p + q)),
        }
    }

    /// `a - b`.
    pub(super) fn sub(&mut self, a: &Val, b: &Val, label: &str) -> Result<Val, ImportError> {
        let n = self.width(a);
        match (a, b) {
            (Val::T(x), Val::T(y)) => self.push(label, Op::Sub, vec![*x, *y], n),
            (Val::T(_), Val::C(c)) => {
                let neg = Val::C(c.iter().map(|v| -v).collect());
                self.add(a, &neg, label)
            }
            (Val::C(c), Val::T(t)) => {
                let constant = vec![-1.0; c.len()];
                let neg = self.push(
                    &format!("{label}/neg"),
                    Op::MulConst { constant },
                    vec![*t],
                    n,
                )?;
                self.add(&neg, a, label)
            }
            (Val::C(x), Val::C(y)) => Ok(zip(x, y, |p, q| p - q)),
        }
    }

    /// `a * b`.
    pub(super) fn mul(&mut self, a: &Val, b: &Val, label: &str) -> Result<Val, ImportError> {
        let n = self.width(a);
        match (a, b) {
            (Val::T(x), Val::T(y)) => self.push(label, Op::Mul, vec![*x, *y], n),
            (Val::T(_), c @ Val::C(_)) | (c @ Val::C(_), Val::T(_)) if is_zero(c) => Ok(c.clone()),
            (Val::T(t), Val::C(c)) | (Val::C(c), Val::T(t)) => {
                if c.iter().all(|&v| v == 1.0) {
                    return Ok(Val::T(*t));
                }
                let op = Op::MulConst {
                    constant: c.clone(),
                };
                self.push(label, op, vec![*t], n)
            }
            (Val::C(x), Val::C(y)) => Ok(zip(x, y, |p, q| p * q)),
        }
    }

    /// `act(a)`.
    pub(super) fn act(&mut self, act: Act, a: &Val, label: &str) -> Result<Val, ImportError> {
        let n = self.width(a);
        match a {
            Val::T(t) => self.push(label, act.op(), vec![*t], n),
            Val::C(c) => Ok(Val::C(c.iter().map(|&x| act.eval(x)).collect())),
        }
    }

    /// `a · weightᵀ + bias` for a row-major `[n_out, n_in]` weight.
    pub(super) fn linear(
        &mut self,
        a: &Val,
        weight: &[f32],
        bias: &[f32],
        [n_in, n_out]: [usize; 2],
        label: &str,
    ) -> Result<Val, ImportError> {
        match a {
            Val::T(t) => {
                let bias = if bias.is_empty() {
                    vec![0.0; n_out]
                } else {
                    bias.to_vec()
                };
                let op = Op::Linear {
                    weight: weight.to_vec(),
                    bias,
                    n_in,
                    n_out,
                };
                let v = self.push(label, op, vec![*t], n_out)?;
                if let Val::T(id) = v {
                    self.imp.mark_trained(id);
                }
                Ok(v)
            }
            Val::C(x) => {
                let mut y = Vec::with_capacity(self.batch * n_out);
                for row in x.chunks(n_in.max(1)) {
                    for j in 0..n_out {
                        let w = weight.get(j * n_in..(j + 1) * n_in).unwrap_or_default();
                        let dot: f64 = w
                            .iter()
                            .zip(row)
                            .map(|(&p, &q)| f64::from(p) * f64::from(q))
                            .sum();
                        let b = f64::from(bias.get(j).copied().unwrap_or(0.0));
                        y.push((dot + b) as f32);
                    }
                }
                Ok(Val::C(y))
            }
        }
    }

    /// `y[i] = a[index[i]]`, `[batch, index.len() / batch]`.
    pub(super) fn select(
        &mut self,
        a: &Val,
        index: Vec<usize>,
        label: &str,
    ) -> Result<Val, ImportError> {
        let n = index.len() / self.batch.max(1);
        match a {
            Val::T(t) => self.push(label, Op::Select { index }, vec![*t], n),
            Val::C(c) => Ok(Val::C(
                index
                    .iter()
                    .map(|&i| c.get(i).copied().unwrap_or(0.0))
                    .collect(),
            )),
        }
    }

    /// Columns `start..start + width` of each row of a `[batch, total]` value.
    pub(super) fn cols(
        &mut self,
        a: &Val,
        start: usize,
        width: usize,
        label: &str,
    ) -> Result<Val, ImportError> {
        let total = self.width(a);
        let index = (0..self.batch)
            .flat_map(|b| (0..width).map(move |c| b * total + start + c))
            .collect();
        self.select(a, index, label)
    }

    /// The tensor behind `v` (an output must depend on the graph input).
    pub(super) fn tensor(&self, v: &Val) -> Result<TensorId, ImportError> {
        match v {
            Val::T(t) => Ok(*t),
            Val::C(_) => Err(self
                .ctx
                .unsupported("a state that does not depend on the graph input is not supported")),
        }
    }
}

/// Sizes and attributes of one recurrent node.
#[derive(Debug)]
pub(super) struct Spec {
    pub(super) kind: Kind,
    pub(super) seq: usize,
    pub(super) batch: usize,
    pub(super) hidden: usize,
    /// 1 or 2 directions.
    pub(super) dirs: usize,
    /// `direction = "reverse"`: the only direction runs backwards.
    pub(super) reverse: bool,
    /// `layout = 1`: batch-major `X`, `Y`, states.
    pub(super) batch_major: bool,
    /// GRU `linear_before_reset`.
    pub(super) lbr: bool,
    /// Activations of each direction.
    pub(super) acts: Vec<Vec<Act>>,
}

impl Spec {
    /// `G * hidden`, one direction's rows of `W` and `R`.
    pub(super) fn gh(&self) -> usize {
        self.kind.gates() * self.hidden
    }

    /// Flat position of element `j` of `(outer, d, b)` in a `[dirs, batch, n]` state (layout
    /// 0) or a `[batch, dirs, n]` one (layout 1).
    pub(super) fn state_pos(&self, d: usize, b: usize, j: usize) -> usize {
        let row = if self.batch_major {
            b * self.dirs + d
        } else {
            d * self.batch + b
        };
        row * self.hidden + j
    }

    /// Row of `X` (and of its projection) holding step `t` of batch entry `b`.
    pub(super) fn x_row(&self, t: usize, b: usize) -> usize {
        if self.batch_major {
            b * self.seq + t
        } else {
            t * self.batch + b
        }
    }
}

/// `values[start..start + len]`, or a shape error naming `what`.
pub(super) fn block<'v>(
    ctx: &NodeCtx<'_>,
    values: &'v [f32],
    start: usize,
    len: usize,
    what: &str,
) -> Result<&'v [f32], ImportError> {
    values
        .get(start..start + len)
        .ok_or_else(|| ctx.shape_err(format!("{what} holds {} values, too few", values.len())))
}

/// The constants of one direction.
pub(super) struct Dir<'w> {
    /// `[G * hidden, hidden]` recurrence weights.
    pub(super) r: &'w [f32],
    /// Bias of the recurrence `Linear` (only GRU's `Rbh` with `linear_before_reset = 1`).
    pub(super) rec_bias: Vec<f32>,
    /// LSTM peepholes `Pi, Po, Pf`, each repeated over the batch (`None`: absent or zero).
    pub(super) peep: Option<[Val; 3]>,
    pub(super) acts: &'w [Act],
}

/// LSTM's output gate: computed with the others, or waiting for `Ct` (its peephole reads it).
pub(super) enum OutGate {
    /// `ot` itself.
    Ready(Val),
    /// Its input projection plus recurrence, and `Po`.
    Peep(Val, Val),
}

/// The activation `k` of a direction (the defaults guarantee one per slot).
pub(super) fn act_at(acts: &[Act], k: usize) -> Act {
    acts.get(k).copied().unwrap_or(Act::Table(UnaryFn::Tanh))
}

/// One step: `xg` is the input projection `[batch, G * hidden]` of the step, `h` and `c` the
/// previous states; returns the new hidden and cell states.
pub(super) fn step(
    cell: &mut Cell<'_, '_>,
    spec: &Spec,
    dir: &Dir<'_>,
    xg: &Val,
    h: &Val,
    c: &Val,
) -> Result<(Val, Val), ImportError> {
    let hs = spec.hidden;
    let (f, g) = (act_at(dir.acts, 0), act_at(dir.acts, 1));
    match spec.kind {
        Kind::Rnn => {
            let rec = cell.linear(h, dir.r, &dir.rec_bias, [hs, hs], "rec")?;
            let pre = cell.add(xg, &rec, "pre")?;
            Ok((cell.act(f, &pre, "h")?, c.clone()))
        }
        Kind::Gru => {
            let (xzr, xh) = (
                cell.cols(xg, 0, 2 * hs, "x_zr")?,
                cell.cols(xg, 2 * hs, hs, "x_h")?,
            );
            let (zr_pre, h_pre_of) = if spec.lbr {
                let rec = cell.linear(h, dir.r, &dir.rec_bias, [hs, 3 * hs], "rec")?;
                let rzr = cell.cols(&rec, 0, 2 * hs, "rec_zr")?;
                (cell.add(&xzr, &rzr, "zr_pre")?, Some(rec))
            } else {
                let rzr_w = block(cell.ctx, dir.r, 0, 2 * hs * hs, "R")?;
                let rec = cell.linear(h, rzr_w, &[], [hs, 2 * hs], "rec_zr")?;
                (cell.add(&xzr, &rec, "zr_pre")?, None)
            };
            let zr = cell.act(f, &zr_pre, "zr")?;
            let (z, r) = (cell.cols(&zr, 0, hs, "z")?, cell.cols(&zr, hs, hs, "r")?);
            let rec_h = match h_pre_of {
                Some(rec) => {
                    let rh = cell.cols(&rec, 2 * hs, hs, "rec_h")?;
                    cell.mul(&r, &rh, "r_rec_h")?
                }
                None => {
                    let rh_w = block(cell.ctx, dir.r, 2 * hs * hs, hs * hs, "R")?;
                    let rhp = cell.mul(&r, h, "r_h")?;
                    cell.linear(&rhp, rh_w, &[], [hs, hs], "rec_h")?
                }
            };
            let h_pre = cell.add(&xh, &rec_h, "h_pre")?;
            let cand = cell.act(g, &h_pre, "cand")?;
            // Ht = (1 - z) * cand + z * H = cand + z * (H - cand).
            let new_h = if is_zero(h) {
                let zc = cell.mul(&z, &cand, "z_cand")?;
                cell.sub(&cand, &zc, "h")?
            } else {
                let diff = cell.sub(h, &cand, "h_diff")?;
                let zd = cell.mul(&z, &diff, "z_diff")?;
                cell.add(&cand, &zd, "h")?
            };
            Ok((new_h, c.clone()))
        }
        Kind::Lstm => {
            let hact = act_at(dir.acts, 2);
            let rec = cell.linear(h, dir.r, &dir.rec_bias, [hs, 4 * hs], "rec")?;
            let pre = cell.add(xg, &rec, "pre")?;
            let (i, fg, o_pre) = match &dir.peep {
                None => {
                    let iof_pre = cell.cols(&pre, 0, 3 * hs, "iof_pre")?;
                    let iof = cell.act(f, &iof_pre, "iof")?;
                    let i = cell.cols(&iof, 0, hs, "i")?;
                    let fg = cell.cols(&iof, 2 * hs, hs, "f")?;
                    (i, fg, OutGate::Ready(cell.cols(&iof, hs, hs, "o")?))
                }
                Some([pi, po, pf]) => {
                    let mut gate = |k: usize, p: &Val, label: &str| -> Result<Val, ImportError> {
                        let x = cell.cols(&pre, k * hs, hs, &format!("{label}_x"))?;
                        let pc = cell.mul(c, p, &format!("{label}_peep"))?;
                        let s = cell.add(&x, &pc, &format!("{label}_pre"))?;
                        cell.act(f, &s, label)
                    };
                    let i = gate(0, pi, "i")?;
                    let fg = gate(2, pf, "f")?;
                    (
                        i,
                        fg,
                        OutGate::Peep(cell.cols(&pre, hs, hs, "o_x")?, po.clone()),
                    )
                }
            };
            let cc_pre = cell.cols(&pre, 3 * hs, hs, "c_pre")?;
            let cc = cell.act(g, &cc_pre, "c_cand")?;
            let fc = cell.mul(&fg, c, "f_c")?;
            let ic = cell.mul(&i, &cc, "i_c")?;
            let new_c = cell.add(&fc, &ic, "c")?;
            let o = match o_pre {
                OutGate::Ready(o) => o,
                OutGate::Peep(ox, po) => {
                    let pc = cell.mul(&new_c, &po, "o_peep")?;
                    let s = cell.add(&ox, &pc, "o_pre")?;
                    cell.act(f, &s, "o")?
                }
            };
            let hc = cell.act(hact, &new_c, "h_c")?;
            Ok((cell.mul(&o, &hc, "h")?, new_c))
        }
    }
}
