//! `TopK` (constant `K`, `largest` 0 or 1, sorted output) by ranks, with no data-dependent
//! control flow.
//!
//! Along the axis (`n` elements per row), element `i`'s rank is the number of elements placed
//! before it: `rank_i = Σ_{j>i} [x_j > x_i] + Σ_{j<i} [x_j >= x_i]` (ties keep the lower index
//! first, as ONNX asks). With `s = sign(x_j - x_i)`, `[x_j > x_i] = relu(s)` and
//! `[x_j >= x_i] = 1 - relu(-s)`, so the ranks are one `Linear` of exact 0/1 values. Output `k`
//! is the element of rank `k`: `value_k = Σ_i [rank_i == k]·x_i`, `index_k = Σ_i [rank_i == k]·i`,
//! with the exact integer equality of [`super::index`]. Cost: `n²` comparisons per row.
//!
//! The comparisons are exact on the quantized values (`Sign` is tabulated at its operand's
//! scale), so `s_ij = -s_ji` and the ranks are a permutation; a `Check` proves that each
//! rank below `K` is held by exactly one element.

use crate::graph::{Op, TensorId, UnaryFn};
use crate::onnx::emit::equals;
use crate::onnx::emit::int_input;
use crate::onnx::emit::ReducePlan;
use crate::onnx::error::ImportError;
use crate::onnx::node::NodeCtx;
use crate::onnx::shape::normalize_axis;
use crate::onnx::state::{Importer, Value};

/// Longest axis `TopK` sorts (the comparisons grow as its square).
const MAX_AXIS: usize = 256;

