//! `ScatterElements` (and the old `Scatter`) and `ScatterND`, reduction `none` or `add`.
//!
//! At constant indices with reduction `none` a scatter is an index map over `[data, updates]`
//! (copy constraints only). Otherwise every output position `t` that an update can reach is
//! `y_t = data_t · (1 − hit_t) + Σ_u [idx_u == c_t] · upd_u` (`none`) or
//! `y_t = data_t + Σ_u [idx_u == c_t] · upd_u` (`add`), summed over the updates `u` that can
//! land on `t`: `c_t` is the index value that sends them there, `hit_t = Σ_u [idx_u == c_t]`,
//! and `[i == j] = relu(1 − |i − j|)` is exact for integers (see `index.rs`). Computed
//! indices are checked to lie in `-len..len` and wrapped as ONNX does (see
//! `index::wrap_index`); with `none` they must be distinct, as ONNX requires, so `hit_t` is
//! checked to be at most 1: duplicates are unprovable, and a prove-time error naming
//! `node/hit/at_most_one`.

use std::collections::HashMap;

use crate::graph::{Op, TensorId};
use crate::onnx::emit::{const_tensor_shaped, dims_of, emit, int_input};
use crate::onnx::emit::{data_tensor, equals, resolve, wrap_index, wrap_tuples};
use crate::onnx::error::ImportError;
use crate::onnx::node::NodeCtx;
use crate::onnx::shape::{checked_numel, normalize_axis};
use crate::onnx::shape::{strides, unravel};
use crate::onnx::state::{Importer, Value};

/// One output position that updates can reach, and the updates that can land on it.
struct Target {
    /// Flat output position.
    at: usize,
    /// Per candidate update: (position of its index, index value that sends it here,
    /// position of its value in the updates).
    terms: Vec<(usize, usize, usize)>,
}

/// Where an update of a scatter goes: the shapes, checked.
enum Geometry {
    /// `ScatterElements` along `axis`.
    Elements { axis: usize },
    /// `ScatterND` with index tuples of length `q`.
    Nd { q: usize },
}

/// `ScatterElements`, `Scatter` and `ScatterND`.
pub(crate) fn scatter<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let add = match ctx.attr_string("reduction")?.as_deref() {
        None | Some("none") => false,
        Some("add") => true,
        Some(r) => {
            return Err(ctx.unsupported(format!("reduction `{r}`: only none and add are supported")))
        }
    };
    let data = imp.input(ctx, 0)?;
    let dims = dims_of(imp, &data);
    let idx = imp.input(ctx, 1)?;
    let idims = dims_of(imp, &idx);
    let updates = imp.input(ctx, 2)?;
    let udims = dims_of(imp, &updates);
    let geometry = if ctx.op() == "ScatterElements" || ctx.op() == "Scatter" {
        let axis = ctx.attr_int("axis", 0)?;
        let a = normalize_axis(axis, dims.len())
            .ok_or_else(|| ctx.bad_attr("axis", format!("{axis} is out of range for {dims:?}")))?;
        let fits = idims
            .iter()
            .zip(&dims)
            .enumerate()
            .all(|(k, (i, d))| k == a || i <= d);
        if idims != udims || idims.len() != dims.len() || !fits {
            return Err(ctx.shape_err(format!(
                "indices {idims:?} and updates {udims:?} must agree, have the rank of data {dims:?} and fit it off axis {a}"
            )));
        }
        Geometry::Elements { axis: a }
    } else {
        let (&q, lead) = idims
            .split_last()
            .ok_or_else(|| ctx.shape_err("indices must have at least one axis"))?;
        let mut want = lead.to_vec();
        want.extend_from_slice(dims.get(q..).unwrap_or_default());
        if q == 0 || q > dims.len() || udims != want {
            return Err(ctx.shape_err(format!(
                "updates {udims:?} must be {want:?} for indices {idims:?} and data {dims:?}"
            )));
        }
        Geometry::Nd { q }
    };
    let n = checked_numel(&dims).ok_or_else(|| ctx.shape_err("data is too large"))?;
    let m = checked_numel(&idims).ok_or_else(|| ctx.shape_err("indices are too large"))?;
    if checked_numel(&[n, m]).is_none() {
        return Err(ctx.shape_err(format!("data {dims:?} and indices {idims:?} are too large")));
    }
    let idx = match idx {
        Value::Const(_) if !add => {
            let index = constant_index_map(imp, ctx, &geometry, &dims, &idims, n)?;
            if index.iter().all(|&i| i < n) {
                return emit(imp, ctx, &[data], dims, index);
            }
            return emit(imp, ctx, &[data, updates], dims, index);
        }
        Value::Const(c) => {
            let anchor = [&data, &updates]
                .into_iter()
                .find_map(|v| match v {
                    Value::Tensor(t) => Some(*t),
                    Value::Const(_) => None,
                })
                .ok_or_else(|| {
                    ctx.unsupported("reduction add over constant data, indices and updates")
                })?;
            const_tensor_shaped(imp, ctx, &c, anchor, "indices")?
        }
        Value::Tensor(t) => t,
    };
    let (idx, targets) = match geometry {
        Geometry::Elements { axis } => {
            let len = dims.get(axis).copied().unwrap_or(1);
            let idx = wrap_index(imp, ctx, idx, len, true, "")?;
            (idx, element_targets(&dims, &idims, axis))
        }
        Geometry::Nd { q } => {
            let rows: usize = idims.iter().rev().skip(1).product();
            let idx = wrap_tuples(imp, ctx, idx, &dims, rows, q)?;
            nd_targets(imp, ctx, idx, &dims, &idims, q)?
        }
    };
    write_computed(imp, ctx, [&data, &updates], idx, dims, &targets, add)
}

