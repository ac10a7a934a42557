//! Data movement: Transpose, Slice, Gather (constant indices), Concat, Expand and Shape.
//!
//! Each op is first reduced to an index map (`y[i] = concat(inputs)[index[i]]`) computed from
//! shapes alone. On activations the map becomes a `Select` node; on constants it is applied at
//! import time, so shape arithmetic on constants folds away.

use std::rc::Rc;

use crate::onnx::emit::dims_of;
use crate::onnx::emit::emit;
use crate::onnx::emit::int_input;
use crate::onnx::error::ImportError;
use crate::onnx::node::NodeCtx;
use crate::onnx::shape::permute;
use crate::onnx::shape::strided;
use crate::onnx::shape::strides;
use crate::onnx::shape::transpose_index;
use crate::onnx::shape::{broadcast_shape, broadcast_to, checked_numel, normalize_axis};
use crate::onnx::state::{Importer, Value};
use crate::onnx::tensor::Const;

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
