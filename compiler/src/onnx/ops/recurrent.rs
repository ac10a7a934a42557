//! `RNN`, `GRU` and `LSTM`, unrolled over the sequence into `Linear`, `Add`, `Sub`, `Mul`,
//! table activations and `Select`s (no op of their own).
//!
//! With `Xt` the input at step `t`, `H` the previous hidden state, `C` the previous cell state,
//! `f`, `g`, `h` the activations and `*` the elementwise product (ONNX operator spec):
//!
//! - RNN: `Ht = f(Xt·Wiᵀ + H·Riᵀ + Wbi + Rbi)`;
//! - GRU (gates `z, r, h`): `zt = f(Xt·Wzᵀ + H·Rzᵀ + Wbz + Rbz)`, `rt` likewise,
//!   `ht = g(Xt·Whᵀ + (rt * H)·Rhᵀ + Rbh + Wbh)` (`linear_before_reset = 0`) or
//!   `ht = g(Xt·Whᵀ + rt * (H·Rhᵀ + Rbh) + Wbh)` (`= 1`), `Ht = (1 - zt) * ht + zt * H`,
//!   computed as `ht + zt * (H - ht)`;
//! - LSTM (gates `i, o, f, c`): `it = f(Xt·Wiᵀ + H·Riᵀ + Pi * C + Wbi + Rbi)`, `ft` likewise
//!   with `Pf`, `ct = g(Xt·Wcᵀ + H·Rcᵀ + Wbc + Rbc)`, `Ct = ft * C + it * ct`,
//!   `ot = f(Xt·Woᵀ + H·Roᵀ + Po * Ct + Wbo + Rbo)`, `Ht = ot * h(Ct)`.
//!
//! The input projection of every step and direction is one `Linear` over `X` with the biases
//! folded in; each step then adds one `Linear` of the previous hidden state (none at the first
//! step when the initial state is a constant: it folds into a constant). `Y`, `Y_h` and `Y_c`
//! are `Select`s over the per-step states. Not supported: `clip`, `input_forget = 1`,
//! activations other than Sigmoid, Tanh, Relu, Softsign and Softplus, and `sequence_lens`
//! shorter than the sequence.

use super::recurrent_cell::{block, step, Act, Cell, Dir, Kind, Spec, Val};
use crate::graph::{Op, TensorId};
use crate::onnx::error::ImportError;
use crate::onnx::node::NodeCtx;
use crate::onnx::state::{Importer, Value};

/// The attributes of a recurrent node (see [`Spec`] for their meaning).
struct Attrs {
    dirs: usize,
    reverse: bool,
    batch_major: bool,
    lbr: bool,
    acts: Vec<Vec<Act>>,
}

/// Reads the attributes and checks them against what the unrolling supports.
fn parse_attrs(ctx: &NodeCtx<'_>, kind: Kind) -> Result<Attrs, ImportError> {
    let (dirs, reverse) = match ctx.attr_string("direction")?.as_deref() {
        None | Some("forward") => (1, false),
        Some("reverse") => (1, true),
        Some("bidirectional") => (2, false),
        Some(other) => {
            return Err(ctx.bad_attr(
                "direction",
                format!("`{other}` is not `forward`, `reverse` or `bidirectional`"),
            ))
        }
    };
    let batch_major = match ctx.attr_int("layout", 0)? {
        0 => false,
        1 => true,
        other => return Err(ctx.bad_attr("layout", format!("{other} is not 0 or 1"))),
    };
    if ctx.attr("clip").is_some() {
        return Err(ctx.bad_attr("clip", "(cell clipping) is not supported"));
    }
    if kind == Kind::Lstm && ctx.attr_int("input_forget", 0)? != 0 {
        return Err(ctx.bad_attr(
            "input_forget",
            "must be 0 (coupled gates are not supported)",
        ));
    }
    let lbr = match (kind, ctx.attr_int("linear_before_reset", 0)?) {
        (Kind::Gru, 0) | (Kind::Rnn | Kind::Lstm, _) => false,
        (Kind::Gru, 1) => true,
        (_, other) => {
            return Err(ctx.bad_attr("linear_before_reset", format!("{other} is not 0 or 1")))
        }
    };
    let defaults = kind.default_acts();
    let per = defaults.len();
    let acts = match ctx.attr_strings("activations")? {
        None => vec![defaults; dirs],
        Some(names) => {
            let parsed = names
                .iter()
                .map(|n| Act::parse(ctx, n))
                .collect::<Result<Vec<_>, _>>()?;
            if parsed.len() == per {
                vec![parsed; dirs]
            } else if parsed.len() == per * dirs {
                parsed.chunks(per).map(<[Act]>::to_vec).collect()
            } else {
                return Err(ctx.bad_attr(
                    "activations",
                    format!(
                        "has {} entries; {} needs {per} per direction ({dirs} direction(s))",
                        parsed.len(),
                        ctx.op()
                    ),
                ));
            }
        }
    };
    Ok(Attrs {
        dirs,
        reverse,
        batch_major,
        lbr,
        acts,
    })
}

