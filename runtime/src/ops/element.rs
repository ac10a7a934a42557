//! Kernels of the exact elementwise family ([`ElementOp`]): one arm per op, on I64 tensors,
//! built from candle ops that exist for I64 on every device.

use candle_core::Tensor;
use zkinfer_ir::ElementOp;

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
