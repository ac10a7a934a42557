//! Structural and bound checks on a [`QGraph`] read from an untrusted `model.zkm`.
//!
//! The circuit relies on these facts; a hand-crafted file that breaks one could otherwise
//! yield a circuit whose witness the prover can bend. Every tensor's bound is at most
//! `2^MAX_BOUND_BITS`, so no product in a gate nears the field modulus. Ops whose output
//! the circuit does not range-check (Linear, Conv, MatMul, Add, Mul, MulConst, Relu, Max,
//! Lookup, Reshape, Select) declare a bound at least the one their operands imply, so every
//! value downstream is within its declared bound by construction: the field arithmetic is
//! the integer arithmetic. Ops whose output the circuit range-checks on both sides where
//! needed (Rescale, whose declared bound may be tighter than the one its operand implies,
//! and Div, whose quotient bound is calibrated) only need their own parameters bounded.

use crate::qgraph::MAX_BOUND_BITS;
use crate::qgraph::{QGraph, QNode, QOp, QTensor};

/// Largest `shift` of a Rescale or Div: `2^(shift+1)` and every product with it stay far
/// below the field modulus.
pub const MAX_SHIFT: u32 = 62;

/// Why a compiled model is refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("node `{node}` ({op}) is invalid: {detail}")]
pub struct InvalidModel {
    /// Node name (the input's name for input problems).
    pub node: String,
    /// Op kind.
    pub op: &'static str,
    /// What is wrong.
    pub detail: String,
}

fn sum_abs(values: &[i64]) -> u128 {
    values.iter().map(|v| u128::from(v.unsigned_abs())).sum()
}

fn max_abs(values: &[i64]) -> u128 {
    values
        .iter()
        .map(|v| u128::from(v.unsigned_abs()))
        .max()
        .unwrap_or(0)
}

impl QGraph {
    /// Checks everything the circuit relies on (see the module docs).
    pub fn validate(&self) -> Result<(), InvalidModel> {
        let limit = 1u64 << MAX_BOUND_BITS;
        if self.input.bound > limit {
            return Err(InvalidModel {
                node: self.input_name.clone(),
                op: "input",
                detail: format!("bound {} exceeds 2^{MAX_BOUND_BITS}", self.input.bound),
            });
        }
        // A hashed input packs `bits(2B)`-bit values with power-of-two coefficients that must
        // fit an i64: B below 2^61.
        if !self.input_part_visibility.is_empty()
            && self.input_part_visibility.len() != self.input_parts.len()
        {
            return Err(InvalidModel {
                node: self.input_name.clone(),
                op: "input",
                detail: format!(
                    "{} per-input visibilities for {} graph inputs",
                    self.input_part_visibility.len(),
                    self.input_parts.len()
                ),
            });
        }
        if self.hashes_input() && self.input.bound >= 1 << 61 {
            return Err(InvalidModel {
                node: self.input_name.clone(),
                op: "input",
                detail: format!(
                    "bound {} is too wide to hash (at most 2^61 - 1)",
                    self.input.bound
                ),
            });
        }
        if self.output_visibility == crate::Visibility::Hashed
            && self.output_tensor().is_some_and(|t| t.bound >= 1 << 61)
        {
            return Err(InvalidModel {
                node: self.output_name.clone(),
                op: "output",
                detail: "bound is too wide to hash (at most 2^61 - 1)".into(),
            });
        }
        if self.param_visibility == crate::ParamVisibility::Hashed {
            if let Some(t) = self.param_tensors().iter().find(|t| t.bound >= 1 << 61) {
                let node = self.nodes.get(t.node);
                return Err(InvalidModel {
                    node: node.map(|n| n.name.clone()).unwrap_or_default(),
                    op: node.map_or("node", |n| n.op.kind()),
                    detail: "a parameter is too wide to hash (at most 2^61 - 1)".into(),
                });
            }
        }
        for (i, node) in self.nodes.iter().enumerate() {
            let bad = |detail: String| InvalidModel {
                node: node.name.clone(),
                op: node.op.kind(),
                detail,
            };
            if node.out.bound > limit {
                return Err(bad(format!(
                    "bound {} exceeds 2^{MAX_BOUND_BITS}",
                    node.out.bound
                )));
            }
            if let Some(&t) = node.inputs.iter().find(|&&t| t > i) {
                return Err(bad(format!("operand tensor {t} is not computed before it")));
            }
            let implied = self.implied_bound(node).map_err(bad)?;
            if let Some(implied) = implied {
                if implied > u128::from(node.out.bound) {
                    return Err(bad(format!(
                        "declared bound {} is below the bound {implied} its operands imply",
                        node.out.bound
                    )));
                }
            }
        }
        if self.output > self.nodes.len() {
            return Err(InvalidModel {
                node: self.output_name.clone(),
                op: "output",
                detail: format!("output tensor {} does not exist", self.output),
            });
        }
        let parts_fit = |parts: &[crate::IoPart], numel: usize| {
            parts.is_empty() || parts.iter().map(crate::IoPart::numel).sum::<usize>() == numel
        };
        let out_numel = self.output_tensor().map_or(0, QTensor::numel);
        if !parts_fit(&self.input_parts, self.input.numel())
            || !parts_fit(&self.output_parts, out_numel)
        {
            return Err(InvalidModel {
                node: self.input_name.clone(),
                op: "interface",
                detail: "the graph inputs or outputs do not add up to the input or output tensor"
                    .into(),
            });
        }
        Ok(())
    }

