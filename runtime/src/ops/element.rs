//! Kernels of the exact elementwise family ([`ElementOp`]): one arm per op, on I64 tensors,
//! built from candle ops that exist for I64 on every device.

use candle_core::Tensor;
use zkinfer_ir::{ElementOp, EvalError};

use super::{Operand, RuntimeError};
use crate::error::AtNode;

/// `y[i] = op(x[i])`, bit-identical to [`ElementOp::int`].
pub(crate) fn apply(name: &str, x: &Operand<'_>, op: ElementOp) -> Result<Tensor, RuntimeError> {
    let t = x.tensor;
    match op {
        // `max(x, 0 - x)`: exact, as the bounds (below 2^62) keep `-x` in i64; I64 `abs`
        // and `neg` kernels are not on every device, `sub` and `maximum` are.
        ElementOp::Abs => t.zeros_like().and_then(|z| t.maximum(&(z - t)?)).at(name),
    }
}

/// `y = x` when every element lies in `[lo, hi]` (a [`zkinfer_ir::QOp::Check`]); otherwise
/// the reference's [`EvalError::CheckFailed`] at the first element outside, as
/// [`RuntimeError::Input`]: no proof exists for this input.
pub(crate) fn check(
    name: &str,
    x: &Operand<'_>,
    lo: i64,
    hi: i64,
    scale: u32,
) -> Result<Tensor, RuntimeError> {
    let values = x
        .tensor
        .flatten_all()
        .and_then(|t| t.to_vec1::<i64>())
        .at(name)?;
    if let Err(zkinfer_ir::semantics::OpError::Check { index, value, .. }) =
        zkinfer_ir::semantics::check_range(&values, lo, hi)
    {
        return Err(RuntimeError::Input(EvalError::CheckFailed {
            node: name.to_string(),
            index,
            value,
            lo,
            hi,
            scale,
        }));
    }
    Ok(x.tensor.clone())
}