/// An optional constant input `k` of shape `dims` (`None` when absent).
fn opt_const<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    k: usize,
    what: &str,
    dims: &[usize],
) -> Result<Option<Vec<f32>>, ImportError> {
    match imp.input_opt(ctx, k)? {
        None => Ok(None),
        Some(Value::Tensor(_)) => Err(ctx.not_constant(ctx.input_name(k).unwrap_or_default())),
        Some(Value::Const(c)) => {
            check_dims(ctx, what, &c.dims, dims)?;
            Ok(Some(c.to_f32()))
        }
    }
}

/// A shape error unless input `what` has shape `want`.
fn check_dims(
    ctx: &NodeCtx<'_>,
    what: &str,
    got: &[usize],
    want: &[usize],
) -> Result<(), ImportError> {
    if got == want {
        Ok(())
    } else {
        Err(ctx.shape_err(format!("{what} is {got:?}, expected {want:?}")))
    }
}

/// Accepts `sequence_lens` only when absent or a constant equal to the sequence length.
fn check_sequence_lens<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    seq: usize,
) -> Result<(), ImportError> {
    match imp.input_opt(ctx, 4)? {
        None => Ok(()),
        Some(Value::Tensor(_)) => Err(ctx.unsupported(format!(
            "sequence_lens `{}` is computed from the graph input; only a constant equal to the \
             sequence length ({seq}) is supported",
            ctx.input_name(4).unwrap_or_default()
        ))),
        Some(Value::Const(c)) => {
            let lens = c.to_f32();
            if lens.iter().all(|&l| l == seq as f32) {
                Ok(())
            } else {
                Err(ctx.unsupported(format!(
                    "sequence_lens {lens:?}: only full-length sequences ({seq}) are supported"
                )))
            }
        }
    }
}

/// An optional initial state (input `k`, `initial_h` or `initial_c`): the `[batch, hidden]`
/// value of each direction, constant zeros when absent.
fn initial_state<'g>(
    cell: &mut Cell<'_, 'g>,
    spec: &Spec,
    k: usize,
    what: &str,
) -> Result<Vec<Val>, ImportError> {
    let want = if spec.batch_major {
        [spec.batch, spec.dirs, spec.hidden]
    } else {
        [spec.dirs, spec.batch, spec.hidden]
    };
    let (ctx, n) = (cell.ctx, spec.batch * spec.hidden);
    let all = match cell.imp.input_opt(ctx, k)? {
        None => return Ok(vec![Val::C(vec![0.0; n]); spec.dirs]),
        Some(Value::Tensor(t)) => {
            check_dims(ctx, what, cell.imp.shape(t), &want)?;
            Val::T(t)
        }
        Some(Value::Const(c)) => {
            check_dims(ctx, what, &c.dims, &want)?;
            Val::C(c.to_f32())
        }
    };
    (0..spec.dirs)
        .map(|d| {
            let index = (0..spec.batch)
                .flat_map(|b| (0..spec.hidden).map(move |j| spec.state_pos(d, b, j)))
                .collect();
            cell.prefix = format!("d{d}/");
            cell.select(&all, index, what)
        })
        .collect()
}

