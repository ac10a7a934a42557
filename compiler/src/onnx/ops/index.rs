//! Indexing: `Gather`, `GatherElements` and `GatherND` at computed (activation) or constant
//! indices, and `OneHot` (scatters are in `scatter.rs`).
//!
//! Constant indices are index maps (`Select`, copy constraints only). A computed index `i`
//! (an integer-valued activation) selects by a one-hot sum: `y = Σ_j [i == j] · d_j` over the
//! `len` candidates `d_j`, where `[i == j] = relu(1 - |i - j|)` is exact for integers (no table).
//! As in ONNX, a negative index counts from the end: [`wrap_index`] maps `i` to
//! `i + len·[i < 0]`. A gather checks `-len <= i < len` first (a [`Op::Check`]: an index out of
//! range is unprovable, and a prove-time error naming `node/index_in_range`), so the wrapped
//! integer index lies in `0..len` and its one-hot has exactly one hit.

use std::rc::Rc;

use crate::graph::{Op, TensorId};
use crate::onnx::emit::data_tensor;
use crate::onnx::emit::equals;
use crate::onnx::emit::resolve;
use crate::onnx::emit::wrap_index;
use crate::onnx::emit::wrap_tuples;
use crate::onnx::emit::{dims_of, emit, int_input};
use crate::onnx::error::ImportError;
use crate::onnx::node::NodeCtx;
use crate::onnx::shape::{checked_numel, normalize_axis};
use crate::onnx::shape::{strides, unravel};
use crate::onnx::state::{Importer, Value};
use crate::onnx::tensor::{Const, ConstData};

/// One output element of a computed-index selection: the position of its index in the index
/// tensor and the data positions it may select (candidate `j` for index value `j`).
struct Pick {
    index_at: usize,
    candidates: Vec<usize>,
}

/// `y[p] = Σ_j [idx[picks[p].index_at] == j] · data[picks[p].candidates[j]]`, shaped `shape`.
fn select_computed<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    data: &Value,
    idx: TensorId,
    picks: &[Pick],
    shape: Vec<usize>,
) -> Result<TensorId, ImportError> {
    let len = picks.first().map_or(0, |p| p.candidates.len());
    if len == 0 || picks.is_empty() {
        return Err(ctx.shape_err("the selection is empty"));
    }
    // One indicator per (index, value): picks sharing an index (a gathered row's elements)
    // share its one-hot through a free `Select`.
    let mut at: Vec<usize> = picks.iter().map(|p| p.index_at).collect();
    at.sort_unstable();
    at.dedup();
    let pairs: Vec<(usize, usize)> = at
        .iter()
        .flat_map(|&k| (0..len).map(move |j| (k, j)))
        .collect();
    let onehot = equals(imp, ctx, idx, &pairs, "onehot")?;
    let index = picks
        .iter()
        .flat_map(|p| {
            let row = at.binary_search(&p.index_at).unwrap_or(0);
            (0..len).map(move |j| row * len + j)
        })
        .collect();
    let name = format!("{}/onehot/picks", ctx.name);
    let mask = imp.push(
        ctx,
        name,
        Op::Select { index },
        vec![onehot],
        vec![picks.len(), len],
    )?;
    let d = data_tensor(imp, ctx, data, idx)?;
    let index = picks
        .iter()
        .flat_map(|p| p.candidates.iter().copied())
        .collect();
    let name = format!("{}/candidates", ctx.name);
    let cand = imp.push(
        ctx,
        name,
        Op::Select { index },
        vec![d],
        vec![picks.len(), len],
    )?;
    let name = format!("{}/masked", ctx.name);
    let prod = imp.push(ctx, name, Op::Mul, vec![mask, cand], vec![picks.len(), len])?;
    let op = Op::Linear {
        weight: vec![1.0; len],
        bias: vec![0.0],
        n_in: len,
        n_out: 1,
    };
    let name = format!("{}/sum", ctx.name);
    let sum = imp.push(ctx, name, op, vec![prod], vec![picks.len(), 1])?;
    imp.push(ctx, ctx.name.clone(), Op::Reshape, vec![sum], shape)
}