/// The index map of a scatter at constant indices: output position → position in
/// `[data, updates]`.
fn constant_index_map<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    geometry: &Geometry,
    dims: &[usize],
    idims: &[usize],
    n: usize,
) -> Result<Vec<usize>, ImportError> {
    let values = int_input(imp, ctx, 1)?;
    let st = strides(dims);
    let mut index: Vec<usize> = (0..n).collect();
    match *geometry {
        Geometry::Elements { axis } => {
            let len = dims.get(axis).copied().unwrap_or(1);
            for (p, &i) in values.iter().enumerate() {
                let mut c = vec![0; idims.len()];
                unravel(p, idims, &mut c);
                if let Some(slot) = c.get_mut(axis) {
                    *slot = resolve(ctx, i, len)?;
                }
                let flat: usize = c.iter().zip(&st).map(|(c, s)| c * s).sum();
                if let Some(slot) = index.get_mut(flat) {
                    *slot = n + p;
                }
            }
        }
        Geometry::Nd { q } => {
            let inner: usize = dims.iter().skip(q).product();
            for (r, row) in values.chunks(q).enumerate() {
                let mut flat = 0;
                for (k, &i) in row.iter().enumerate() {
                    flat += resolve(ctx, i, dims.get(k).copied().unwrap_or(1))?
                        * st.get(k).copied().unwrap_or(1);
                }
                for j in 0..inner {
                    if let Some(slot) = index.get_mut(flat + j) {
                        *slot = n + r * inner + j;
                    }
                }
            }
        }
    }
    Ok(index)
}

/// `ScatterElements`: output `c` is reached by the updates at `c` with its axis coordinate
/// replaced by any `s`, when their index is `c[axis]` (positions off axis beyond the indices
/// are never reached).
fn element_targets(dims: &[usize], idims: &[usize], axis: usize) -> Vec<Target> {
    let ist = strides(idims);
    let along = idims.get(axis).copied().unwrap_or(0);
    let step = ist.get(axis).copied().unwrap_or(1);
    let n: usize = dims.iter().product();
    let mut targets = Vec::new();
    let mut c = vec![0; dims.len()];
    for t in 0..n {
        unravel(t, dims, &mut c);
        let reachable = c
            .iter()
            .zip(idims)
            .enumerate()
            .all(|(k, (c, i))| k == axis || c < i);
        if !reachable || along == 0 {
            continue;
        }
        let base: usize = c
            .iter()
            .zip(&ist)
            .enumerate()
            .map(|(k, (c, s))| if k == axis { 0 } else { c * s })
            .sum();
        let value = c.get(axis).copied().unwrap_or(0);
        let terms = (0..along)
            .map(|s| (base + s * step, value, base + s * step))
            .collect();
        targets.push(Target { at: t, terms });
    }
    targets
}

