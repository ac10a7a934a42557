//! `MatMul` of two activations: a batched F64 matmul where the bounds make it exact,
//! else exact i64 products and sums.

use candle_core::{DType, Device, Tensor};

use super::{exact_path, malformed, LinearPath, Operand, RuntimeError, F64_EXACT, I64_CHUNK};
use crate::error::AtNode;

/// `y [batch, m, n] = a [batch, m, k] x b [batch, k, n]`, exact.
pub(crate) fn matmul(
    name: &str,
    a: &Operand<'_>,
    b: &Operand<'_>,
    (batch, m, k, n): (usize, usize, usize, usize),
    device: &Device,
) -> Result<Tensor, RuntimeError> {
    let a_len = batch.checked_mul(m).and_then(|v| v.checked_mul(k));
    let b_len = batch.checked_mul(k).and_then(|v| v.checked_mul(n));
    let (a_numel, b_numel) = (a.tensor.elem_count(), b.tensor.elem_count());
    if a_len != Some(a_numel) || b_len != Some(b_numel) {
        return Err(malformed(
            name,
            format!(
                "operands have {a_numel} and {b_numel} values, \
                 batch = {batch}, m = {m}, k = {k}, n = {n} needs [batch, m, k] and [batch, k, n]"
            ),
        ));
    }
    if a_numel == 0 || b_numel == 0 {
        // No output, or only empty sums (k = 0).
        return Tensor::zeros((batch, m, n), DType::I64, device).at(name);
    }
    let (bound_a, bound_b) = (u128::from(a.desc.bound), u128::from(b.desc.bound));
    // Every partial sum has at most k terms, each at most bound_a * bound_b.
    let worst_case = (bound_a * bound_b).saturating_mul(k as u128);
    let operands_exact = bound_a < F64_EXACT && bound_b < F64_EXACT;
    let path = exact_path(worst_case, operands_exact).ok_or_else(|| RuntimeError::Overflow {
        node: name.to_string(),
        worst_case,
    })?;
    let a = a.tensor.reshape((batch, m, k)).at(name)?;
    let b = b.tensor.reshape((batch, k, n)).at(name)?;
    match path {
        LinearPath::F64 => matmul_f64(&a, &b).at(name),
        LinearPath::I64 => matmul_i64(&a, &b, I64_CHUNK).at(name),
    }
}

/// Batched F64 matmul of I64 tensors `[batch, m, k]` and `[batch, k, n]`, cast back to
/// I64: exact only under [`LinearPath::F64`].
pub(crate) fn matmul_f64(a: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    a.to_dtype(DType::F64)?
        .matmul(&b.to_dtype(DType::F64)?)?
        .to_dtype(DType::I64)
}

/// Batched product of I64 tensors `[batch, m, k]` and `[batch, k, n]` with i64 products
/// and sums. Output columns are done in chunks so that no product tensor exceeds
/// `max_elems` (unless one column does).
pub(crate) fn matmul_i64(a: &Tensor, b: &Tensor, max_elems: usize) -> candle_core::Result<Tensor> {
    let (batch, m, k) = a.dims3()?;
    let n = b.dim(2)?;
    let a = a.unsqueeze(3)?; // [batch, m, k, 1]
    let b = b.unsqueeze(1)?; // [batch, 1, k, n]
    let per_chunk = (max_elems / batch.saturating_mul(m).saturating_mul(k).max(1)).max(1);
    let mut parts = Vec::with_capacity(n.div_ceil(per_chunk));
    let mut start = 0;
    while start < n {
        let len = per_chunk.min(n - start);
        let b_chunk = b.narrow(3, start, len)?; // [batch, 1, k, len]
        parts.push(a.broadcast_mul(&b_chunk)?.sum(2)?); // [batch, m, len]
        start += len;
    }
    Tensor::cat(&parts, 2)
}
