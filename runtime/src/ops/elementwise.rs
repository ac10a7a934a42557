//! Elementwise integer ops on I64 tensors: `Mul`, `MulConst`, `Max`, `Div`.

use candle_core::{DType, Device, Tensor};
use zkinfer_ir::EvalError;

use super::{check_i64, malformed, Operand, RuntimeError};
use crate::error::AtNode;

/// `y[i] = a[i] * b[i]` (flat order); [`RuntimeError::Overflow`] unless the bounds keep it in i64.
pub(crate) fn mul(name: &str, a: &Operand<'_>, b: &Operand<'_>) -> Result<Tensor, RuntimeError> {
    let n = a.tensor.elem_count();
    if b.tensor.elem_count() != n {
        return Err(malformed(
            name,
            format!("operands have {n} and {} values", b.tensor.elem_count()),
        ));
    }
    check_i64(name, u128::from(a.desc.bound) * u128::from(b.desc.bound))?;
    let a = a.tensor.flatten_all().at(name)?;
    b.tensor.flatten_all().and_then(|b| a * b).at(name)
}

/// `y[i] = factor[i] * x[i]` (flat order); [`RuntimeError::Overflow`] unless the bounds
/// keep it in i64.
pub(crate) fn mul_const(
    name: &str,
    x: &Operand<'_>,
    factor: &[i64],
    device: &Device,
) -> Result<Tensor, RuntimeError> {
    let n = x.tensor.elem_count();
    if factor.len() != n {
        return Err(malformed(
            name,
            format!("{} factors for {n} values", factor.len()),
        ));
    }
    let f_max = factor.iter().map(|f| u128::from(f.unsigned_abs())).max();
    check_i64(name, u128::from(x.desc.bound) * f_max.unwrap_or(0))?;
    let f = Tensor::from_slice(factor, n, device).at(name)?;
    x.tensor.flatten_all().and_then(|x| x * f).at(name)
}

/// `y[g] = max(x[g * group .. (g + 1) * group])`: a max over the last axis of `[n / group, group]`.
pub(crate) fn max(
    name: &str,
    x: &Operand<'_>,
    group: usize,
    device: &Device,
) -> Result<Tensor, RuntimeError> {
    let n = x.tensor.elem_count();
    if group == 0 || n % group != 0 {
        return Err(malformed(
            name,
            format!("{n} values do not split into groups of {group}"),
        ));
    }
    if n == 0 {
        // Candle refuses to reduce an empty tensor.
        return Tensor::zeros(0, DType::I64, device).at(name);
    }
    x.tensor
        .reshape((n / group, group))
        .and_then(|t| t.max(1))
        .at(name)
}

/// `y[i] = floor((a[i] * 2^(shift+1) + b[i]) / (2 * b[i]))`, exact; every `b[i]` must be at
/// least 1 (else the reference's [`EvalError::Divisor`], as [`RuntimeError::Input`]).
pub(crate) fn div(
    name: &str,
    a: &Operand<'_>,
    b: &Operand<'_>,
    shift: u32,
    device: &Device,
) -> Result<Tensor, RuntimeError> {
    let n = a.tensor.elem_count();
    if b.tensor.elem_count() != n {
        return Err(malformed(
            name,
            format!("operands have {n} and {} values", b.tensor.elem_count()),
        ));
    }
    if shift > 62 {
        return Err(malformed(name, format!("shift {shift} is over 62")));
    }
    if n == 0 {
        return Tensor::zeros(0, DType::I64, device).at(name);
    }
    let bound_b = u128::from(b.desc.bound);
    // |a * 2^(shift+1) + b| and 2b, the numerator and the denominator.
    let worst_case = (u128::from(a.desc.bound) << (shift + 1))
        .saturating_add(bound_b)
        .max(2 * bound_b);
    check_i64(name, worst_case)?;
    let a = a.tensor.flatten_all().at(name)?;
    let b = b.tensor.flatten_all().at(name)?;
    check_divisors(name, &b)?;
    div_i64(&a, &b, shift, device).at(name)
}

/// [`EvalError::Divisor`] at the first element of `b` below 1, if any.
fn check_divisors(name: &str, b: &Tensor) -> Result<(), RuntimeError> {
    let min = b.min_all().and_then(|m| m.to_scalar::<i64>()).at(name)?;
    if min >= 1 {
        return Ok(());
    }
    let values = b.to_vec1::<i64>().at(name)?;
    let (index, value) = values
        .into_iter()
        .enumerate()
        .find(|&(_, v)| v < 1)
        .unwrap_or((0, min));
    Err(RuntimeError::Input(EvalError::Divisor {
        node: name.to_string(),
        index,
        value,
    }))
}

/// The division for flat I64 tensors with every `b >= 1`, `shift <= 62` and
/// `|a| * 2^(shift+1) + |b|` within i64. Candle's i64 division truncates toward zero,
/// so the quotient is corrected to a floor when the remainder is negative.
pub(crate) fn div_i64(
    a: &Tensor,
    b: &Tensor,
    shift: u32,
    device: &Device,
) -> candle_core::Result<Tensor> {
    let two = Tensor::new(2i64, device)?;
    // 2^(shift+1) may be 2^63, so multiply in two steps; neither can overflow.
    let scaled = a
        .broadcast_mul(&Tensor::new(1i64 << shift.min(62), device)?)?
        .broadcast_mul(&two)?;
    let num = (scaled + b)?;
    let den = b.broadcast_mul(&two)?;
    let q = (&num / &den)?;
    let r = (num - (&q * &den)?)?; // in (-den, den)
    q - r.lt(0i64)?.to_dtype(DType::I64)?
}
