//! Attention masks as PyTorch and Hugging Face write them: `masked_fill(mask, -inf)`,
//! `Where(mask, x, -inf)`, and additive masks of `-inf` or `finfo(float32).min`, before a
//! `Softmax` (or a max).
//!
//! Such a constant has no fixed-point value, so it becomes `tensor::MASK_FILL` (a finite value far
//! below any attention score) where it is read, and the names computed from it are followed
//! node by node: through `Where` branches, sums, scalings and data movement to a `Softmax`,
//! `ReduceMax` or `ArgMax`, where a masked position's `exp(x - max)` lies past the exp
//! table's saturation point, so its weight is exactly 0 (the clamp and the table are in the
//! circuit). A masked value read anywhere else, or output, is an import error naming the
//! node: there its value would matter, and it would be wrong.

use super::error::ImportError;
use super::node::NodeCtx;
use super::state::{Importer, Value};
use super::tensor::substitute_masks;
use std::rc::Rc;

/// Ops that end a mask: a masked position takes no part in their result.
const ABSORBING: &[&str] = &[
    "Softmax",
    "LogSoftmax",
    "ReduceMax",
    "ArgMax",
    "ReduceLogSumExp",
];

/// Whether input `k` of `op` may carry a mask into the op's outputs (the mask stays a large
/// negative value there).
fn carries(op: &str, k: usize) -> bool {
    match op {
        "Where" => k == 1 || k == 2,
        "Add" | "Mul" | "Max" | "Min" | "Concat" | "Sum" => true,
        "Sub" | "Div" => k == 0,
        "Reshape" | "Flatten" | "Squeeze" | "Unsqueeze" | "Expand" | "Transpose" | "Slice"
        | "Gather" | "Identity" | "Tile" | "Cast" | "Split" | "Trilu" => k == 0,
        _ => false,
    }
}

/// After `ctx`'s node is imported: its constant outputs lose their masking values (the
/// names stay marked), and masked inputs flow on, end, or are refused.
pub(crate) fn after_node<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let op = ctx.op();
    let mut origin = None;
    for (k, name) in ctx.proto.input.iter().enumerate() {
        let Some(from) = imp.masks.get(name.as_str()).cloned() else {
            continue;
        };
        if ABSORBING.contains(&op) && k == 0 {
            continue;
        }
        if !carries(op, k) {
            return Err(ctx.unsupported(format!(
                "input #{k} `{name}` carries a -inf (or finfo.min) mask from `{from}`; a mask \
                 may only reach a Softmax or a max (through Where, Add, scaling or data \
                 movement), since elsewhere its value would matter"
            )));
        }
        origin = Some(from);
    }
    for name in ctx.proto.output.iter().filter(|n| !n.is_empty()) {
        let name = name.as_str();
        let substituted = match imp.values.get(name) {
            Some(Value::Const(c)) => substitute_masks(c),
            _ => None,
        };
        if let Some(c) = substituted {
            imp.values.insert(name, Value::Const(Rc::new(c)));
            imp.masks
                .insert(name, origin.clone().unwrap_or_else(|| ctx.name.clone()));
        } else if let Some(from) = &origin {
            imp.masks.insert(name, from.clone());
        }
    }
    Ok(())
}

/// Refuses a graph output that carries a mask.
pub(crate) fn check_output(imp: &Importer<'_>, name: &str) -> Result<(), ImportError> {
    match imp.masks.get(name) {
        Some(from) => Err(ImportError::BadOutput {
            name: name.to_string(),
            reason: format!(
                "it carries a -inf (or finfo.min) mask from `{from}`, which has no fixed-point value"
            ),
        }),
        None => Ok(()),
    }
}
