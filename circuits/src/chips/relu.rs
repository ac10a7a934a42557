//! ReLU chip, sound for negative inputs (which wrap in the field).
//!
//! One row holds `x`, a sign bit `s`, `out = s·x` and `d = (2s-1)·x + s - 1`, i.e.
//! `d = x` when `s = 1` and `d = -x - 1` when `s = 0`. `d` is range-checked to
//! `[0, 2^b)` with `|x| <= bound < 2^b`, on the same row (the range chip's limbs spell it):
//! a wrong sign turns `d` into a huge field element and fails that check.

use halo2_proofs::circuit::{Cell, Region, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Selector};
use halo2_proofs::poly::Rotation;

use crate::field::fr_from_i64;

/// Columns of the ReLU chip.
#[derive(Debug, Clone)]
pub struct ReluConfig {
    /// Enables the three ReLU constraints.
    pub q_relu: Selector,
    /// Advice: the input `x` (pool column 0).
    pub x: Column<Advice>,
    /// Advice: the sign bit `s` (1 when `x >= 0`) (pool column 1).
    pub s: Column<Advice>,
    /// Advice: the output `s·x` (pool column 2).
    pub out: Column<Advice>,
    /// Advice: the range-checked magnitude witness `d` (pool column 3).
    pub d: Column<Advice>,
}

/// Witness of one ReLU row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReluWitness {
    /// Input.
    pub x: i64,
    /// Sign bit.
    pub s: i64,
    /// Output.
    pub out: i64,
    /// `d = x` or `-x - 1`.
    pub d: i64,
}

impl ReluWitness {
    /// The honest witness for `x`.
    pub fn new(x: i64) -> Self {
        let s = i64::from(x >= 0);
        ReluWitness {
            x,
            s,
            out: s * x,
            d: if s == 1 { x } else { -x - 1 },
        }
    }
}

/// Cells of one assigned ReLU row.
#[derive(Debug, Clone, Copy)]
pub struct ReluCells {
    /// Input cell.
    pub x: Cell,
    /// Output cell.
    pub out: Cell,
}

impl ReluConfig {
    /// Creates the gate.
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        x: Column<Advice>,
        s: Column<Advice>,
        out: Column<Advice>,
        d: Column<Advice>,
        range: &crate::chips::range::RangeConfig,
    ) -> Self {
        let q_relu = meta.selector();
        // q_relu · {s(1 - s), out - s·x, d - (2s - 1)x - s + 1, d - Σ limbs} = 0
        meta.create_gate("relu", |meta| {
            let q = meta.query_selector(q_relu);
            let x = meta.query_advice(x, Rotation::cur());
            let s = meta.query_advice(s, Rotation::cur());
            let out = meta.query_advice(out, Rotation::cur());
            let d = meta.query_advice(d, Rotation::cur());
            let one = Expression::Constant(Fr::one());
            vec![
                (
                    "s is a bit",
                    q.clone() * s.clone() * (one.clone() - s.clone()),
                ),
                ("out = s * x", q.clone() * (out - s.clone() * x.clone())),
                (
                    "d = (2s - 1) x + s - 1",
                    q.clone() * (d.clone() - (s.clone() + s.clone() - one.clone()) * x - s + one),
                ),
                ("d = its limbs", q * (d - range.limbs_sum(meta))),
            ]
        });
        ReluConfig {
            q_relu,
            x,
            s,
            out,
            d,
        }
    }

    /// Assigns one ReLU row.
    pub fn assign(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        w: Option<ReluWitness>,
    ) -> Result<ReluCells, Error> {
        self.q_relu.enable(region, row)?;
        let val = |f: fn(ReluWitness) -> i64| {
            w.map_or(Value::unknown(), |w| Value::known(fr_from_i64(f(w))))
        };
        let x = region.assign_advice(self.x, row, val(|w| w.x)).cell();
        region.assign_advice(self.s, row, val(|w| w.s));
        let out = region.assign_advice(self.out, row, val(|w| w.out)).cell();
        region.assign_advice(self.d, row, val(|w| w.d));
        Ok(ReluCells { x, out })
    }
}

#[cfg(test)]
mod tests {
    use zkinfer_ir::QOp;

    use crate::corrupt::{Corruption, CorruptionKind};
    use crate::testing::*;

    fn relu_fixture() -> Fixture {
        let mut input = random_ints(8, 3000, 5);
        input[0] = -3000;
        input[1] = 0;
        input[2] = -1;
        input[3] = 3000;
        fixture_of(single_op(QOp::Relu, 8, 3000, 8, 3000, 1), input)
    }

    #[test]
    fn relu_passes_including_zero_and_bounds() {
        relu_fixture().mock(None).expect("honest witness");
    }

    #[test]
    fn wrong_output_fails_the_relu_gate() {
        let f = relu_fixture();
        let c = Corruption {
            node: 0,
            element: 6,
            kind: CorruptionKind::ReluOutput(1),
        };
        let result = f.mock_with_output(Some(c), &output_with(&f, 6, 1));
        assert_constraint_failure(result, "relu", "out = s * x", 6);
    }

    #[test]
    fn magnitude_not_spelled_by_its_limbs_fails_the_relu_gate() {
        let f = relu_fixture();
        let c = Corruption {
            node: 0,
            element: 5,
            kind: CorruptionKind::InlineLimbs(-1),
        };
        assert_constraint_failure(f.mock(Some(c)), "relu", "d = its limbs", 5);
    }

    #[test]
    fn wrong_sign_fails_the_range_check() {
        let f = relu_fixture();
        // Element 0 is negative: claiming s = 1 makes out = x and d = x < 0.
        for element in [0usize, 3] {
            let x = f.input[element];
            let c = Corruption {
                node: 0,
                element,
                kind: CorruptionKind::ReluSign,
            };
            let claimed_out = if x >= 0 { 0 } else { x };
            let honest = f.trace.get(1).expect("out")[element];
            let result =
                f.mock_with_output(Some(c), &output_with(&f, element, claimed_out - honest));
            let d = if x >= 0 { -x - 1 } else { x };
            let bits = crate::field::bits(3000);
            let w = crate::chips::range::range_witness(
                i128::from(d),
                bits,
                f.params.limb_bits,
                f.params.limbs,
            );
            let limb = w.limbs.iter().position(|l| *l < 0).expect("negative limb");
            assert_lookup_failure(result, &format!("limb {limb} in range"), element);
        }
    }
}
