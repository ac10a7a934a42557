//! Candle implementations of the quantized ops, bit-identical to `zkinfer_ir::semantics`.
//!
//! Every tensor between nodes is an I64 tensor. Floats are used only where the static
//! bounds prove every intermediate is an integer below 2^53, hence exact.

mod conv;
mod element;
mod elementwise;
mod matmul;
mod table;

use candle_core::{DType, Device, Tensor};
use zkinfer_ir::{QNode, QOp, QTensor, Table};

use crate::error::{AtNode, RuntimeError};

#[cfg(test)]
pub(crate) use conv::{conv_f64, conv_i64, ConvDims};
#[cfg(test)]
pub(crate) use elementwise::div_i64;
#[cfg(test)]
pub(crate) use matmul::{matmul_f64, matmul_i64};

/// Integers (and partial sums) of magnitude below this are exact in f64.
pub(crate) const F64_EXACT: u128 = 1 << 53;

/// Largest product tensor (elements) built at once by the exact i64 paths.
const I64_CHUNK: usize = 1 << 22;

/// One operand: its device tensor (I64) and its static description.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Operand<'a> {
    /// The values, as an I64 tensor.
    pub tensor: &'a Tensor,
    /// Shape, scale and bound of the tensor.
    pub desc: &'a QTensor,
}

/// How a linear layer (or a convolution, or a matmul) is executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinearPath {
    /// F64 matmul: every partial sum is an integer below 2^53.
    F64,
    /// Exact i64 multiply and sum: every partial sum fits in i64.
    I64,
}

pub(crate) fn malformed(node: &str, detail: impl Into<String>) -> RuntimeError {
    RuntimeError::Malformed {
        node: node.to_string(),
        detail: detail.into(),
    }
}

/// Runs `node` on its operands and returns its output, shaped as declared; `tables` are
/// the graph's lookup tables.
pub(crate) fn apply(
    node: &QNode,
    operands: &[Operand<'_>],
    tables: &[Table],
    device: &Device,
) -> Result<Tensor, RuntimeError> {
    let name = node.name.as_str();
    let first = operands
        .first()
        .ok_or_else(|| malformed(name, "it has no operand"))?;
    let out = match &node.op {
        QOp::Linear {
            weight,
            bias,
            n_in,
            n_out,
        } => linear(name, first, weight, bias, *n_in, *n_out, device)?,
        QOp::Rescale { shift } => {
            rescale(first.tensor, first.desc.bound, *shift, device).at(name)?
        }
        // `maximum`, not `relu`: the I64 relu kernel is missing on CUDA.
        QOp::Relu => first.tensor.maximum(0i64).at(name)?,
        QOp::Add {
            coef_a,
            coef_b,
            constant,
        } => add(
            name,
            first,
            operands.get(1),
            (*coef_a, *coef_b),
            constant,
            device,
        )?,
        QOp::Reshape => first.tensor.clone(),
        QOp::Conv { weight, bias, geom } => conv::conv(name, first, weight, bias, geom, device)?,
        QOp::MatMul { batch, m, k, n } => {
            let b = second(name, operands)?;
            matmul::matmul(name, first, b, (*batch, *m, *k, *n), device)?
        }
        QOp::Mul => elementwise::mul(name, first, second(name, operands)?)?,
        QOp::MulConst { factor } => elementwise::mul_const(name, first, factor, device)?,
        QOp::Max { group } => elementwise::max(name, first, *group, device)?,
        QOp::Div { shift } => {
            elementwise::div(name, first, second(name, operands)?, *shift, device)?
        }
        QOp::Lookup { table } => table::lookup(name, first, tables, *table, device)?,
        QOp::Select { index } => table::select(name, operands, index, device)?,
        QOp::Elementwise { op } => element::apply(name, first, *op)?,
        QOp::Check { lo, hi } => element::check(name, first, *lo, *hi, node.out.scale)?,
    };
    let declared = node.out.numel();
    if out.elem_count() != declared {
        return Err(malformed(
            name,
            format!(
                "it produces {} values, its output shape {:?} holds {declared}",
                out.elem_count(),
                node.out.shape
            ),
        ));
    }
    out.reshape(node.out.shape.as_slice()).at(name)
}

/// The second operand of a binary op.
fn second<'a, 'b>(
    name: &str,
    operands: &'b [Operand<'a>],
) -> Result<&'b Operand<'a>, RuntimeError> {
    operands
        .get(1)
        .ok_or_else(|| malformed(name, "it needs a second operand"))
}

/// An index tensor holding `indices`, every one below `len`: U32 when `len` allows, else I64.
pub(crate) fn index_tensor(
    indices: &[usize],
    len: usize,
    device: &Device,
) -> candle_core::Result<Tensor> {
    if u32::try_from(len.saturating_sub(1)).is_ok() {
        let ids = indices
            .iter()
            .map(|&i| u32::try_from(i))
            .collect::<Result<Vec<_>, _>>()
            .map_err(candle_core::Error::wrap)?;
        Tensor::from_vec(ids, indices.len(), device)
    } else {
        let ids = indices
            .iter()
            .map(|&i| i64::try_from(i))
            .collect::<Result<Vec<_>, _>>()
            .map_err(candle_core::Error::wrap)?;
        Tensor::from_vec(ids, indices.len(), device)
    }
}

