//! `Split`: one index map (copy constraints only) per output.

use crate::onnx::emit::{dims_of, emit_as, int_input};
use crate::onnx::error::ImportError;
use crate::onnx::node::NodeCtx;
use crate::onnx::shape::normalize_axis;
use crate::onnx::state::Importer;

/// `Split` along `axis` into the sizes given by the `split` input (opset 13+) or attribute
/// (earlier opsets), else into as many equal parts as the node has outputs (`num_outputs` at
/// opset 18), the last one smaller when the axis does not divide evenly.
pub(crate) fn split<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let x = imp.input(ctx, 0)?;
    let dims = dims_of(imp, &x);
    let axis = ctx.attr_int("axis", 0)?;
    let a = normalize_axis(axis, dims.len())
        .ok_or_else(|| ctx.bad_attr("axis", format!("{axis} is out of range for {dims:?}")))?;
    let len = dims.get(a).copied().unwrap_or(1);
    let outs: Vec<&'g str> = ctx.proto.output.iter().map(String::as_str).collect();
    let sizes = sizes(imp, ctx, len, outs.len())?;
    let outer: usize = dims.iter().take(a).product();
    let inner: usize = dims.iter().skip(a + 1).product();
    let mut offset = 0;
    for (k, (&out, &size)) in outs.iter().zip(&sizes).enumerate() {
        let from = offset;
        offset += size;
        if out.is_empty() {
            continue;
        }
        let index = (0..outer)
            .flat_map(|o| {
                (from..from + size)
                    .flat_map(move |j| (0..inner).map(move |i| (o * len + j) * inner + i))
            })
            .collect();
        let mut shape = dims.clone();
        if let Some(d) = shape.get_mut(a) {
            *d = size;
        }
        let node = format!("{}/{k}", ctx.name);
        emit_as(imp, ctx, std::slice::from_ref(&x), shape, index, out, node)?;
    }
    Ok(())
}

/// The part sizes along an axis of `len`, checked against the `outputs` count.
fn sizes<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    len: usize,
    outputs: usize,
) -> Result<Vec<usize>, ImportError> {
    let given = if ctx.input_name(1).is_some_and(|n| !n.is_empty()) {
        Some(int_input(imp, ctx, 1)?)
    } else {
        ctx.attr_ints("split")?
    };
    let sizes = match given {
        Some(v) => v
            .iter()
            .map(|&s| usize::try_from(s))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| ctx.bad_node(format!("split sizes {v:?} must not be negative")))?,
        None => {
            let parts = usize::try_from(ctx.attr_int("num_outputs", outputs as i64)?)
                .ok()
                .filter(|&p| p > 0 && p == outputs)
                .ok_or_else(|| {
                    ctx.bad_attr("num_outputs", format!("must equal the {outputs} outputs"))
                })?;
            let chunk = len.div_ceil(parts);
            let mut v = vec![chunk; parts];
            if let Some(last) = v.last_mut() {
                *last = len.saturating_sub(chunk * (parts - 1));
            }
            v
        }
    };
    if sizes.len() != outputs || sizes.iter().sum::<usize>() != len {
        return Err(ctx.shape_err(format!(
            "split sizes {sizes:?} must be one per output ({outputs}) and add up to the axis length {len}"
        )));
    }
    Ok(sizes)
}