/// `Gather`: constant indices resolve to a `Select` at import; computed ones go through
/// [`gather_computed`].
pub(crate) fn gather<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let data = imp.input(ctx, 0)?;
    if let Value::Tensor(idx) = imp.input(ctx, 1)? {
        return gather_computed(imp, ctx, idx);
    }
    let indices = imp.const_input(ctx, 1)?;
    let ConstData::I64(idx) = &indices.data else {
        let name = ctx.input_name(1).unwrap_or_default();
        return Err(ctx.bad_node(format!("indices `{name}` must be an integer tensor")));
    };
    let dims = dims_of(imp, &data);
    let axis = ctx.attr_int("axis", 0)?;
    let a = normalize_axis(axis, dims.len())
        .ok_or_else(|| ctx.bad_attr("axis", format!("{axis} is out of range for {dims:?}")))?;
    let (outer_dims, rest) = dims.split_at(a);
    let (&len, inner_dims) = rest
        .split_first()
        .ok_or_else(|| ctx.bad_attr("axis", format!("{axis} is out of range for {dims:?}")))?;
    let (outer, inner): (usize, usize) = (outer_dims.iter().product(), inner_dims.iter().product());
    let len_i = i64::try_from(len).unwrap_or(i64::MAX);
    let mut resolved = Vec::with_capacity(idx.len());
    for &i in idx {
        let r = if i < 0 { i + len_i } else { i };
        match usize::try_from(r).ok().filter(|&r| r < len) {
            Some(r) => resolved.push(r),
            None => {
                return Err(ctx.shape_err(format!(
                    "index {i} in `{}` is out of range for axis {a} of {dims:?}",
                    ctx.input_name(1).unwrap_or_default()
                )))
            }
        }
    }
    let mut shape = outer_dims.to_vec();
    shape.extend_from_slice(&indices.dims);
    shape.extend_from_slice(inner_dims);
    if checked_numel(&shape).is_none() {
        return Err(ctx.shape_err(format!("output shape {shape:?} is too large")));
    }
    let mut index = Vec::with_capacity(outer * resolved.len() * inner);
    for o in 0..outer {
        for &r in &resolved {
            let start = (o * len + r) * inner;
            index.extend(start..start + inner);
        }
    }
    emit(imp, ctx, &[data], shape, index)
}

/// `Gather` along `axis` at computed indices (constant indices are handled by the rewiring).
pub(crate) fn gather_computed<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    idx: TensorId,
) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let data = imp.input(ctx, 0)?;
    let dims = dims_of(imp, &data);
    let idims = imp.shape(idx).to_vec();
    let axis = ctx.attr_int("axis", 0)?;
    let a = normalize_axis(axis, dims.len())
        .ok_or_else(|| ctx.bad_attr("axis", format!("{axis} is out of range for {dims:?}")))?;
    let outer: usize = dims.iter().take(a).product();
    let len = dims.get(a).copied().unwrap_or(1);
    let inner: usize = dims.iter().skip(a + 1).product();
    let n_idx: usize = idims.iter().product();
    let mut shape = dims.get(..a).unwrap_or_default().to_vec();
    shape.extend_from_slice(&idims);
    shape.extend_from_slice(dims.get(a + 1..).unwrap_or_default());
    if checked_numel(&shape).is_none() || checked_numel(&[outer, n_idx, inner, len]).is_none() {
        return Err(ctx.shape_err(format!("output shape {shape:?} is too large")));
    }
    let mut picks = Vec::with_capacity(outer * n_idx * inner);
    for o in 0..outer {
        for k in 0..n_idx {
            for n in 0..inner {
                picks.push(Pick {
                    index_at: k,
                    candidates: (0..len).map(|j| (o * len + j) * inner + n).collect(),
                });
            }
        }
    }
    let idx = wrap_index(imp, ctx, idx, len, true, "")?;
    let t = match &data {
        // An embedding: rows of a constant table. The one-hot of each index times the table,
        // one dot product per output element (T·V indicators, T·V·D MACs on the lanes).
        Value::Const(table) if outer == 1 => {
            embedding(imp, ctx, table, idx, n_idx, len, inner, shape)?
        }
        _ => select_computed(imp, ctx, &data, idx, &picks, shape)?,
    };
    imp.bind(out, Value::Tensor(t));
    Ok(())
}