/// Worst case of `|acc|` over all output rows: `max_j Σ_i |w_ji| * bound + |b_j|`.
pub(crate) fn linear_worst_case(weight: &[i64], bias: &[i64], n_in: usize, bound: u64) -> u128 {
    if n_in == 0 {
        return bias
            .iter()
            .map(|b| u128::from(b.unsigned_abs()))
            .max()
            .unwrap_or(0);
    }
    weight
        .chunks_exact(n_in)
        .zip(bias)
        .map(|(row, b)| {
            row.iter().fold(u128::from(b.unsigned_abs()), |acc, w| {
                acc.saturating_add(u128::from(w.unsigned_abs()) * u128::from(bound))
            })
        })
        .max()
        .unwrap_or(0)
}

/// Chooses the execution path of a linear layer from its static worst case.
pub(crate) fn linear_path(weight: &[i64], worst_case: u128) -> Option<LinearPath> {
    let weights_exact = weight
        .iter()
        .all(|w| u128::from(w.unsigned_abs()) < F64_EXACT);
    exact_path(worst_case, weights_exact)
}

/// F64 when the worst partial sum is below 2^53 and every operand converts to f64
/// exactly, else I64 when it fits in i64, else none.
pub(crate) fn exact_path(worst_case: u128, operands_exact: bool) -> Option<LinearPath> {
    if worst_case < F64_EXACT && operands_exact {
        Some(LinearPath::F64)
    } else if worst_case <= i64::MAX as u128 {
        Some(LinearPath::I64)
    } else {
        None
    }
}

/// [`RuntimeError::Overflow`] at `name` unless `worst_case` fits in i64.
pub(crate) fn check_i64(name: &str, worst_case: u128) -> Result<(), RuntimeError> {
    if worst_case > i64::MAX as u128 {
        return Err(RuntimeError::Overflow {
            node: name.to_string(),
            worst_case,
        });
    }
    Ok(())
}

fn linear(
    name: &str,
    x: &Operand<'_>,
    weight: &[i64],
    bias: &[i64],
    n_in: usize,
    n_out: usize,
    device: &Device,
) -> Result<Tensor, RuntimeError> {
    let numel = x.tensor.elem_count();
    if n_in == 0 || numel % n_in != 0 {
        return Err(malformed(
            name,
            format!("{numel} input values do not split into rows of n_in = {n_in}"),
        ));
    }
    if n_in.checked_mul(n_out) != Some(weight.len()) || bias.len() != n_out {
        return Err(malformed(
            name,
            format!(
                "{} weights and {} biases do not match n_in = {n_in}, n_out = {n_out}",
                weight.len(),
                bias.len()
            ),
        ));
    }
    let rows = numel / n_in;
    if rows == 0 || n_out == 0 {
        return Tensor::zeros((rows, n_out), DType::I64, device).at(name);
    }
    let worst_case = linear_worst_case(weight, bias, n_in, x.desc.bound);
    let path = linear_path(weight, worst_case).ok_or_else(|| RuntimeError::Overflow {
        node: name.to_string(),
        worst_case,
    })?;
    let x = x.tensor.reshape((rows, n_in)).at(name)?;
    match path {
        LinearPath::F64 => linear_f64(&x, weight, bias, n_in, n_out, device).at(name),
        LinearPath::I64 => linear_i64(&x, weight, bias, (n_in, n_out), I64_CHUNK, device).at(name),
    }
}

/// `x [rows, n_in] · W^T + b` as an F64 matmul; exact only under [`LinearPath::F64`].
pub(crate) fn linear_f64(
    x: &Tensor,
    weight: &[i64],
    bias: &[i64],
    n_in: usize,
    n_out: usize,
    device: &Device,
) -> candle_core::Result<Tensor> {
    // W^T, row-major [n_in, n_out]: element (i, j) is weight[j * n_in + i].
    let wt: Vec<f64> = (0..n_in)
        .flat_map(|i| weight.iter().skip(i).step_by(n_in).map(|&w| w as f64))
        .collect();
    let wt = Tensor::from_vec(wt, (n_in, n_out), device)?;
    let b: Vec<f64> = bias.iter().map(|&b| b as f64).collect();
    let b = Tensor::from_vec(b, n_out, device)?;
    x.to_dtype(DType::F64)?
        .matmul(&wt)?
        .broadcast_add(&b)?
        .to_dtype(DType::I64)
}

