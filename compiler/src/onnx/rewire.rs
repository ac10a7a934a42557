//! Data movement: Transpose, Slice, Gather (constant indices), Concat, Expand and Shape.
//!
//! Each op is first reduced to an index map (`y[i] = concat(inputs)[index[i]]`) computed from
//! shapes alone. On activations the map becomes a `Select` node; on constants it is applied at
//! import time, so shape arithmetic on constants folds away.

use std::rc::Rc;

use super::error::ImportError;
use super::node::NodeCtx;
use super::shape::{broadcast_shape, broadcast_to, checked_numel, normalize_axis};
use super::state::{Importer, Value};
use super::tensor::{Const, ConstData};
use crate::graph::{Op, TensorId};

/// Writes the row-major multi-index of flat position `pos` in `dims` into `out`.
pub(crate) fn unravel(mut pos: usize, dims: &[usize], out: &mut [usize]) {
    for (o, &d) in out.iter_mut().zip(dims).rev() {
        let d = d.max(1);
        *o = pos % d;
        pos /= d;
    }
}

/// Row-major strides of `dims`.
pub(crate) fn strides(dims: &[usize]) -> Vec<usize> {
    let mut out = vec![1usize; dims.len()];
    let mut acc = 1usize;
    for (s, &d) in out.iter_mut().zip(dims).rev() {
        *s = acc;
        acc = acc.saturating_mul(d);
    }
    out
}

/// Flat positions `base + Σ i_k * steps[k]` for every multi-index `i` over `sizes` (row-major).
/// `None` when a position is negative or the element count is too large.
fn strided(base: i64, sizes: &[usize], steps: &[i64]) -> Option<Vec<usize>> {
    let n = checked_numel(sizes)?;
    let mut out = Vec::with_capacity(n);
    let mut idx = vec![0usize; sizes.len()];
    let mut pos = base;
    for _ in 0..n {
        out.push(usize::try_from(pos).ok()?);
        for ((i, &d), &s) in idx.iter_mut().zip(sizes).zip(steps).rev() {
            *i += 1;
            pos += s;
            if *i < d {
                break;
            }
            pos -= s * i64::try_from(d).ok()?;
            *i = 0;
        }
    }
    Some(out)
}

/// Index map of `transpose(x, perm)` for `x` of shape `dims` (`perm` is a valid permutation).
pub(crate) fn transpose_index(dims: &[usize], perm: &[usize]) -> Option<Vec<usize>> {
    let src = strides(dims);
    let sizes: Vec<usize> = perm
        .iter()
        .map(|&p| dims.get(p).copied())
        .collect::<Option<_>>()?;
    let steps: Vec<i64> = perm
        .iter()
        .map(|&p| src.get(p).and_then(|&s| i64::try_from(s).ok()))
        .collect::<Option<_>>()?;
    strided(0, &sizes, &steps)
}

/// Permutation moving axis `axis` of a rank-`rank` tensor to the end.
pub(crate) fn axis_to_last(axis: usize, rank: usize) -> Vec<usize> {
    (0..rank).filter(|&k| k != axis).chain([axis]).collect()
}

/// The inverse of permutation `perm`.
pub(crate) fn inverse_perm(perm: &[usize]) -> Vec<usize> {
    let mut inv = vec![0; perm.len()];
    for (k, &p) in perm.iter().enumerate() {
        if let Some(slot) = inv.get_mut(p) {
            *slot = k;
        }
    }
    inv
}

/// `dims` permuted by `perm`.
pub(crate) fn permute(dims: &[usize], perm: &[usize]) -> Vec<usize> {
    perm.iter()
        .map(|&p| dims.get(p).copied().unwrap_or(1))
        .collect()
}

