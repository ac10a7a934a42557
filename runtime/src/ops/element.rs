//! Kernels of the exact elementwise family ([`ElementOp`]): one arm per op, on I64 tensors,
//! built from candle ops that exist for I64 on every device.

use candle_core::Tensor;
use zkinfer_ir::ElementOp;

use super::{Operand, RuntimeError};

/// `y[i] = op(x[i])`, bit-identical to [`ElementOp::int`].
pub(crate) fn apply(_name: &str, _x: &Operand<'_>, op: ElementOp) -> Result<Tensor, RuntimeError> {
    match op {}
}
