//! Constant tensors: decoding `TensorProto` data (typed fields or little-endian `raw_data`).

use super::error::ImportError;
use super::proto::tensor_proto::{DataLocation, DataType};
use super::proto::TensorProto;
use super::shape::checked_numel;

/// A decoded constant tensor (initializer or `Constant` output).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Const {
    /// Shape; empty for a scalar.
    pub dims: Vec<usize>,
    /// Row-major values.
    pub data: ConstData,
}

/// The values of a constant, by element kind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ConstData {
    /// FLOAT and DOUBLE tensors.
    F32(Vec<f32>),
    /// INT32 and INT64 tensors.
    I64(Vec<i64>),
}

impl Const {
    /// A float constant.
    pub fn f32(dims: Vec<usize>, data: Vec<f32>) -> Self {
        Self {
            dims,
            data: ConstData::F32(data),
        }
    }

    /// An integer constant.
    pub fn i64(dims: Vec<usize>, data: Vec<i64>) -> Self {
        Self {
            dims,
            data: ConstData::I64(data),
        }
    }

    /// Values as floats (integers are converted).
    pub fn to_f32(&self) -> Vec<f32> {
        match &self.data {
            ConstData::F32(v) => v.clone(),
            ConstData::I64(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }

    /// The same values under a new shape (the caller checked the element count).
    pub fn with_dims(&self, dims: Vec<usize>) -> Self {
        Self {
            dims,
            data: self.data.clone(),
        }
    }
}

/// What a masking constant (`-inf`, or at most [`MASK_BELOW`]) becomes: `-2^15`, far below
/// any attention score (a softmax argument this far under its row's maximum has an exact
/// zero weight), and small enough that sums of a few stay far from every bound limit.
pub(crate) const MASK_FILL: f32 = -32768.0;

/// Constants at or below this (`finfo(float32).min` is about `-3.4e38`) mask, like `-inf`.
pub(crate) const MASK_BELOW: f32 = -1e30;

/// Whether `v` is a masking value.
fn masks(v: f32) -> bool {
    v <= MASK_BELOW
}

/// `c` with its masking values replaced by [`MASK_FILL`] (see `mask.rs`), or `None` when it has none.
pub(crate) fn substitute_masks(c: &Const) -> Option<Const> {
    match &c.data {
        ConstData::F32(v) if v.iter().any(|&x| masks(x)) => Some(Const::f32(
            c.dims.clone(),
            v.iter()
                .map(|&x| if masks(x) { MASK_FILL } else { x })
                .collect(),
        )),
        _ => None,
    }
}

/// Decodes a constant tensor; `label` names it in errors when the proto has no name.
pub(crate) fn decode(t: &TensorProto, label: &str) -> Result<Const, ImportError> {
    let tensor = if t.name.is_empty() {
        label.to_string()
    } else {
        t.name.clone()
    };
    let bad = |reason: String| ImportError::BadTensor {
        tensor: tensor.clone(),
        reason,
    };
    if t.data_location == DataLocation::External as i32 {
        return Err(bad("external data files are not supported".into()));
    }
    let mut dims = Vec::with_capacity(t.dims.len());
    for &d in &t.dims {
        let d = usize::try_from(d).map_err(|_| bad(format!("negative dimension {d}")))?;
        dims.push(d);
    }
    let numel = checked_numel(&dims).ok_or_else(|| bad(format!("shape {dims:?} is too large")))?;
    let dtype = DataType::try_from(t.data_type).ok();
    let raw = &t.raw_data;
    let check = |len: usize, what: &str| -> Result<(), ImportError> {
        if len == numel {
            Ok(())
        } else {
            Err(bad(format!(
                "shape {dims:?} needs {numel} values but {what} holds {len}"
            )))
        }
    };
    let data = match dtype {
        Some(DataType::Float) if !raw.is_empty() => {
            check(raw.len() / 4, "raw_data")?;
            ConstData::F32(le_chunks::<4>(raw, &bad)?.map(f32::from_le_bytes).collect())
        }
        Some(DataType::Float) => {
            check(t.float_data.len(), "float_data")?;
            ConstData::F32(t.float_data.clone())
        }
        Some(DataType::Double) if !raw.is_empty() => {
            check(raw.len() / 8, "raw_data")?;
            let v = le_chunks::<8>(raw, &bad)?.map(|b| f64::from_le_bytes(b) as f32);
            ConstData::F32(v.collect())
        }
        Some(DataType::Double) => {
            check(t.double_data.len(), "double_data")?;
            ConstData::F32(t.double_data.iter().map(|&x| x as f32).collect())
        }
        Some(DataType::Int32) if !raw.is_empty() => {
            check(raw.len() / 4, "raw_data")?;
            let v = le_chunks::<4>(raw, &bad)?.map(|b| i64::from(i32::from_le_bytes(b)));
            ConstData::I64(v.collect())
        }
        Some(DataType::Int32) => {
            check(t.int32_data.len(), "int32_data")?;
            ConstData::I64(t.int32_data.iter().map(|&x| i64::from(x)).collect())
        }
        Some(DataType::Int64) if !raw.is_empty() => {
            check(raw.len() / 8, "raw_data")?;
            ConstData::I64(le_chunks::<8>(raw, &bad)?.map(i64::from_le_bytes).collect())
        }
        Some(DataType::Int64) => {
            check(t.int64_data.len(), "int64_data")?;
            ConstData::I64(t.int64_data.clone())
        }
        Some(
            ty @ (DataType::Int8
            | DataType::Uint8
            | DataType::Int16
            | DataType::Uint16
            | DataType::Bool),
        ) => {
            // Small integers: one little-endian value of 1 or 2 bytes each in raw_data, or one
            // per int32_data entry.
            let v: Vec<i64> = if raw.is_empty() {
                check(t.int32_data.len(), "int32_data")?;
                t.int32_data.iter().map(|&x| i64::from(x)).collect()
            } else if matches!(ty, DataType::Int16 | DataType::Uint16) {
                check(raw.len() / 2, "raw_data")?;
                let signed = ty == DataType::Int16;
                le_chunks::<2>(raw, &bad)?
                    .map(|b| {
                        if signed {
                            i64::from(i16::from_le_bytes(b))
                        } else {
                            i64::from(u16::from_le_bytes(b))
                        }
                    })
                    .collect()
            } else {
                check(raw.len(), "raw_data")?;
                let signed = ty == DataType::Int8;
                raw.iter()
                    .map(|&b| {
                        if signed {
                            i64::from(b as i8)
                        } else {
                            i64::from(b)
                        }
                    })
                    .collect()
            };
            ConstData::I64(if ty == DataType::Bool {
                v.into_iter().map(|x| i64::from(x != 0)).collect()
            } else {
                v
            })
        }
        Some(DataType::Uint32) if !raw.is_empty() => {
            check(raw.len() / 4, "raw_data")?;
            let v = le_chunks::<4>(raw, &bad)?.map(|b| i64::from(u32::from_le_bytes(b)));
            ConstData::I64(v.collect())
        }
        Some(DataType::Uint32) => {
            check(t.uint64_data.len(), "uint64_data")?;
            ConstData::I64(t.uint64_data.iter().map(|&x| x as i64).collect())
        }
        Some(DataType::Bfloat16) => {
            let bits: Vec<u16> = if raw.is_empty() {
                check(t.int32_data.len(), "int32_data")?;
                t.int32_data.iter().map(|&x| x as u16).collect()
            } else {
                check(raw.len() / 2, "raw_data")?;
                le_chunks::<2>(raw, &bad)?.map(u16::from_le_bytes).collect()
            };
            ConstData::F32(
                bits.into_iter()
                    .map(|b| f32::from_bits(u32::from(b) << 16))
                    .collect(),
            )
        }
        Some(DataType::Float16) => {
            let bits: Vec<u16> = if raw.is_empty() {
                check(t.int32_data.len(), "int32_data")?;
                t.int32_data.iter().map(|&x| x as u16).collect()
            } else {
                check(raw.len() / 2, "raw_data")?;
                le_chunks::<2>(raw, &bad)?.map(u16::from_le_bytes).collect()
            };
            ConstData::F32(bits.into_iter().map(f16_to_f32).collect())
        }
        Some(other) => {
            return Err(bad(format!(
                "data type {} is not supported",
                other.as_str_name()
            )))
        }
        None => return Err(bad(format!("unknown data type {}", t.data_type))),
    };
    Ok(Const { dims, data })
}

/// Splits `raw` into `N`-byte little-endian chunks; its length must be a multiple of `N`.
fn le_chunks<'r, const N: usize>(
    raw: &'r [u8],
    bad: &dyn Fn(String) -> ImportError,
) -> Result<impl Iterator<Item = [u8; N]> + 'r, ImportError> {
    if raw.len() % N != 0 {
        return Err(bad(format!(
            "raw_data length {} is not a multiple of {N}",
            raw.len()
        )));
    }
    Ok(raw.chunks_exact(N).map(|c| {
        let mut b = [0u8; N];
        b.copy_from_slice(c);
        b
    }))
}

/// An IEEE half-precision value widened to `f32` (exact).
pub(crate) fn f16_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let frac = f32::from(h & 0x3ff);
    match exp {
        0 => sign * frac * (-24f32).exp2(),
        31 if frac == 0.0 => sign * f32::INFINITY,
        31 => f32::NAN,
        e => sign * (1.0 + frac / 1024.0) * ((e - 15) as f32).exp2(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn half_floats_decode_exactly() {
        assert_eq!(super::f16_to_f32(0x3c00), 1.0);
        assert_eq!(super::f16_to_f32(0x0001), (-24f32).exp2());
        assert_eq!(super::f16_to_f32(0xfc00), f32::NEG_INFINITY);
    }
}