/// `RNN`, `GRU`, `LSTM`: the unrolled cell over every step and direction; binds each named
/// output (`Y`, `Y_h`, and `Y_c` for LSTM).
pub(crate) fn recurrent<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let kind = match ctx.op() {
        "RNN" => Kind::Rnn,
        "GRU" => Kind::Gru,
        "LSTM" => Kind::Lstm,
        _ => return Err(ctx.unsupported("is not a recurrent op")),
    };
    let Attrs {
        dirs,
        reverse,
        batch_major,
        lbr,
        acts,
    } = parse_attrs(ctx, kind)?;
    let x = match imp.input(ctx, 0)? {
        Value::Tensor(t) => t,
        Value::Const(_) => {
            return Err(ctx.unsupported(format!(
                "input `{}` is a constant; it must be computed from the graph input",
                ctx.input_name(0).unwrap_or_default()
            )))
        }
    };
    let xdims = imp.shape(x).to_vec();
    let &[a, b, input] = xdims.as_slice() else {
        return Err(ctx.shape_err(format!("X is {xdims:?}, expected 3 axes")));
    };
    let (seq, batch) = if batch_major { (b, a) } else { (a, b) };
    if seq == 0 || batch == 0 || input == 0 {
        return Err(ctx.shape_err(format!("X is {xdims:?}, which is empty")));
    }
    let w = imp.const_input(ctx, 1)?;
    let r = imp.const_input(ctx, 2)?;
    let hidden = match ctx.attr_int("hidden_size", 0)? {
        0 => r.dims.get(2).copied().unwrap_or(0),
        h => usize::try_from(h)
            .map_err(|_| ctx.bad_attr("hidden_size", format!("{h} is negative")))?,
    };
    if hidden == 0 {
        return Err(ctx.bad_attr("hidden_size", "is missing and R has no hidden axis"));
    }
    let spec = Spec {
        kind,
        seq,
        batch,
        hidden,
        dirs,
        reverse,
        batch_major,
        lbr,
        acts,
    };
    let gh = spec.gh();
    check_dims(ctx, "W", &w.dims, &[dirs, gh, input])?;
    check_dims(ctx, "R", &r.dims, &[dirs, gh, hidden])?;
    let bias =
        opt_const(imp, ctx, 3, "B", &[dirs, 2 * gh])?.unwrap_or_else(|| vec![0.0; dirs * 2 * gh]);
    check_sequence_lens(imp, ctx, seq)?;
    let peep = match kind {
        Kind::Lstm => opt_const(imp, ctx, 7, "P", &[dirs, 3 * hidden])?,
        Kind::Rnn | Kind::Gru => None,
    };
    let (wv, rv) = (w.to_f32(), r.to_f32());

    // The input projection of every step and direction, with Wb + Rb folded in (but GRU's Rbh
    // when it is applied before the reset gate).
    let mut proj_bias = Vec::with_capacity(dirs * gh);
    for d in 0..dirs {
        let wb = block(ctx, &bias, d * 2 * gh, gh, "B")?;
        let rb = block(ctx, &bias, d * 2 * gh + gh, gh, "B")?;
        for (j, (&p, &q)) in wb.iter().zip(rb).enumerate() {
            proj_bias.push(if lbr && j >= 2 * hidden { p } else { p + q });
        }
    }
    let op = Op::Linear {
        weight: wv,
        bias: proj_bias,
        n_in: input,
        n_out: dirs * gh,
    };
    let name = format!("{}/x_proj", ctx.name);
    let proj = imp.push_trained(ctx, name, op, vec![x], vec![a, b, dirs * gh])?;

    let mut cell = Cell {
        imp,
        ctx,
        batch,
        prefix: String::new(),
    };
    let h0 = initial_state(&mut cell, &spec, 5, "initial_h")?;
    let c0 = match kind {
        Kind::Lstm => initial_state(&mut cell, &spec, 6, "initial_c")?,
        Kind::Rnn | Kind::Gru => vec![Val::C(vec![0.0; batch * hidden]); dirs],
    };
    let mut ys: Vec<TensorId> = Vec::with_capacity(dirs * seq);
    let (mut last_h, mut last_c) = (Vec::with_capacity(dirs), Vec::with_capacity(dirs));
    for (d, (h0, c0)) in h0.into_iter().zip(c0).enumerate() {
        let dir = direction(ctx, &spec, d, &rv, &bias, peep.as_deref())?;
        let backward = spec.reverse || d == 1;
        let mut per_t: Vec<Option<TensorId>> = vec![None; seq];
        let (mut h, mut c) = (h0, c0);
        for s in 0..seq {
            let t = if backward { seq - 1 - s } else { s };
            cell.prefix = format!("d{d}t{t}/");
            let sp = &spec;
            let index = (0..batch)
                .flat_map(|b| (0..gh).map(move |j| (sp.x_row(t, b) * dirs + d) * gh + j))
                .collect();
            let xg = cell.select(&Val::T(proj), index, "x")?;
            let (nh, nc) = step(&mut cell, &spec, &dir, &xg, &h, &c)?;
            if let Some(slot) = per_t.get_mut(t) {
                *slot = Some(cell.tensor(&nh)?);
            }
            (h, c) = (nh, nc);
        }
        ys.extend(per_t.into_iter().flatten());
        last_h.push(cell.tensor(&h)?);
        last_c.push(cell.tensor(&c));
    }
    bind_outputs(cell.imp, ctx, &spec, ys, last_h, last_c)
}