/// `ScatterND`: every row `j` of the data (its first `q` axes, flattened) is reached by every
/// index tuple `r` whose flat row is `j`. Returns the flat row of each tuple and the targets.
fn nd_targets<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    idx: TensorId,
    dims: &[usize],
    idims: &[usize],
    q: usize,
) -> Result<(TensorId, Vec<Target>), ImportError> {
    let st = strides(dims);
    let inner: usize = dims.iter().skip(q).product();
    let rows: usize = idims.iter().rev().skip(1).product();
    let weight: Vec<f32> = st
        .iter()
        .take(q)
        .map(|&s| (s / inner.max(1)) as f32)
        .collect();
    let op = Op::Linear {
        weight,
        bias: vec![0.0],
        n_in: q,
        n_out: 1,
    };
    let name = format!("{}/flat_index", ctx.name);
    let flat = imp.push(ctx, name, op, vec![idx], vec![rows, 1])?;
    let len: usize = dims.iter().take(q).product();
    let mut targets = Vec::with_capacity(len * inner);
    for j in 0..len {
        for e in 0..inner {
            let terms = (0..rows).map(|r| (r, j, r * inner + e)).collect();
            targets.push(Target {
                at: j * inner + e,
                terms,
            });
        }
    }
    Ok((flat, targets))
}

/// Writes the updates over the data at the `targets` (see the module docs) and binds the
/// node's output.
fn write_computed<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    [data, updates]: [&Value; 2],
    idx: TensorId,
    dims: Vec<usize>,
    targets: &[Target],
    add: bool,
) -> Result<(), ImportError> {
    let n: usize = dims.iter().product();
    let d = data_tensor(imp, ctx, data, idx)?;
    let width = targets.first().map_or(0, |t| t.terms.len());
    if width == 0 || targets.iter().any(|t| t.terms.len() != width) {
        // No update can land anywhere: the output is the data.
        return emit(imp, ctx, &[Value::Tensor(d)], dims, (0..n).collect());
    }
    let p = targets.len();
    let name = |s: &str| format!("{}/{s}", ctx.name);
    // Each distinct (index position, value) comparison once, then spread over the terms.
    let mut seen: HashMap<(usize, usize), usize> = HashMap::new();
    let mut pairs = Vec::new();
    let mut spread = Vec::with_capacity(p * width);
    for &(k, j, _) in targets.iter().flat_map(|t| &t.terms) {
        let slot = *seen.entry((k, j)).or_insert_with(|| {
            pairs.push((k, j));
            pairs.len() - 1
        });
        spread.push(slot);
    }
    let eq = equals(imp, ctx, idx, &pairs, "hit")?;
    let op = Op::Select { index: spread };
    let eq = imp.push(ctx, name("hit/terms"), op, vec![eq], vec![p, width])?;
    let u = data_tensor(imp, ctx, updates, idx)?;
    let index = targets
        .iter()
        .flat_map(|t| t.terms.iter().map(|&(_, _, v)| v))
        .collect();
    let op = Op::Select { index };
    let upd = imp.push(ctx, name("updates"), op, vec![u], vec![p, width])?;
    let masked = imp.push(ctx, name("masked"), Op::Mul, vec![eq, upd], vec![p, width])?;
    let ones = || Op::Linear {
        weight: vec![1.0; width],
        bias: vec![0.0],
        n_in: width,
        n_out: 1,
    };
    let written = imp.push(ctx, name("written"), ones(), vec![masked], vec![p, 1])?;
    let index = targets.iter().map(|t| t.at).collect();
    let op = Op::Select { index };
    let old = imp.push(ctx, name("old"), op, vec![d], vec![p, 1])?;
    let kept = if add {
        old
    } else {
        let hit = imp.push(ctx, name("hit/any"), ones(), vec![eq], vec![p, 1])?;
        let op = Op::Check { lo: 0.0, hi: 1.0 };
        let hit = imp.push(ctx, name("hit/at_most_one"), op, vec![hit], vec![p, 1])?;
        let op = Op::MulConst {
            constant: vec![-1.0; p],
        };
        let neg = imp.push(ctx, name("hit/neg"), op, vec![hit], vec![p, 1])?;
        let op = Op::AddConst {
            constant: vec![1.0; p],
        };
        let miss = imp.push(ctx, name("miss"), op, vec![neg], vec![p, 1])?;
        imp.push(ctx, name("kept"), Op::Mul, vec![old, miss], vec![p, 1])?
    };
    let val = imp.push(ctx, name("value"), Op::Add, vec![kept, written], vec![p, 1])?;
    let mut index: Vec<usize> = (0..n).collect();
    for (k, t) in targets.iter().enumerate() {
        if let Some(slot) = index.get_mut(t.at) {
            *slot = n + k;
        }
    }
    emit(
        imp,
        ctx,
        &[Value::Tensor(d), Value::Tensor(val)],
        dims,
        index,
    )
}