/// `TopK(X, K)`: outputs Values and Indices.
pub(crate) fn top_k<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let x = match imp.input(ctx, 0)? {
        Value::Tensor(t) => t,
        Value::Const(_) => {
            return Err(
                ctx.unsupported("input X is a constant; it must be computed from the graph input")
            )
        }
    };
    let dims = imp.shape(x).to_vec();
    let k = if imp.opset < 10 {
        ctx.attr_int("k", 0)?
    } else {
        int_input(imp, ctx, 1)?.first().copied().unwrap_or(0)
    };
    let axis = ctx.attr_int("axis", -1)?;
    let a = normalize_axis(axis, dims.len())
        .ok_or_else(|| ctx.bad_attr("axis", format!("{axis} is out of range for {dims:?}")))?;
    let n = dims.get(a).copied().unwrap_or(0);
    let k = usize::try_from(k)
        .ok()
        .filter(|&k| (1..=n).contains(&k))
        .ok_or_else(|| {
            ctx.shape_err(format!("K = {k} must be in 1..={n} (axis {a} of {dims:?})"))
        })?;
    if n > MAX_AXIS {
        return Err(ctx.unsupported(format!("an axis of {n} elements (at most {MAX_AXIS})")));
    }
    // `sorted = 0` allows any order; the sorted one is a valid answer.
    let largest = ctx.attr_int("largest", 1)? != 0;
    let plan = ReducePlan::new(dims.clone(), vec![a], true);
    let rows = plan.outer;
    let name = |l: &str| format!("{}/{l}", ctx.name);
    let mut xr = plan.to_rows(imp, ctx, x)?;
    if !largest {
        let op = Op::MulConst {
            constant: vec![-1.0; rows * n],
        };
        xr = imp.push(ctx, name("negate"), op, vec![xr], vec![rows, n])?;
    }
    // d[r, i, j] = x[r, j] - x[r, i].
    let pairs = rows * n * n;
    let xj = (0..pairs).map(|p| (p / (n * n)) * n + p % n).collect();
    let xi = (0..pairs).map(|p| p / n).collect();
    let sh = vec![rows * n, n];
    let bj = imp.push(
        ctx,
        name("others"),
        Op::Select { index: xj },
        vec![xr],
        sh.clone(),
    )?;
    let bi = imp.push(
        ctx,
        name("self"),
        Op::Select { index: xi },
        vec![xr],
        sh.clone(),
    )?;
    let d = imp.push(ctx, name("diff"), Op::Sub, vec![bj, bi], sh.clone())?;
    let sign = Op::Unary {
        func: UnaryFn::Sign,
    };
    let s = imp.push(ctx, name("sign"), sign, vec![d], sh.clone())?;
    let above = imp.push(ctx, name("above"), Op::Relu, vec![s], sh.clone())?;
    let op = Op::MulConst {
        constant: vec![-1.0; pairs],
    };
    let ns = imp.push(ctx, name("neg"), op, vec![s], sh.clone())?;
    let below = imp.push(ctx, name("below"), Op::Relu, vec![ns], sh)?;
    // rank[r, i] = Σ_{j>i} above + Σ_{j<i} (1 - below): per element i its own weights, so
    // one Linear per position over [above_i; below_i] rows laid out as [rows·n, 2n].
    let index = (0..rows * n)
        .flat_map(|ri| {
            (0..2 * n).map(move |c| {
                if c < n {
                    ri * n + c
                } else {
                    pairs + ri * n + c - n
                }
            })
        })
        .collect();
    let both = imp.push(
        ctx,
        name("comparisons"),
        Op::Select { index },
        vec![above, below],
        vec![rows * n, 2 * n],
    )?;
    let mut rank_rows = Vec::with_capacity(n);
    for i in 0..n {
        // Rows r·n + i of `both` hold element i's comparisons.
        let index = (0..rows)
            .flat_map(|r| ((r * n + i) * 2 * n)..((r * n + i + 1) * 2 * n))
            .collect();
        let mine = imp.push(
            ctx,
            name(&format!("rank{i}/inputs")),
            Op::Select { index },
            vec![both],
            vec![rows, 2 * n],
        )?;
        let mut weight = vec![0.0f32; 2 * n];
        for j in 0..n {
            if j > i {
                weight[j] = 1.0;
            } else if j < i {
                weight[n + j] = -1.0;
            }
        }
        let op = Op::Linear {
            weight,
            bias: vec![i as f32],
            n_in: 2 * n,
            n_out: 1,
        };
        rank_rows.push(imp.push(
            ctx,
            name(&format!("rank{i}")),
            op,
            vec![mine],
            vec![rows, 1],
        )?);
    }
    // ranks[r, i], then [rank[r, i] == k'] at (r, k', i).
    let index = (0..rows * n).map(|p| (p % n) * rows + p / n).collect();
    let ranks = imp.push(
        ctx,
        name("ranks"),
        Op::Select { index },
        rank_rows,
        vec![rows, n],
    )?;
    let eq_pairs: Vec<(usize, usize)> = (0..rows * k * n)
        .map(|p| {
            let (r, kk, i) = (p / (k * n), (p / n) % k, p % n);
            (r * n + i, kk)
        })
        .collect();
    let eq = equals(imp, ctx, ranks, &eq_pairs, "placed")?;
    let eq = imp.push(
        ctx,
        name("placed"),
        Op::Reshape,
        vec![eq],
        vec![rows * k, n],
    )?;
    // Exactly one element holds each rank: the ranks are a permutation. (The comparisons
    // are exact, so this holds by construction; the check makes the circuit say so.)
    let op = Op::Linear {
        weight: vec![1.0; n],
        bias: vec![0.0],
        n_in: n,
        n_out: 1,
    };
    let held = imp.push(ctx, name("rank_held"), op, vec![eq], vec![rows * k, 1])?;
    let op = Op::Check { lo: 1.0, hi: 1.0 };
    imp.push(
        ctx,
        name("rank_held_once"),
        op,
        vec![held],
        vec![rows * k, 1],
    )?;
    let outputs: Vec<&'g str> = ctx.proto.output.iter().map(String::as_str).collect();
    let out_dims: Vec<usize> = dims
        .iter()
        .enumerate()
        .map(|(q, &d)| if q == a { k } else { d })
        .collect();
    let out_plan = ReducePlan::new(out_dims, vec![a], true);
    if let Some(&values) = outputs.first().filter(|s| !s.is_empty()) {
        let index = (0..rows * k * n)
            .map(|p| (p / (k * n)) * n + p % n)
            .collect();
        let cand = imp.push(
            ctx,
            name("candidates"),
            Op::Select { index },
            vec![xr],
            vec![rows * k, n],
        )?;
        let prod = imp.push(
            ctx,
            name("picked"),
            Op::Mul,
            vec![eq, cand],
            vec![rows * k, n],
        )?;
        let op = Op::Linear {
            weight: vec![if largest { 1.0 } else { -1.0 }; n],
            bias: vec![0.0],
            n_in: n,
            n_out: 1,
        };
        let v = imp.push(ctx, name("values/rows"), op, vec![prod], vec![rows * k, 1])?;
        let t = finish(imp, ctx, &out_plan, v, "values")?;
        imp.bind(values, Value::Tensor(t));
    }
    if let Some(&indices) = outputs.get(1).filter(|s| !s.is_empty()) {
        let op = Op::Linear {
            weight: (0..n).map(|i| i as f32).collect(),
            bias: vec![0.0],
            n_in: n,
            n_out: 1,
        };
        let v = imp.push(ctx, name("indices/rows"), op, vec![eq], vec![rows * k, 1])?;
        let t = finish(imp, ctx, &out_plan, v, "indices")?;
        imp.bind(indices, Value::Tensor(t));
    }
    Ok(())
}

/// Rows `[outer·K, 1]` back to the output layout, named `node/label`.
fn finish<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    plan: &ReducePlan,
    rows: TensorId,
    label: &str,
) -> Result<TensorId, ImportError> {
    plan.rows_back(imp, ctx, rows, format!("{}/{label}", ctx.name))
}
