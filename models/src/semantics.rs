//! Reference integer semantics: the single source of truth for what every op computes.
//!
//! The candle runtime and the circuit witness are both tested against these functions.

use crate::error::EvalError;
use crate::qgraph::{QGraph, QOp};

/// Every intermediate tensor of one execution (index = tensor id; 0 is the input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// Tensor values, row-major.
    pub tensors: Vec<Vec<i64>>,
}

impl Trace {
    /// The values of tensor `id`, if present.
    pub fn get(&self, id: usize) -> Option<&[i64]> {
        self.tensors.get(id).map(Vec::as_slice)
    }
}

/// `acc[r, j] = bias[j] + Σ_i weight[j, i] * x[r, i]`, computed exactly in i128.
/// Returns `None` if an accumulator does not fit in i64.
pub fn linear(
    x: &[i64],
    weight: &[i64],
    bias: &[i64],
    n_in: usize,
    n_out: usize,
) -> Option<Vec<i64>> {
    if n_in == 0 || x.len() % n_in != 0 || weight.len() != n_in * n_out || bias.len() != n_out {
        return None;
    }
    let mut out = Vec::with_capacity(x.len() / n_in * n_out);
    for row in x.chunks_exact(n_in) {
        for (w_row, b) in weight.chunks_exact(n_in).zip(bias) {
            let acc = w_row.iter().zip(row).fold(i128::from(*b), |acc, (w, v)| {
                acc + i128::from(*w) * i128::from(*v)
            });
            out.push(i64::try_from(acc).ok()?);
        }
    }
    Some(out)
}

/// Round half up while dropping `shift` bits: `floor((v + 2^(shift-1)) / 2^shift)`.
pub fn rescale(v: i64, shift: u32) -> i64 {
    if shift == 0 {
        return v;
    }
    let v = i128::from(v) + (1i128 << (shift - 1));
    // Arithmetic right shift is floor division by 2^shift; the result is at most |v|, so it fits.
    (v >> shift) as i64
}

/// The remainder the rescale circuit witnesses: `v + 2^(shift-1) - y * 2^shift`, in `[0, 2^shift)`.
pub fn rescale_remainder(v: i64, shift: u32) -> i64 {
    if shift == 0 {
        return 0;
    }
    let v = i128::from(v) + (1i128 << (shift - 1));
    (v - ((v >> shift) << shift)) as i64
}

/// `max(x, 0)`.
pub fn relu(x: i64) -> i64 {
    x.max(0)
}

/// `coef_a * a + coef_b * b + c`, or `None` on i64 overflow.
pub fn add(a: i64, b: i64, c: i64, coef_a: i64, coef_b: i64) -> Option<i64> {
    coef_a
        .checked_mul(a)?
        .checked_add(coef_b.checked_mul(b)?)?
        .checked_add(c)
}

/// Applies one op to its operand tensors.
pub fn apply(op: &QOp, operands: &[&[i64]]) -> Option<Vec<i64>> {
    let first = operands.first()?;
    match op {
        QOp::Linear {
            weight,
            bias,
            n_in,
            n_out,
        } => linear(first, weight, bias, *n_in, *n_out),
        QOp::Rescale { shift } => Some(first.iter().map(|&v| rescale(v, *shift)).collect()),
        QOp::Relu => Some(first.iter().map(|&v| relu(v)).collect()),
        QOp::Add {
            coef_a,
            coef_b,
            constant,
        } => {
            let second = operands.get(1).copied();
            first
                .iter()
                .enumerate()
                .map(|(i, &a)| {
                    let b = second.map_or(Some(0), |s| s.get(i).copied())?;
                    let c = if constant.is_empty() {
                        0
                    } else {
                        *constant.get(i)?
                    };
                    add(a, b, c, *coef_a, *coef_b)
                })
                .collect()
        }
        QOp::Reshape => Some(first.to_vec()),
    }
}

impl QGraph {
    /// Checks an input against the compiled input bound and element count.
    pub fn check_input(&self, input: &[i64]) -> Result<(), EvalError> {
        if input.len() != self.input.numel() {
            return Err(EvalError::InputLength {
                expected: self.input.numel(),
                got: input.len(),
            });
        }
        let bound = self.input.bound;
        if let Some((index, &value)) = input
            .iter()
            .enumerate()
            .find(|(_, v)| v.unsigned_abs() > bound)
        {
            return Err(EvalError::InputOutOfRange {
                name: self.input_name.clone(),
                index,
                value,
                bound,
                scale: self.input.scale,
            });
        }
        Ok(())
    }

    /// Runs the reference semantics and returns every tensor. Checks every node's
    /// output against its static bound, so a violated bound is an error, not a bad proof.
    pub fn eval(&self, input: &[i64]) -> Result<Trace, EvalError> {
        self.check_input(input)?;
        let mut tensors: Vec<Vec<i64>> = Vec::with_capacity(self.nodes.len() + 1);
        tensors.push(input.to_vec());
        for node in &self.nodes {
            let operands: Vec<&[i64]> = node
                .inputs
                .iter()
                .map(|&t| tensors.get(t).map(Vec::as_slice))
                .collect::<Option<_>>()
                .ok_or_else(|| EvalError::Malformed {
                    node: node.name.clone(),
                })?;
            let out = apply(&node.op, &operands).ok_or_else(|| EvalError::Malformed {
                node: node.name.clone(),
            })?;
            check_bound(&node.name, &out, node.out.bound)?;
            tensors.push(out);
        }
        Ok(Trace { tensors })
    }
}

/// Errors if any value exceeds `bound` in magnitude.
pub fn check_bound(node: &str, values: &[i64], bound: u64) -> Result<(), EvalError> {
    match values
        .iter()
        .enumerate()
        .find(|(_, v)| v.unsigned_abs() > bound)
    {
        Some((index, &value)) => Err(EvalError::BoundViolated {
            node: node.to_string(),
            index,
            value,
            bound,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rescale_rounds_half_up() {
        // 2.5 -> 3, -2.5 -> -2, 2.49 -> 2 (shift 2: values in quarters)
        assert_eq!(rescale(10, 2), 3);
        assert_eq!(rescale(-10, 2), -2);
        assert_eq!(rescale(9, 2), 2);
        assert_eq!(rescale(-11, 2), -3);
        assert_eq!(rescale(7, 0), 7);
        for v in -300i64..300 {
            for s in 1..6 {
                let y = rescale(v, s);
                let r = rescale_remainder(v, s);
                assert!((0..(1 << s)).contains(&r), "v={v} s={s}");
                assert_eq!(v + (1 << (s - 1)), y * (1 << s) + r);
                let exact = (v as f64 / f64::from(1u32 << s) + 0.5).floor() as i64;
                assert_eq!(y, exact);
            }
        }
    }

    #[test]
    fn linear_is_exact_and_rejects_bad_shapes() {
        let y = linear(&[1, -2, 3], &[1, 2, 3, -1, 0, 4], &[10, 20], 3, 2);
        assert_eq!(y, Some(vec![10 + 1 - 4 + 9, 20 - 1 + 12]));
        assert_eq!(linear(&[1, 2], &[1, 2, 3], &[0], 3, 1), None);
        assert_eq!(linear(&[i64::MAX, i64::MAX], &[2, 2], &[0], 2, 1), None);
    }

    #[test]
    fn add_and_relu() {
        assert_eq!(add(3, 4, 5, 2, 1), Some(15));
        assert_eq!(add(i64::MAX, 1, 0, 2, 1), None);
        assert_eq!(relu(-5), 0);
        assert_eq!(relu(5), 5);
    }
}
