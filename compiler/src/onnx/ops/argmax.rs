//! The index ops along an axis: `ArgMax`, `ArgMin` (first or last index), `Hardmax` and
//! `LogSoftmax`. The index of the first maximum of a row is `n - max_i((n - i)·[x_i == max x])`,
//! exact on integers; `[x_i == max x]` uses the exact three-valued sign of `x_i - max x`.

use std::rc::Rc;

use crate::graph::{ElementOp, Op, UnaryFn};
use crate::onnx::emit::ReducePlan;
use crate::onnx::error::ImportError;
use crate::onnx::node::NodeCtx;
use crate::onnx::shape::normalize_axis;
use crate::onnx::state::{Importer, Value};
use crate::onnx::tensor::Const;

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
    let p = ReducePlan::new(dims, vec![axis], keepdims);
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
