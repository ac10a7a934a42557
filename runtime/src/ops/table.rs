//! Ops that only move values: `Lookup` (a gather from a table) and `Select` (rewiring).

use candle_core::{DType, Device, Tensor};
use zkinfer_ir::{EvalError, Table};

use super::{index_tensor, malformed, Operand, RuntimeError};
use crate::error::AtNode;

/// Largest argument of `t`, as [`Table::hi`] gives it, without overflowing.
fn table_hi(t: &Table) -> i64 {
    match i64::try_from(t.values.len()) {
        Ok(0) => t.lo.saturating_sub(1),
        Ok(len) => t.lo.saturating_add(len - 1),
        Err(_) => i64::MAX,
    }
}

/// `y[i] = table.values[x[i] - lo]`. Every argument is checked against the domain first;
/// the first one outside is the reference's [`EvalError::OutOfDomain`], as
/// [`RuntimeError::Input`].
pub(crate) fn lookup(
    name: &str,
    x: &Operand<'_>,
    tables: &[Table],
    table: usize,
    device: &Device,
) -> Result<Tensor, RuntimeError> {
    let t = tables.get(table).ok_or_else(|| {
        malformed(
            name,
            format!("it reads table {table}, the graph has {}", tables.len()),
        )
    })?;
    let n = x.tensor.elem_count();
    if n == 0 {
        return Tensor::zeros(0, DType::I64, device).at(name);
    }
    let flat = x.tensor.flatten_all().at(name)?;
    let (lo, hi) = (t.lo, table_hi(t));
    let extreme = |m: candle_core::Result<Tensor>| m.and_then(|m| m.to_scalar::<i64>()).at(name);
    let in_domain =
        !t.values.is_empty() && extreme(flat.min_all())? >= lo && extreme(flat.max_all())? <= hi;
    if !in_domain {
        return Err(out_of_domain(name, &flat, t, hi));
    }
    // lo <= x <= hi, so 0 <= x - lo < values.len(): no overflow, every index valid.
    let values = Tensor::from_slice(&t.values, t.values.len(), device).at(name)?;
    Tensor::new(lo, device)
        .and_then(|lo| flat.broadcast_sub(&lo))
        .and_then(|ids| values.index_select(&ids, 0))
        .at(name)
}

/// The reference's error for the first argument of `flat` outside `t`'s domain.
fn out_of_domain(name: &str, flat: &Tensor, t: &Table, hi: i64) -> RuntimeError {
    let first = flat.to_vec1::<i64>().map(|values| {
        values
            .into_iter()
            .enumerate()
            .find(|&(_, v)| t.get(v).is_none())
    });
    match first {
        Ok(Some((index, value))) => RuntimeError::Input(EvalError::OutOfDomain {
            node: name.to_string(),
            index,
            value,
            lo: t.lo,
            hi,
            scale: t.in_scale,
            table: t.name.clone(),
        }),
        Ok(None) => malformed(
            name,
            format!("no argument found outside the {} table's domain", t.name),
        ),
        Err(source) => RuntimeError::Candle {
            node: name.to_string(),
            source,
        },
    }
}

/// `y[i] = concat(inputs)[index[i]]`: the flattened inputs concatenated, then `index_select`.
pub(crate) fn select(
    name: &str,
    operands: &[Operand<'_>],
    index: &[usize],
    device: &Device,
) -> Result<Tensor, RuntimeError> {
    let total = operands
        .iter()
        .try_fold(0usize, |acc, o| acc.checked_add(o.tensor.elem_count()))
        .ok_or_else(|| malformed(name, "its inputs hold more than usize::MAX values"))?;
    if let Some((at, i)) = index.iter().enumerate().find(|&(_, &i)| i >= total) {
        return Err(malformed(
            name,
            format!("index[{at}] = {i}, but its inputs hold {total} values"),
        ));
    }
    if index.is_empty() {
        return Tensor::zeros(0, DType::I64, device).at(name);
    }
    let parts = operands
        .iter()
        .filter(|o| o.tensor.elem_count() > 0)
        .map(|o| o.tensor.flatten_all())
        .collect::<candle_core::Result<Vec<_>>>()
        .at(name)?;
    let all = match parts.as_slice() {
        [one] => one.clone(),
        _ => Tensor::cat(&parts, 0).at(name)?,
    };
    index_tensor(index, total, device)
        .and_then(|ids| all.index_select(&ids, 0))
        .at(name)
}