/// Applies an index map to a constant (`data` is the concatenation of the inputs' values).
fn gather_const(
    ctx: &NodeCtx<'_>,
    parts: &[Rc<Const>],
    dims: Vec<usize>,
    index: &[usize],
) -> Result<Const, ImportError> {
    let bad = || ctx.shape_err("index out of range while folding constants");
    if parts.iter().all(|c| matches!(c.data, ConstData::I64(_))) {
        let all: Vec<i64> = parts
            .iter()
            .flat_map(|c| match &c.data {
                ConstData::I64(v) => v.clone(),
                ConstData::F32(_) => Vec::new(),
            })
            .collect();
        let data = index
            .iter()
            .map(|&i| all.get(i).copied())
            .collect::<Option<_>>()
            .ok_or_else(bad)?;
        return Ok(Const::i64(dims, data));
    }
    let all: Vec<f32> = parts.iter().flat_map(|c| c.to_f32()).collect();
    let data = index
        .iter()
        .map(|&i| all.get(i).copied())
        .collect::<Option<_>>()
        .ok_or_else(bad)?;
    Ok(Const::f32(dims, data))
}

/// Constant `c` as a tensor (named `node/label`): a `Linear` with zero weights and `c` as its
/// bias, reading one element of `anchor` (any activation, so the value joins the circuit).
pub(crate) fn const_tensor<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    c: &Const,
    anchor: TensorId,
    label: &str,
) -> Result<TensorId, ImportError> {
    let bias = c.to_f32();
    let n = bias.len();
    if n == 0 {
        return Err(ctx.shape_err(format!("constant `{label}` is empty")));
    }
    let one = imp.push(
        ctx,
        format!("{}/{label}/anchor", ctx.name),
        Op::Select { index: vec![0] },
        vec![anchor],
        vec![1],
    )?;
    let op = Op::Linear {
        weight: vec![0.0; n],
        bias,
        n_in: 1,
        n_out: n,
    };
    imp.push(ctx, format!("{}/{label}", ctx.name), op, vec![one], vec![n])
}

/// [`const_tensor`] in the constant's own shape.
pub(crate) fn const_tensor_shaped<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    c: &Const,
    anchor: TensorId,
    label: &str,
) -> Result<TensorId, ImportError> {
    let flat = const_tensor(imp, ctx, c, anchor, label)?;
    if c.dims.len() == 1 {
        return Ok(flat);
    }
    let name = format!("{}/{label}/shaped", ctx.name);
    imp.push(ctx, name, Op::Reshape, vec![flat], c.dims.clone())
}

/// Binds the node output to the rewired inputs: a `Select` over activations or a folded constant.
pub(crate) fn emit<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    inputs: &[Value],
    shape: Vec<usize>,
    index: Vec<usize>,
) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    emit_as(imp, ctx, inputs, shape, index, out, ctx.name.clone())
}

/// [`emit`] into output `out`, as a node named `node` (for ops with several outputs).
pub(crate) fn emit_as<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    inputs: &[Value],
    shape: Vec<usize>,
    index: Vec<usize>,
    out: &'g str,
    node: String,
) -> Result<(), ImportError> {
    if index.is_empty() {
        return Err(ctx.unsupported(format!("the output would be empty (shape {shape:?})")));
    }
    let tensors: Vec<TensorId> = inputs
        .iter()
        .filter_map(|v| match v {
            Value::Tensor(t) => Some(*t),
            Value::Const(_) => None,
        })
        .collect();
    let consts: Vec<Rc<Const>> = inputs
        .iter()
        .filter_map(|v| match v {
            Value::Const(c) => Some(Rc::clone(c)),
            Value::Tensor(_) => None,
        })
        .collect();
    let value = if consts.is_empty() {
        let id = imp.push(ctx, node, Op::Select { index }, tensors, shape)?;
        Value::Tensor(id)
    } else if let Some(&anchor) = tensors.first() {
        // Constants mixed with activations (a padding value, a learned token concatenated
        // to the input) become tensors first, then every input is rewired together.
        let mut all = Vec::with_capacity(inputs.len());
        for (k, v) in inputs.iter().enumerate() {
            all.push(match v {
                Value::Tensor(t) => *t,
                Value::Const(c) => const_tensor(imp, ctx, c, anchor, &format!("const{k}"))?,
            });
        }
        let id = imp.push(ctx, node, Op::Select { index }, all, shape)?;
        Value::Tensor(id)
    } else {
        Value::Const(Rc::new(gather_const(ctx, &consts, shape, &index)?))
    };
    imp.bind(out, value);
    Ok(())
}