/// The constants of direction `d`.
fn direction<'w>(
    ctx: &NodeCtx<'_>,
    spec: &'w Spec,
    d: usize,
    rv: &'w [f32],
    bias: &[f32],
    peep: Option<&[f32]>,
) -> Result<Dir<'w>, ImportError> {
    let (gh, hs) = (spec.gh(), spec.hidden);
    let r = block(ctx, rv, d * gh * hs, gh * hs, "R")?;
    let mut rec_bias = vec![0.0; gh];
    if spec.lbr {
        let rbh = block(ctx, bias, d * 2 * gh + gh + 2 * hs, hs, "B")?;
        for (dst, &v) in rec_bias.iter_mut().skip(2 * hs).zip(rbh) {
            *dst = v;
        }
    }
    let peep = match peep {
        Some(p) => {
            let pd = block(ctx, p, d * 3 * hs, 3 * hs, "P")?;
            if pd.iter().all(|&v| v == 0.0) {
                None
            } else {
                let gate = |k: usize| {
                    Val::C(
                        pd.iter()
                            .skip(k * hs)
                            .take(hs)
                            .copied()
                            .cycle()
                            .take(spec.batch * hs)
                            .collect(),
                    )
                };
                Some([gate(0), gate(1), gate(2)])
            }
        }
        None => None,
    };
    let acts = spec.acts.get(d).map_or(&[][..], Vec::as_slice);
    Ok(Dir {
        r,
        rec_bias,
        peep,
        acts,
    })
}

/// Binds `Y` (`ys`: direction-major, then time), `Y_h` and `Y_c` to `Select`s over the states.
fn bind_outputs<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    spec: &Spec,
    ys: Vec<TensorId>,
    last_h: Vec<TensorId>,
    last_c: Vec<Result<TensorId, ImportError>>,
) -> Result<(), ImportError> {
    let out = |k: usize| {
        ctx.proto
            .output
            .get(k)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    };
    if (0..3).all(|k| out(k).is_none()) {
        return Err(ctx.bad_node("has no output"));
    }
    let (seq, dirs, batch, hs) = (spec.seq, spec.dirs, spec.batch, spec.hidden);
    if let Some(name) = out(0) {
        // Source (d, t, b, j) sits at ((d * seq + t) * batch + b) * hs + j.
        let src = |t: usize, d: usize, b: usize| ((d * seq + t) * batch + b) * hs;
        let (shape, index): (Vec<usize>, Vec<usize>) = if spec.batch_major {
            let index = (0..batch)
                .flat_map(|b| {
                    (0..seq).flat_map(move |t| {
                        (0..dirs).flat_map(move |d| (0..hs).map(move |j| src(t, d, b) + j))
                    })
                })
                .collect();
            (vec![batch, seq, dirs, hs], index)
        } else {
            let index = (0..seq)
                .flat_map(|t| {
                    (0..dirs).flat_map(move |d| {
                        (0..batch).flat_map(move |b| (0..hs).map(move |j| src(t, d, b) + j))
                    })
                })
                .collect();
            (vec![seq, dirs, batch, hs], index)
        };
        let id = imp.push(ctx, ctx.name.clone(), Op::Select { index }, ys, shape)?;
        imp.bind(name, Value::Tensor(id));
    }
    let states = |label: &str| -> (Vec<usize>, Vec<usize>, String) {
        let name = format!("{}/{label}", ctx.name);
        if spec.batch_major {
            let index = (0..batch)
                .flat_map(|b| {
                    (0..dirs).flat_map(move |d| (0..hs).map(move |j| (d * batch + b) * hs + j))
                })
                .collect();
            (vec![batch, dirs, hs], index, name)
        } else {
            (
                (vec![dirs, batch, hs]),
                (0..dirs * batch * hs).collect(),
                name,
            )
        }
    };
    if let Some(out_name) = out(1) {
        let (shape, index, name) = states("Y_h");
        let id = imp.push(ctx, name, Op::Select { index }, last_h, shape)?;
        imp.bind(out_name, Value::Tensor(id));
    }
    if let (Some(out_name), Kind::Lstm) = (out(2), spec.kind) {
        let last_c = last_c.into_iter().collect::<Result<Vec<_>, _>>()?;
        let (shape, index, name) = states("Y_c");
        let id = imp.push(ctx, name, Op::Select { index }, last_c, shape)?;
        imp.bind(out_name, Value::Tensor(id));
    }
    Ok(())
}