/// `y[k, :] = table[idx[k], :]` for a constant `[len, inner]` table: the one-hot `[n_idx, len]`
/// of the (wrapped, checked) indices by a `Linear` whose weights are the table.
#[allow(clippy::too_many_arguments)]
fn embedding<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    table: &Const,
    idx: TensorId,
    n_idx: usize,
    len: usize,
    inner: usize,
    shape: Vec<usize>,
) -> Result<TensorId, ImportError> {
    let values = table.to_f32();
    let pairs: Vec<(usize, usize)> = (0..n_idx)
        .flat_map(|k| (0..len).map(move |j| (k, j)))
        .collect();
    let onehot = equals(imp, ctx, idx, &pairs, "onehot")?;
    // Linear weights are `[n_out][n_in]`: output element `d` reads `table[j, d]` for every `j`.
    let weight = (0..inner)
        .flat_map(|d| (0..len).map(move |j| (j, d)))
        .map(|(j, d)| values.get(j * inner + d).copied().unwrap_or(0.0))
        .collect();
    let rows = imp.push(
        ctx,
        format!("{}/onehot/rows", ctx.name),
        Op::Reshape,
        vec![onehot],
        vec![n_idx, len],
    )?;
    let op = Op::Linear {
        weight,
        bias: vec![0.0; inner],
        n_in: len,
        n_out: inner,
    };
    let y = imp.push(
        ctx,
        format!("{}/rows", ctx.name),
        op,
        vec![rows],
        vec![n_idx, inner],
    )?;
    imp.push(ctx, ctx.name.clone(), Op::Reshape, vec![y], shape)
}

/// `GatherElements`: `y[p] = x[p with its axis coordinate replaced by idx[p]]`.
pub(crate) fn gather_elements<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
) -> Result<(), ImportError> {
    let data = imp.input(ctx, 0)?;
    let dims = dims_of(imp, &data);
    let idx = imp.input(ctx, 1)?;
    let idims = dims_of(imp, &idx);
    let axis = ctx.attr_int("axis", 0)?;
    let a = normalize_axis(axis, dims.len())
        .ok_or_else(|| ctx.bad_attr("axis", format!("{axis} is out of range for {dims:?}")))?;
    if idims.len() != dims.len()
        || idims
            .iter()
            .zip(&dims)
            .enumerate()
            .any(|(k, (i, d))| k != a && i > d)
    {
        return Err(ctx.shape_err(format!(
            "indices {idims:?} must have the rank of data {dims:?} and fit it off axis {a}"
        )));
    }
    let st = strides(&dims);
    let len = dims.get(a).copied().unwrap_or(1);
    let n = checked_numel(&idims)
        .ok_or_else(|| ctx.shape_err(format!("indices {idims:?} are too large")))?;
    let base = |p: usize| -> (usize, usize) {
        let mut c = vec![0; idims.len()];
        unravel(p, &idims, &mut c);
        let flat: usize = c
            .iter()
            .zip(&st)
            .enumerate()
            .map(|(k, (c, s))| if k == a { 0 } else { c * s })
            .sum();
        (flat, st.get(a).copied().unwrap_or(1))
    };
    match idx {
        Value::Const(_) => {
            let values = int_input(imp, ctx, 1)?;
            let mut index = Vec::with_capacity(n);
            for (p, &i) in values.iter().enumerate() {
                let (flat, step) = base(p);
                index.push(flat + resolve(ctx, i, len)? * step);
            }
            emit(imp, ctx, &[data], idims, index)
        }
        Value::Tensor(t) => {
            let out = ctx.output_name()?;
            let picks: Vec<Pick> = (0..n)
                .map(|p| {
                    let (flat, step) = base(p);
                    Pick {
                        index_at: p,
                        candidates: (0..len).map(|j| flat + j * step).collect(),
                    }
                })
                .collect();
            let t = wrap_index(imp, ctx, t, len, true, "")?;
            let id = select_computed(imp, ctx, &data, t, &picks, idims)?;
            imp.bind(out, Value::Tensor(id));
            Ok(())
        }
    }
}