/// Shape of an input value.
pub(crate) fn dims_of(imp: &Importer<'_>, v: &Value) -> Vec<usize> {
    match v {
        Value::Tensor(t) => imp.shape(*t).to_vec(),
        Value::Const(c) => c.dims.clone(),
    }
}

/// Constant integer input `k` (indices, shapes, slice bounds).
pub(crate) fn int_input<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    k: usize,
) -> Result<Vec<i64>, ImportError> {
    let c = imp.const_input(ctx, k)?;
    match &c.data {
        ConstData::I64(v) => Ok(v.clone()),
        ConstData::F32(_) => {
            let name = ctx.input_name(k).unwrap_or_default();
            Err(ctx.bad_node(format!("input #{k} `{name}` must be an integer tensor")))
        }
    }
}

/// `Transpose` (default `perm`: reversed axes).
pub(crate) fn transpose<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let x = imp.input(ctx, 0)?;
    let dims = dims_of(imp, &x);
    let rank = dims.len();
    let perm: Vec<usize> = match ctx.attr_ints("perm")? {
        None => (0..rank).rev().collect(),
        Some(p) => {
            let bad = || {
                ctx.bad_attr(
                    "perm",
                    format!("{p:?} is not a permutation of the {rank} axes of {dims:?}"),
                )
            };
            let perm: Vec<usize> = p
                .iter()
                .map(|&a| usize::try_from(a).ok().filter(|&a| a < rank))
                .collect::<Option<_>>()
                .ok_or_else(bad)?;
            let mut seen = vec![false; rank];
            for &a in &perm {
                match seen.get_mut(a) {
                    Some(s) if !*s => *s = true,
                    _ => return Err(bad()),
                }
            }
            if perm.len() != rank {
                return Err(bad());
            }
            perm
        }
    };
    let index = transpose_index(&dims, &perm)
        .ok_or_else(|| ctx.shape_err(format!("cannot transpose {dims:?}")))?;
    emit(imp, ctx, &[x], permute(&dims, &perm), index)
}

/// Starts, ends, axes and steps of a `Slice`: inputs (opset 10+) or attributes (older).
fn slice_params<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    rank: usize,
) -> Result<[Vec<i64>; 4], ImportError> {
    let (starts, ends, axes, steps) = if ctx.input_name(1).is_some() {
        let starts = int_input(imp, ctx, 1)?;
        let ends = int_input(imp, ctx, 2)?;
        let axes = match ctx.input_name(3) {
            Some(_) => Some(int_input(imp, ctx, 3)?),
            None => None,
        };
        let steps = match ctx.input_name(4) {
            Some(_) => Some(int_input(imp, ctx, 4)?),
            None => None,
        };
        (starts, ends, axes, steps)
    } else {
        let starts = ctx
            .attr_ints("starts")?
            .ok_or_else(|| ctx.bad_attr("starts", "is missing (and there is no `starts` input)"))?;
        let ends = ctx
            .attr_ints("ends")?
            .ok_or_else(|| ctx.bad_attr("ends", "is missing (and there is no `ends` input)"))?;
        (starts, ends, ctx.attr_ints("axes")?, None)
    };
    let n = starts.len();
    let axes = axes.unwrap_or_else(|| (0..n).filter_map(|a| i64::try_from(a).ok()).collect());
    let steps = steps.unwrap_or_else(|| vec![1; n]);
    if ends.len() != n || axes.len() != n || steps.len() != n || n > rank {
        return Err(ctx.bad_node(format!(
            "starts ({n}), ends ({}), axes ({}) and steps ({}) must have the same length, \
             at most the rank {rank}",
            ends.len(),
            axes.len(),
            steps.len()
        )));
    }
    Ok([starts, ends, axes, steps])
}

