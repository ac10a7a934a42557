//! Elementwise helpers shared by several families: clamps built from `Relu`, a scalar shift,
//! table functions of one input, and folding an affine map into the `Linear`/`Conv` before it.

use crate::graph::{Op, TensorId, UnaryFn};
use crate::onnx::error::ImportError;
use crate::onnx::node::NodeCtx;
use crate::onnx::state::{Importer, Value};
use crate::onnx::tensor::Const;

use std::rc::Rc;

/// `t + c` for a scalar `c`.
pub(crate) fn add_scalar<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    label: &str,
    t: TensorId,
    c: f32,
) -> Result<TensorId, ImportError> {
    let n = imp.shape(t).iter().product();
    super::push_elementwise(
        imp,
        ctx,
        label,
        Op::AddConst {
            constant: vec![c; n],
        },
        vec![t],
    )
}

/// `max(t, lo)` (`= lo + relu(t - lo)`), then `min(.., hi)` (`= m - relu(m - hi)`); either
/// bound may be absent. The last node takes the ONNX node's name (`label` prefixes the others).
pub(crate) fn clamp<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    label: &str,
    t: TensorId,
    lo: Option<f32>,
    hi: Option<f32>,
) -> Result<TensorId, ImportError> {
    let last = |is_last: bool, l: &str| {
        if is_last {
            String::new()
        } else {
            format!("{label}{l}")
        }
    };
    let mut m = t;
    if let Some(lo) = lo {
        m = if lo == 0.0 {
            super::push_elementwise(imp, ctx, &last(hi.is_none(), "max"), Op::Relu, vec![m])?
        } else {
            let d = add_scalar(imp, ctx, &format!("{label}max/sub"), m, -lo)?;
            let r =
                super::push_elementwise(imp, ctx, &format!("{label}max/relu"), Op::Relu, vec![d])?;
            add_scalar(imp, ctx, &last(hi.is_none(), "max"), r, lo)?
        };
    }
    if let Some(hi) = hi {
        let d = add_scalar(imp, ctx, &format!("{label}min/sub"), m, -hi)?;
        let r = super::push_elementwise(imp, ctx, &format!("{label}min/relu"), Op::Relu, vec![d])?;
        m = super::push_elementwise(imp, ctx, "", Op::Sub, vec![m, r])?;
    }
    Ok(m)
}

/// Folds `y = t * scale + shift` (both one value per element of `t`; no scale means 1) into the
/// `Linear` or `Conv` producing `t`, when nothing else reads `t` and the map is constant per
/// output channel. Returns whether it did.
pub(crate) fn fold_affine(
    imp: &mut Importer<'_>,
    t: TensorId,
    scale: Option<&[f32]>,
    shift: &[f32],
) -> bool {
    if imp.uses(t) != 1 {
        return false;
    }
    let Some(node) = imp.node_mut(t) else {
        return false;
    };
    if shift.len() != node.numel() || scale.is_some_and(|s| s.len() != node.numel()) {
        return false;
    }
    let (weight, bias, channels, per_row, channel_of): (_, _, _, _, Box<dyn Fn(usize) -> usize>) =
        match &mut node.op {
            Op::Linear {
                weight,
                bias,
                n_in,
                n_out,
            } => {
                let n = (*n_out).max(1);
                (weight, bias, *n_out, *n_in, Box::new(move |p| p % n))
            }
            Op::Conv { weight, bias, geom } => {
                let plane = (geom.out_h() * geom.out_w()).max(1);
                let per = geom.weight_len() / geom.out_channels.max(1);
                (
                    weight,
                    bias,
                    geom.out_channels,
                    per,
                    Box::new(move |p| p / plane),
                )
            }
            _ => return false,
        };
    let Some(add) = per_channel(shift, channels, &channel_of) else {
        return false;
    };
    let mul = match scale {
        None => None,
        Some(s) => match per_channel(s, channels, &channel_of) {
            None => return false,
            some => some,
        },
    };
    if bias.len() != channels || weight.len() != channels * per_row {
        return false;
    }
    if let Some(mul) = &mul {
        for (row, &m) in weight.chunks_mut(per_row.max(1)).zip(mul) {
            row.iter_mut().for_each(|w| *w *= m);
        }
        bias.iter_mut().zip(mul).for_each(|(b, &m)| *b *= m);
    }
    bias.iter_mut().zip(&add).for_each(|(b, a)| *b += a);
    true
}

/// Table function `func` of input 0 (folded on constants; `Reciprocal(Sqrt)` fuses).
pub(crate) fn apply_unary<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    func: UnaryFn,
) -> Result<(), ImportError> {
    let out = ctx.output_name()?;
    match imp.input(ctx, 0)? {
        Value::Const(c) => {
            let data = c
                .to_f32()
                .into_iter()
                .map(|x| func.eval(f64::from(x)) as f32)
                .collect();
            imp.bind(out, Value::Const(Rc::new(Const::f32(c.dims.clone(), data))));
        }
        Value::Tensor(t) => {
            let fusable = func == UnaryFn::Reciprocal && imp.uses(t) == 1;
            if let Some(node) = imp.node_mut(t).filter(|_| fusable) {
                if node.op
                    == (Op::Unary {
                        func: UnaryFn::Sqrt,
                    })
                {
                    node.op = Op::Unary {
                        func: UnaryFn::Rsqrt,
                    };
                    node.name = ctx.name.clone();
                    imp.alias(out, t);
                    return Ok(());
                }
            }
            let shape = imp.shape(t).to_vec();
            let id = imp.push(ctx, ctx.name.clone(), Op::Unary { func }, vec![t], shape)?;
            imp.bind(out, Value::Tensor(id));
        }
    }
    Ok(())
}

/// The per-channel values of `full` (one value per element), when it is constant within each
/// channel; `channel_of` maps a flat position to its channel.
fn per_channel(
    full: &[f32],
    channels: usize,
    channel_of: impl Fn(usize) -> usize,
) -> Option<Vec<f32>> {
    let mut out: Vec<Option<f32>> = vec![None; channels];
    for (p, &v) in full.iter().enumerate() {
        match out.get_mut(channel_of(p))? {
            slot @ None => *slot = Some(v),
            Some(prev) if *prev == v => {}
            Some(_) => return None,
        }
    }
    out.into_iter().map(|v| v.or(Some(0.0))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_channel_values() {
        assert_eq!(
            per_channel(&[1., 2., 1., 2.], 2, |p| p % 2),
            Some(vec![1., 2.])
        );
        assert_eq!(per_channel(&[1., 2., 3., 2.], 2, |p| p % 2), None);
        assert_eq!(
            per_channel(&[5., 5., 6., 6.], 2, |p| p / 2),
            Some(vec![5., 6.])
        );
    }
}
