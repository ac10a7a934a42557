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