/// `Slice` with constant bounds (negative indices and steps allowed, bounds clamped as in ONNX).
pub(crate) fn slice<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let x = imp.input(ctx, 0)?;
    let dims = dims_of(imp, &x);
    let rank = dims.len();
    let [starts, ends, axes, steps] = slice_params(imp, ctx, rank)?;
    let mut first = vec![0i64; rank];
    let mut counts = dims.clone();
    let mut step_of = vec![1i64; rank];
    let mut seen = vec![false; rank];
    for (((&s, &e), &a), &st) in starts.iter().zip(&ends).zip(&axes).zip(&steps) {
        let bad_axis = || {
            ctx.bad_node(format!(
                "`axes`: axis {a} is out of range or repeated for {dims:?}"
            ))
        };
        let k = normalize_axis(a, rank).ok_or_else(bad_axis)?;
        match seen.get_mut(k) {
            Some(v) if !*v => *v = true,
            _ => return Err(bad_axis()),
        }
        if st == 0 {
            return Err(ctx.bad_node(format!("`steps`: the step for axis {a} is 0")));
        }
        let dim = dims
            .get(k)
            .and_then(|&d| i64::try_from(d).ok())
            .ok_or_else(bad_axis)?;
        let resolve = |v: i64| if v < 0 { v.saturating_add(dim) } else { v };
        let (s, e) = (resolve(s), resolve(e));
        // Counted in i128: bounds and steps may be near i64::MIN/MAX.
        let (s, e, step) = (i128::from(s), i128::from(e), i128::from(st));
        let d = i128::from(dim);
        let (s, count) = if dim == 0 {
            (0, 0)
        } else if step > 0 {
            let (s, e) = (s.clamp(0, d), e.clamp(0, d));
            (s, if e > s { (e - s + step - 1) / step } else { 0 })
        } else {
            let (s, e) = (s.clamp(0, d - 1), e.clamp(-1, d - 1));
            (s, if s > e { (s - e - step - 1) / -step } else { 0 })
        };
        let s = i64::try_from(s).unwrap_or(0);
        if let (Some(f), Some(c), Some(t)) =
            (first.get_mut(k), counts.get_mut(k), step_of.get_mut(k))
        {
            *f = s;
            *c = usize::try_from(count).unwrap_or(0);
            // A step longer than the axis takes one element: clamping it keeps the
            // index arithmetic small without changing the result.
            *t = st.clamp(-dim.max(1), dim.max(1));
        }
    }
    let src = strides(&dims);
    let mut base = 0i64;
    let mut steps_flat = Vec::with_capacity(rank);
    for ((&f, &t), &s) in first.iter().zip(&step_of).zip(&src) {
        let s = i64::try_from(s).unwrap_or(i64::MAX);
        base += f * s;
        steps_flat.push(t * s);
    }
    let index = strided(base, &counts, &steps_flat)
        .ok_or_else(|| ctx.shape_err(format!("cannot slice {dims:?}")))?;
    emit(imp, ctx, &[x], counts, index)
}