    /// The bound `node`'s operands imply for its output, when the circuit does not
    /// range-check that output itself (`None` when it does); an error for a malformed node.
    fn implied_bound(&self, node: &QNode) -> Result<Option<u128>, String> {
        let operand = |k: usize| -> Result<u128, String> {
            node.inputs
                .get(k)
                .and_then(|&t| self.tensor(t))
                .map(|t| u128::from(t.bound))
                .ok_or_else(|| format!("operand {k} is missing"))
        };
        let arity = |n: usize| -> Result<(), String> {
            if node.inputs.len() == n {
                Ok(())
            } else {
                Err(format!("{} operands, expected {n}", node.inputs.len()))
            }
        };
        let shift_ok = |shift: u32| -> Result<(), String> {
            if shift <= MAX_SHIFT {
                Ok(())
            } else {
                Err(format!("shift {shift} exceeds {MAX_SHIFT}"))
            }
        };
        Ok(match &node.op {
            QOp::Linear {
                weight,
                bias,
                n_in,
                n_out,
            } => {
                arity(1)?;
                if weight.len() != n_in.saturating_mul(*n_out) || bias.len() != *n_out {
                    return Err("weight or bias length does not match n_in × n_out".into());
                }
                let x = operand(0)?;
                let rows = weight.chunks(*n_in.max(&1));
                let worst = rows
                    .zip(bias)
                    .map(|(w, b)| {
                        sum_abs(w)
                            .saturating_mul(x)
                            .saturating_add(u128::from(b.unsigned_abs()))
                    })
                    .max()
                    .unwrap_or(0);
                Some(worst)
            }
            QOp::Conv { weight, bias, geom } => {
                arity(1)?;
                if !geom.is_valid()
                    || weight.len() != geom.weight_len()
                    || bias.len() != geom.out_channels
                {
                    return Err("weight, bias or geometry is inconsistent".into());
                }
                let x = operand(0)?;
                let per = weight.len() / geom.out_channels.max(1);
                let worst = weight
                    .chunks(per.max(1))
                    .zip(bias)
                    .map(|(w, b)| {
                        sum_abs(w)
                            .saturating_mul(x)
                            .saturating_add(u128::from(b.unsigned_abs()))
                    })
                    .max()
                    .unwrap_or(0);
                Some(worst)
            }
            QOp::MatMul { k, .. } => {
                arity(2)?;
                let k = u128::try_from(*k).unwrap_or(u128::MAX);
                Some(k.saturating_mul(operand(0)?).saturating_mul(operand(1)?))
            }
            QOp::Add {
                coef_a,
                coef_b,
                constant,
            } => {
                if !(1..=2).contains(&node.inputs.len()) {
                    return Err(format!("{} operands, expected 1 or 2", node.inputs.len()));
                }
                if node.inputs.len() == 1 && *coef_b != 0 {
                    return Err(format!(
                        "coef_b is {coef_b} with one operand (it must be 0: b is absent)"
                    ));
                }
                let a = u128::from(coef_a.unsigned_abs()).saturating_mul(operand(0)?);
                let b = if node.inputs.len() == 2 {
                    u128::from(coef_b.unsigned_abs()).saturating_mul(operand(1)?)
                } else {
                    0
                };
                Some(a.saturating_add(b).saturating_add(max_abs(constant)))
            }
            QOp::Mul => {
                arity(2)?;
                Some(operand(0)?.saturating_mul(operand(1)?))
            }
            QOp::MulConst { factor } => {
                arity(1)?;
                Some(max_abs(factor).saturating_mul(operand(0)?))
            }
            QOp::Elementwise { op } => {
                arity(1)?;
                Some(op.bound(operand(0)?))
            }
            QOp::Relu | QOp::Reshape | QOp::Max { .. } => {
                arity(1)?;
                Some(operand(0)?)
            }
            QOp::Select { .. } => {
                let mut worst = 0;
                for k in 0..node.inputs.len() {
                    worst = worst.max(operand(k)?);
                }
                Some(worst)
            }
            QOp::Lookup { table } => {
                arity(1)?;
                let t = self
                    .tables
                    .get(*table)
                    .ok_or_else(|| format!("table {table} does not exist"))?;
                Some(u128::from(t.max_abs()))
            }
            QOp::Rescale { shift } => {
                arity(1)?;
                shift_ok(*shift)?;
                None
            }
            QOp::Div { shift } => {
                arity(2)?;
                shift_ok(*shift)?;
                None
            }
            // The circuit proves `lo <= x <= hi`, and `x` is within its own bound.
            QOp::Check { lo, hi } => {
                arity(1)?;
                if lo > hi {
                    return Err(format!("the range [{lo}, {hi}] is empty"));
                }
                Some(max_abs(&[*lo, *hi]).min(operand(0)?))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::testkit::{single_op, tensor};

    /// `y = 3·x0 - 2·x1 + 5` on inputs bounded by 10: the implied bound is 55.
    fn linear(out_bound: u64) -> QGraph {
        let op = QOp::Linear {
            weight: vec![3, -2],
            bias: vec![5],
            n_in: 2,
            n_out: 1,
        };
        let mut g = single_op(op, 2, 10, 1, out_bound, 1);
        g.nodes[0].name = "fc".into();
        g
    }

    fn detail(g: &QGraph) -> String {
        g.validate().unwrap_err().detail
    }

    #[test]
    fn honest_bounds_pass_and_understated_ones_fail() {
        linear(55).validate().unwrap();
        let err = linear(54).validate().unwrap_err();
        assert_eq!(err.node, "fc");
        assert_eq!(err.op, "Linear");
        assert!(err.detail.contains("below the bound 55"), "{err}");
    }

    #[test]
    fn implied_bounds_saturate_instead_of_overflowing() {
        // 1024 · (2^63 - 1) · 2^62 overflows u128; the bias must not wrap it back to small.
        let n = 1024;
        let mut g = linear(1 << 62);
        g.input = tensor(n, 1 << 62);
        g.nodes[0].op = QOp::Linear {
            weight: vec![i64::MAX; n],
            bias: vec![i64::MAX],
            n_in: n,
            n_out: 1,
        };
        assert!(detail(&g).contains("below the bound"));
    }

    #[test]
    fn a_one_operand_add_with_a_b_coefficient_is_refused() {
        let mut g = linear(55);
        g.nodes[0].op = QOp::Add {
            coef_a: 1,
            coef_b: 1,
            constant: vec![],
        };
        g.nodes[0].out = tensor(2, 20);
        assert!(detail(&g).contains("coef_b is 1 with one operand"));
        g.nodes[0].inputs = vec![0, 0];
        g.validate().unwrap();
    }

    #[test]
    fn huge_shifts_bounds_and_forward_references_are_refused() {
        let mut g = linear(55);
        g.nodes[0].op = QOp::Rescale { shift: 300 };
        assert!(detail(&g).contains("shift 300"));
        g.nodes[0].op = QOp::Rescale { shift: 4 };
        g.validate().unwrap();
        g.nodes[0].inputs = vec![1];
        assert!(detail(&g).contains("not computed before it"));
        g.nodes[0].inputs = vec![0];
        g.nodes[0].out.bound = u64::MAX;
        assert!(detail(&g).contains("exceeds 2^62"));
        let mut g = linear(55);
        g.input.bound = 1 << 63;
        assert_eq!(g.validate().unwrap_err().op, "input");
        let mut g = linear(55);
        g.output = 2;
        assert_eq!(g.validate().unwrap_err().op, "output");
    }

    #[test]
    fn malformed_weights_and_missing_tables_are_refused() {
        let mut g = linear(55);
        if let QOp::Linear { weight, .. } = &mut g.nodes[0].op {
            weight.push(1);
        }
        assert!(detail(&g).contains("length"));
        g.nodes[0].op = QOp::Lookup { table: 0 };
        assert!(detail(&g).contains("table 0 does not exist"));
        g.nodes[0].op = QOp::Mul;
        assert!(detail(&g).contains("expected 2"));
    }
}