/// `x [rows, n_in] · W^T + b` with i64 products and sums. Output columns are done in
/// chunks so that no product tensor exceeds `max_elems` (unless one column does).
pub(crate) fn linear_i64(
    x: &Tensor,
    weight: &[i64],
    bias: &[i64],
    (n_in, n_out): (usize, usize),
    max_elems: usize,
    device: &Device,
) -> candle_core::Result<Tensor> {
    let rows = x.dim(0)?;
    let w = Tensor::from_slice(weight, (n_out, n_in), device)?;
    let b = Tensor::from_slice(bias, n_out, device)?;
    let x = x.unsqueeze(1)?; // [rows, 1, n_in]
    let per_chunk = (max_elems / rows.saturating_mul(n_in).max(1)).max(1);
    let mut parts = Vec::with_capacity(n_out.div_ceil(per_chunk));
    let mut start = 0;
    while start < n_out {
        let len = per_chunk.min(n_out - start);
        let w_chunk = w.narrow(0, start, len)?.unsqueeze(0)?; // [1, len, n_in]
        parts.push(x.broadcast_mul(&w_chunk)?.sum(2)?);
        start += len;
    }
    Tensor::cat(&parts, 1)?.broadcast_add(&b)
}

/// `floor((v + 2^(shift-1)) / 2^shift)` for every element, exactly.
pub(crate) fn rescale(
    x: &Tensor,
    bound: u64,
    shift: u32,
    device: &Device,
) -> candle_core::Result<Tensor> {
    if shift == 0 {
        return Ok(x.clone());
    }
    if shift >= 64 {
        // |v| <= 2^63 <= 2^(shift-1), so 0 <= v + 2^(shift-1) < 2^shift.
        return x.zeros_like();
    }
    if u128::from(bound) + (1u128 << (shift - 1)) < F64_EXACT {
        rescale_f64(x, shift)
    } else if shift == 63 {
        // v + 2^62 lies in [-2^62, 2^63 + 2^62): the quotient is -1, 0 or 1.
        let limit = 1i64 << 62;
        x.ge(limit)?.to_dtype(DType::I64)? - x.lt(-limit)?.to_dtype(DType::I64)?
    } else {
        rescale_i64(x, shift, device)
    }
}

/// F64 rescale: `v * 2^-shift + 1/2` is exact while `|v| + 2^(shift-1) < 2^53`.
pub(crate) fn rescale_f64(x: &Tensor, shift: u32) -> candle_core::Result<Tensor> {
    let scale = 1.0 / (1u64 << shift.min(63)) as f64;
    x.to_dtype(DType::F64)?
        .affine(scale, 0.5)?
        .floor()?
        .to_dtype(DType::I64)
}

/// I64 rescale for `1 <= shift <= 62`. Candle's i64 division truncates toward zero, so
/// the quotient is corrected to a floor; then the remainder decides the rounding.
/// No step can overflow, whatever the values.
pub(crate) fn rescale_i64(x: &Tensor, shift: u32, device: &Device) -> candle_core::Result<Tensor> {
    let d = Tensor::new(1i64 << shift, device)?;
    let half = 1i64 << (shift - 1);
    let q = x.broadcast_div(&d)?;
    let r = (x - q.broadcast_mul(&d)?)?; // in (-d, d)
    let negative = r.lt(0i64)?.to_dtype(DType::I64)?;
    let q = (q - &negative)?; // floor(v / d)
    let r = (r + negative.broadcast_mul(&d)?)?; // in [0, d)
    q + r.ge(half)?.to_dtype(DType::I64)?
}

fn add(
    name: &str,
    a: &Operand<'_>,
    b: Option<&Operand<'_>>,
    (coef_a, coef_b): (i64, i64),
    constant: &[i64],
    device: &Device,
) -> Result<Tensor, RuntimeError> {
    let n = a.tensor.elem_count();
    if let Some(b) = b {
        if b.tensor.elem_count() != n {
            return Err(malformed(
                name,
                format!("operands have {n} and {} values", b.tensor.elem_count()),
            ));
        }
    }
    if !constant.is_empty() && constant.len() != n {
        return Err(malformed(
            name,
            format!("{} constants for {n} values", constant.len()),
        ));
    }
    let term = |coef: i64, bound: u64| u128::from(coef.unsigned_abs()) * u128::from(bound);
    let c_max = constant.iter().map(|c| u128::from(c.unsigned_abs())).max();
    let worst_case = term(coef_a, a.desc.bound)
        .saturating_add(b.map_or(0, |b| term(coef_b, b.desc.bound)))
        .saturating_add(c_max.unwrap_or(0));
    check_i64(name, worst_case)?;
    let scaled = |t: &Tensor, coef: i64| -> candle_core::Result<Tensor> {
        t.flatten_all()?.broadcast_mul(&Tensor::new(coef, device)?)
    };
    let mut y = scaled(a.tensor, coef_a).at(name)?;
    if let Some(b) = b {
        y = scaled(b.tensor, coef_b).and_then(|t| y + t).at(name)?;
    }
    if !constant.is_empty() {
        y = Tensor::from_slice(constant, n, device)
            .and_then(|c| y + c)
            .at(name)?;
    }
    Ok(y)
}