/// `Concat` of activations only, or of constants only.
pub(crate) fn concat<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let n = ctx.proto.input.len();
    if n == 0 {
        return Err(ctx.bad_node("has no inputs"));
    }
    let mut inputs = Vec::with_capacity(n);
    for k in 0..n {
        inputs.push(imp.input(ctx, k)?);
    }
    let all_dims: Vec<Vec<usize>> = inputs.iter().map(|v| dims_of(imp, v)).collect();
    let first = all_dims.first().cloned().unwrap_or_default();
    let axis = ctx
        .attr("axis")
        .map(|_| ctx.attr_int("axis", 0))
        .transpose()?
        .ok_or_else(|| ctx.bad_attr("axis", "is missing"))?;
    let a = normalize_axis(axis, first.len())
        .ok_or_else(|| ctx.bad_attr("axis", format!("{axis} is out of range for {first:?}")))?;
    let mut shape = first.clone();
    let mut total = 0usize;
    for d in &all_dims {
        let same_elsewhere = d.len() == first.len()
            && d.iter()
                .zip(&first)
                .enumerate()
                .all(|(k, (x, y))| k == a || x == y);
        if !same_elsewhere {
            return Err(ctx.shape_err(format!("inputs {all_dims:?} differ outside axis {axis}")));
        }
        total += d.get(a).copied().unwrap_or(0);
    }
    if let Some(s) = shape.get_mut(a) {
        *s = total;
    }
    let outer: usize = first.iter().take(a).product();
    let inner: usize = first.iter().skip(a + 1).product();
    let mut index = Vec::new();
    for o in 0..outer {
        let mut base = 0usize;
        for d in &all_dims {
            let len = d.get(a).copied().unwrap_or(0) * inner;
            let start = base + o * len;
            index.extend(start..start + len);
            base += outer * len;
        }
    }
    emit(imp, ctx, &inputs, shape, index)
}

/// `Expand`: numpy broadcast to a constant shape.
pub(crate) fn expand<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let x = imp.input(ctx, 0)?;
    let spec = int_input(imp, ctx, 1)?;
    let dims = dims_of(imp, &x);
    let target: Vec<usize> = spec
        .iter()
        .map(|&d| usize::try_from(d).ok())
        .collect::<Option<_>>()
        .ok_or_else(|| ctx.shape_err(format!("negative size in target shape {spec:?}")))?;
    let bad = || ctx.shape_err(format!("{dims:?} does not broadcast with {spec:?}"));
    let shape = broadcast_shape(&dims, &target).ok_or_else(bad)?;
    let iota: Vec<usize> = (0..checked_numel(&dims).ok_or_else(bad)?).collect();
    let index = broadcast_to(&iota, &dims, &shape).ok_or_else(bad)?;
    emit(imp, ctx, &[x], shape, index)
}

/// `Shape`: the (static) shape of its input, as an integer constant.
pub(crate) fn shape<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    let x = imp.input(ctx, 0)?;
    let dims = dims_of(imp, &x);
    let rank = i64::try_from(dims.len()).unwrap_or(i64::MAX);
    let clamp = |v: i64| (if v < 0 { v + rank } else { v }).clamp(0, rank);
    let start = clamp(ctx.attr_int("start", 0)?);
    let end = clamp(ctx.attr_int("end", rank)?);
    let values: Vec<i64> = dims
        .iter()
        .map(|&d| i64::try_from(d).unwrap_or(i64::MAX))
        .skip(usize::try_from(start).unwrap_or(0))
        .take(usize::try_from(end - start).unwrap_or(0))
        .collect();
    let c = Const::i64(vec![values.len()], values);
    imp.bind(out, Value::Const(Rc::new(c)));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_maps() {
        assert_eq!(strides(&[2, 3, 4]), vec![12, 4, 1]);
        // [2, 3] -> [3, 2]
        assert_eq!(
            transpose_index(&[2, 3], &[1, 0]),
            Some(vec![0, 3, 1, 4, 2, 5])
        );
        assert_eq!(
            transpose_index(&[1, 2, 2], &[0, 2, 1]),
            Some(vec![0, 2, 1, 3])
        );
        assert_eq!(strided(5, &[3], &[-2]), Some(vec![5, 3, 1]));
        assert_eq!(strided(0, &[2], &[-1]), None);
        let p = axis_to_last(1, 4);
        assert_eq!(p, vec![0, 2, 3, 1]);
        assert_eq!(inverse_perm(&p), vec![0, 3, 1, 2]);
        assert_eq!(permute(&[5, 6, 7, 8], &p), vec![5, 7, 8, 6]);
    }
}