/// `GatherND` (batch_dims = 0): `y[k, ...] = x[idx[k, 0], ..., idx[k, q-1], ...]`.
pub(crate) fn gather_nd<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    if ctx.attr_int("batch_dims", 0)? != 0 {
        return Err(ctx.unsupported("batch_dims other than 0"));
    }
    let data = imp.input(ctx, 0)?;
    let dims = dims_of(imp, &data);
    let idx = imp.input(ctx, 1)?;
    let idims = dims_of(imp, &idx);
    let (&q, lead) = idims
        .split_last()
        .ok_or_else(|| ctx.shape_err("indices must have at least one axis"))?;
    if q == 0 || q > dims.len() {
        return Err(ctx.shape_err(format!(
            "the last axis of indices {idims:?} must be in 1..={} for data {dims:?}",
            dims.len()
        )));
    }
    let inner: usize = dims.iter().skip(q).product();
    let rows: usize = lead.iter().product();
    let mut shape = lead.to_vec();
    shape.extend_from_slice(dims.get(q..).unwrap_or_default());
    let st = strides(&dims);
    match idx {
        Value::Const(_) => {
            let values = int_input(imp, ctx, 1)?;
            let mut index = Vec::with_capacity(rows * inner);
            for row in values.chunks(q) {
                let mut flat = 0;
                for (k, &i) in row.iter().enumerate() {
                    flat += resolve(ctx, i, dims.get(k).copied().unwrap_or(1))?
                        * st.get(k).copied().unwrap_or(1);
                }
                index.extend(flat..flat + inner);
            }
            emit(imp, ctx, &[data], shape, index)
        }
        Value::Tensor(t) => {
            let out = ctx.output_name()?;
            // The flat row of each index tuple: Σ_k idx[.., k] · (stride_k / inner).
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
            let t = wrap_tuples(imp, ctx, t, &dims, rows, q)?;
            let name = format!("{}/flat_index", ctx.name);
            let flat = imp.push(ctx, name, op, vec![t], vec![rows, 1])?;
            let len: usize = dims.iter().take(q).product();
            let picks: Vec<Pick> = (0..rows)
                .flat_map(|r| {
                    (0..inner).map(move |n| Pick {
                        index_at: r,
                        candidates: (0..len).map(|j| j * inner + n).collect(),
                    })
                })
                .collect();
            let id = select_computed(imp, ctx, &data, flat, &picks, shape)?;
            imp.bind(out, Value::Tensor(id));
            Ok(())
        }
    }
}

/// `OneHot(indices, depth, values = [off, on])`, the new axis at `axis` (default last).
pub(crate) fn one_hot<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let idx = imp.input(ctx, 0)?;
    let idims = dims_of(imp, &idx);
    let depth = imp
        .const_input(ctx, 1)?
        .to_f32()
        .first()
        .copied()
        .unwrap_or(0.0);
    if !((1.0..=65536.0).contains(&depth) && depth.fract() == 0.0) {
        return Err(ctx.bad_node(format!("depth {depth} must be a positive integer")));
    }
    let depth = depth as usize;
    let values = imp.const_input(ctx, 2)?.to_f32();
    let &[off, on] = values.as_slice() else {
        return Err(ctx.shape_err(format!("values must hold [off, on], got {values:?}")));
    };
    let rank = idims.len() + 1;
    let axis = ctx.attr_int("axis", -1)?;
    let a = normalize_axis(axis, rank)
        .ok_or_else(|| ctx.bad_attr("axis", format!("{axis} is out of range for rank {rank}")))?;
    let n: usize = idims.iter().product();
    let mut shape = idims.clone();
    shape.insert(a, depth);
    let outer: usize = idims.iter().take(a).product();
    let inner = n / outer.max(1);
    // Position (o, j, i) of the output reads index (o, i) against value j.
    let mut pairs = Vec::with_capacity(n * depth);
    for o in 0..outer {
        for j in 0..depth {
            for i in 0..inner {
                pairs.push((o * inner + i, j));
            }
        }
    }
    let value = match idx {
        Value::Const(_) => {
            let ints = int_input(imp, ctx, 0)?;
            let data = pairs
                .iter()
                .map(|&(k, j)| {
                    let i = ints.get(k).copied().unwrap_or(-1);
                    let d = i64::try_from(depth).unwrap_or(i64::MAX);
                    let r = if i < 0 { i + d } else { i };
                    if r == j as i64 {
                        on
                    } else {
                        off
                    }
                })
                .collect();
            Value::Const(Rc::new(Const::f32(shape, data)))
        }
        Value::Tensor(t) => {
            // ONNX: an index in [-depth, 0) counts from the end; one outside [-depth, depth)
            // gives a row of `off` (it stays outside 0..depth after the wrap).
            let t = wrap_index(imp, ctx, t, depth, false, "")?;
            let mask = equals(imp, ctx, t, &pairs, "onehot")?;
            let total = pairs.len();
            let mut m = mask;
            if on - off != 1.0 {
                let op = Op::MulConst {
                    constant: vec![on - off; total],
                };
                m = imp.push(ctx, format!("{}/scale", ctx.name), op, vec![m], vec![total])?;
            }
            let op = Op::AddConst {
                constant: vec![off; total],
            };
            let name = format!("{}/offset", ctx.name);
            let t = imp.push(ctx, name, op, vec![m], vec![total])?;
            Value::Tensor(imp.push(ctx, ctx.name.clone(), Op::Reshape, vec![t], shape)?)
        }
    };
    imp.bind(out, value);
    Ok(())
}
