//! Reference integer semantics: the single source of truth for what every op computes.
//!
//! The candle runtime and the circuit witness are both tested against these functions.

use crate::error::EvalError;
use crate::qgraph::{QGraph, QNode, QOp, Table};

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

/// Largest `|rescale(v, shift)|` over `|v| <= bound`: the bound a Rescale's operand implies.
pub fn rescale_bound(bound: u64, shift: u32) -> u64 {
    let b = i64::try_from(bound).unwrap_or(i64::MAX);
    rescale(b, shift)
        .unsigned_abs()
        .max(rescale(-b, shift).unsigned_abs())
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

/// Why one op could not be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpError {
    /// Operands missing, of the wrong size, or an i64 overflow.
    Malformed,
    /// A lookup argument outside its table's domain.
    OutOfDomain {
        /// Flat element index.
        index: usize,
        /// The argument.
        value: i64,
        /// The table.
        table: usize,
    },
    /// A divisor below 1.
    Divisor {
        /// Flat element index.
        index: usize,
        /// The divisor.
        value: i64,
    },
    /// A value outside the range a [`QOp::Check`] allows.
    Check {
        /// Flat element index.
        index: usize,
        /// The value.
        value: i64,
        /// Smallest value allowed.
        lo: i64,
        /// Largest value allowed.
        hi: i64,
    },
}

/// `Ok(())` when every value lies in `[lo, hi]`, else the first that does not.
pub fn check_range(values: &[i64], lo: i64, hi: i64) -> Result<(), OpError> {
    match values.iter().position(|v| !(lo..=hi).contains(v)) {
        None => Ok(()),
        Some(index) => Err(OpError::Check {
            index,
            value: values.get(index).copied().unwrap_or_default(),
            lo,
            hi,
        }),
    }
}

/// `floor((a * 2^(shift+1) + b) / (2b))` for `b >= 1`: `a·2^shift / b` rounded half up.
/// `None` for `b < 1` or overflow.
pub fn div_round(a: i64, b: i64, shift: u32) -> Option<i64> {
    if b < 1 || shift > 62 {
        return None;
    }
    let num = i128::from(a).checked_mul(1i128 << (shift + 1))? + i128::from(b);
    let den = 2 * i128::from(b);
    i64::try_from(num.div_euclid(den)).ok()
}

/// The remainder the division circuit witnesses: `a·2^(shift+1) + b - 2b·y`, in `[0, 2b)`.
pub fn div_remainder(a: i64, b: i64, shift: u32) -> Option<i64> {
    let y = div_round(a, b, shift)?;
    let num = i128::from(a) * (1i128 << (shift + 1)) + i128::from(b);
    i64::try_from(num - 2 * i128::from(b) * i128::from(y)).ok()
}

/// Exact 2-D convolution over [`ConvGeom::taps`](crate::geometry::ConvGeom::taps).
pub fn conv(
    x: &[i64],
    weight: &[i64],
    bias: &[i64],
    geom: &crate::geometry::ConvGeom,
) -> Option<Vec<i64>> {
    if !geom.is_valid()
        || x.len() != geom.in_numel()
        || weight.len() != geom.weight_len()
        || bias.len() != geom.out_channels
    {
        return None;
    }
    (0..geom.out_numel())
        .map(|o| {
            let b = i128::from(*bias.get(geom.out_channel(o))?);
            let acc = geom.taps(o).iter().try_fold(b, |acc, &(i, w)| {
                Some(acc + i128::from(*x.get(i)?) * i128::from(*weight.get(w)?))
            })?;
            i64::try_from(acc).ok()
        })
        .collect()
}

/// Exact batched product `a [batch, m, k] x b [batch, k, n]`.
pub fn matmul(
    a: &[i64],
    b: &[i64],
    batch: usize,
    m: usize,
    k: usize,
    n: usize,
) -> Option<Vec<i64>> {
    if a.len() != batch * m * k || b.len() != batch * k * n {
        return None;
    }
    let mut y = Vec::with_capacity(batch * m * n);
    for bi in 0..batch {
        for i in 0..m {
            for j in 0..n {
                let mut acc = 0i128;
                for t in 0..k {
                    acc += i128::from(*a.get((bi * m + i) * k + t)?)
                        * i128::from(*b.get((bi * k + t) * n + j)?);
                }
                y.push(i64::try_from(acc).ok()?);
            }
        }
    }
    Some(y)
}

/// Applies one op to its operand tensors; `tables` are the graph's lookup tables.
pub fn apply(op: &QOp, operands: &[&[i64]], tables: &[Table]) -> Result<Vec<i64>, OpError> {
    let first = *operands.first().ok_or(OpError::Malformed)?;
    let second = || operands.get(1).copied().ok_or(OpError::Malformed);
    let pairwise = |f: fn(i64, i64) -> Option<i64>| -> Result<Vec<i64>, OpError> {
        let b = second()?;
        if b.len() != first.len() {
            return Err(OpError::Malformed);
        }
        first
            .iter()
            .zip(b)
            .map(|(&x, &y)| f(x, y).ok_or(OpError::Malformed))
            .collect()
    };
    match op {
        QOp::Linear {
            weight,
            bias,
            n_in,
            n_out,
        } => linear(first, weight, bias, *n_in, *n_out).ok_or(OpError::Malformed),
        QOp::Rescale { shift } => Ok(first.iter().map(|&v| rescale(v, *shift)).collect()),
        QOp::Relu => Ok(first.iter().map(|&v| relu(v)).collect()),
        QOp::Add {
            coef_a,
            coef_b,
            constant,
        } => {
            let b = operands.get(1).copied();
            first
                .iter()
                .enumerate()
                .map(|(i, &a)| {
                    let bv = b.map_or(Some(0), |s| s.get(i).copied());
                    let c = if constant.is_empty() {
                        Some(0)
                    } else {
                        constant.get(i).copied()
                    };
                    bv.zip(c)
                        .and_then(|(bv, c)| add(a, bv, c, *coef_a, *coef_b))
                        .ok_or(OpError::Malformed)
                })
                .collect()
        }
        QOp::Reshape => Ok(first.to_vec()),
        QOp::Conv { weight, bias, geom } => {
            conv(first, weight, bias, geom).ok_or(OpError::Malformed)
        }
        QOp::MatMul { batch, m, k, n } => {
            matmul(first, second()?, *batch, *m, *k, *n).ok_or(OpError::Malformed)
        }
        QOp::Mul => pairwise(|a, b| a.checked_mul(b)),
        QOp::MulConst { factor } => {
            if factor.len() != first.len() {
                return Err(OpError::Malformed);
            }
            first
                .iter()
                .zip(factor)
                .map(|(&x, &f)| x.checked_mul(f).ok_or(OpError::Malformed))
                .collect()
        }
        QOp::Max { group } => {
            if *group == 0 || first.len() % group != 0 {
                return Err(OpError::Malformed);
            }
            first
                .chunks_exact(*group)
                .map(|g| g.iter().copied().max().ok_or(OpError::Malformed))
                .collect()
        }
        QOp::Div { shift } => {
            let b = second()?;
            if b.len() != first.len() {
                return Err(OpError::Malformed);
            }
            first
                .iter()
                .zip(b)
                .enumerate()
                .map(|(index, (&x, &d))| {
                    if d < 1 {
                        return Err(OpError::Divisor { index, value: d });
                    }
                    div_round(x, d, *shift).ok_or(OpError::Malformed)
                })
                .collect()
        }
        QOp::Lookup { table } => {
            let t = tables.get(*table).ok_or(OpError::Malformed)?;
            first
                .iter()
                .enumerate()
                .map(|(index, &value)| {
                    t.get(value).ok_or(OpError::OutOfDomain {
                        index,
                        value,
                        table: *table,
                    })
                })
                .collect()
        }
        QOp::Elementwise { op } => first
            .iter()
            .map(|&x| op.int(x).ok_or(OpError::Malformed))
            .collect(),
        QOp::Check { lo, hi } => {
            check_range(first, *lo, *hi)?;
            Ok(first.to_vec())
        }
        QOp::Select { index } => {
            let total: usize = operands.iter().map(|o| o.len()).sum();
            index
                .iter()
                .map(|&i| {
                    if i >= total {
                        return Err(OpError::Malformed);
                    }
                    let mut rest = i;
                    for o in operands {
                        if rest < o.len() {
                            return o.get(rest).copied().ok_or(OpError::Malformed);
                        }
                        rest -= o.len();
                    }
                    Err(OpError::Malformed)
                })
                .collect()
        }
    }
}

/// Turns an [`OpError`] at `node` into an [`EvalError`].
pub fn op_error(graph: &QGraph, node: &str, e: OpError) -> EvalError {
    match e {
        OpError::Malformed => EvalError::Malformed {
            node: node.to_string(),
        },
        OpError::OutOfDomain {
            index,
            value,
            table,
        } => {
            let t = graph.tables.get(table);
            EvalError::OutOfDomain {
                node: node.to_string(),
                index,
                value,
                lo: t.map_or(0, |t| t.lo),
                hi: t.map_or(0, Table::hi),
                scale: t.map_or(0, |t| t.in_scale),
                table: t.map_or_else(String::new, |t| t.name.clone()),
            }
        }
        OpError::Divisor { index, value } => EvalError::Divisor {
            node: node.to_string(),
            index,
            value,
        },
        OpError::Check {
            index,
            value,
            lo,
            hi,
        } => EvalError::CheckFailed {
            node: node.to_string(),
            index,
            value,
            lo,
            hi,
            scale: graph
                .nodes
                .iter()
                .find(|n| n.name == node)
                .map_or(0, |n| n.out.scale),
        },
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
            .find(|(_, v)| !crate::input_range::admits(bound, **v))
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
            let out = apply(&node.op, &operands, &self.tables)
                .map_err(|e| op_error(self, &node.name, e))?;
            self.check_output(node, &out)?;
            tensors.push(out);
        }
        Ok(Trace { tensors })
    }

    /// Whether `node`'s bound is calibrated: a `Rescale` whose declared bound is below the
    /// one its operand implies (the compiler set it from the calibration set; the circuit
    /// checks it on both sides), or a `Div` quotient (no static bound exists).
    pub fn has_calibrated_bound(&self, node: &QNode) -> bool {
        match node.op {
            QOp::Rescale { shift } => {
                let operand = node
                    .inputs
                    .first()
                    .and_then(|&t| self.tensor(t))
                    .map_or(u64::MAX, |t| t.bound);
                node.out.bound < rescale_bound(operand, shift)
            }
            QOp::Div { .. } => true,
            _ => false,
        }
    }

    /// The bounds the compiler placed from the calibration set (tightened `Rescale`s), in
    /// node order: each costs one more range row per element in the circuit.
    pub fn calibrated_bounds(&self) -> Vec<CalibratedBound> {
        self.nodes
            .iter()
            .filter_map(|n| match n.op {
                QOp::Rescale { shift } if self.has_calibrated_bound(n) => {
                    let operand = n.inputs.first().and_then(|&t| self.tensor(t))?;
                    Some(CalibratedBound {
                        node: n.name.clone(),
                        bound: n.out.bound,
                        implied: rescale_bound(operand.bound, shift),
                        scale: n.out.scale,
                        numel: n.out.numel(),
                    })
                }
                _ => None,
            })
            .collect()
    }

    /// Checks `node`'s output against its bound: past a calibrated bound is an input the
    /// model was not calibrated for, past a static one a compiler bug.
    pub fn check_output(&self, node: &QNode, values: &[i64]) -> Result<(), EvalError> {
        match check_bound(&node.name, values, node.out.bound) {
            Err(EvalError::BoundViolated {
                node: name,
                index,
                value,
                bound,
            }) if self.has_calibrated_bound(node) => Err(EvalError::CalibratedBoundExceeded {
                node: name,
                index,
                value,
                bound,
                scale: node.out.scale,
            }),
            other => other,
        }
    }
}

/// A bound the compiler set from the calibration set (see [`QGraph::calibrated_bounds`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CalibratedBound {
    /// The node.
    pub node: String,
    /// The calibrated bound (`|q| <= bound`).
    pub bound: u64,
    /// The bound its operand implies, which it replaces.
    pub implied: u64,
    /// Scale of the values.
    pub scale: u32,
    /// Elements checked (one range row each).
    pub numel: usize,
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
