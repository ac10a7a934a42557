//! Rescale chip: `y = floor((v + 2^(k-1)) / 2^k)`, round half up.
//!
//! One row holds `v`, `y` and the remainder `r` with `v + 2^(k-1) = y·2^k + r`. The
//! remainder is range-checked to `[0, 2^k)` on the same row (the range chip's limbs spell
//! it), and `y` to its static bound on a range row (through a copy constraint), which makes
//! `y` the unique integer quotient.

use halo2_proofs::circuit::{Cell, Region, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Fixed, Selector};
use halo2_proofs::poly::Rotation;

use crate::field::{fr_from_i128, pow2};

/// Columns of the rescale chip.
#[derive(Debug, Clone)]
pub struct RescaleConfig {
    /// Enables `v + half = y · pow + r`.
    pub q_rescale: Selector,
    /// Advice: the wide input `v` (pool column 0).
    pub v: Column<Advice>,
    /// Advice: the rescaled output `y` (pool column 1).
    pub y: Column<Advice>,
    /// Advice: the remainder `r` (pool column 2).
    pub r: Column<Advice>,
    /// Fixed: `2^k` for this row's node.
    pub pow: Column<Fixed>,
    /// Fixed: `2^(k-1)` for this row's node.
    pub half: Column<Fixed>,
}

/// Cells of one assigned rescale row.
#[derive(Debug, Clone, Copy)]
pub struct RescaleCells {
    /// The input cell (copy from the accumulator).
    pub v: Cell,
    /// The output cell.
    pub y: Cell,
}

impl RescaleConfig {
    /// Creates the gate over pool columns `v`, `y`, `r`.
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        v: Column<Advice>,
        y: Column<Advice>,
        r: Column<Advice>,
        range: &crate::chips::range::RangeConfig,
    ) -> Self {
        let q_rescale = meta.selector();
        let pow = meta.fixed_column();
        let half = meta.fixed_column();
        // q_rescale · {v + 2^(k-1) - y·2^k - r, r - Σ limbs} = 0
        meta.create_gate("rescale", |meta| {
            let q = meta.query_selector(q_rescale);
            let v = meta.query_advice(v, Rotation::cur());
            let y = meta.query_advice(y, Rotation::cur());
            let r = meta.query_advice(r, Rotation::cur());
            let p = meta.query_fixed(pow, Rotation::cur());
            let h = meta.query_fixed(half, Rotation::cur());
            let limbs = range.limbs_sum(meta);
            vec![
                (
                    "v + half = y * 2^k + r",
                    q.clone() * (v + h - y * p - r.clone()),
                ),
                ("r = its limbs", q * (r - limbs)),
            ]
        });
        RescaleConfig {
            q_rescale,
            v,
            y,
            r,
            pow,
            half,
        }
    }

    /// Assigns one rescale row with witnesses `(v, y, r)` (unknown during key generation).
    pub fn assign(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        shift: u32,
        witness: Option<(i64, i64, i64)>,
    ) -> Result<RescaleCells, Error> {
        self.q_rescale.enable(region, row)?;
        region.assign_fixed(self.pow, row, pow2(shift));
        region.assign_fixed(
            self.half,
            row,
            fr_from_i128(if shift == 0 { 0 } else { 1i128 << (shift - 1) }),
        );
        let val = |f: fn((i64, i64, i64)) -> i64| match witness {
            Some(w) => Value::known(fr_from_i128(i128::from(f(w)))),
            None => Value::unknown(),
        };
        let v = region.assign_advice(self.v, row, val(|w| w.0)).cell();
        let y = region.assign_advice(self.y, row, val(|w| w.1)).cell();
        region.assign_advice(self.r, row, val(|w| w.2));
        Ok(RescaleCells { v, y })
    }
}

#[cfg(test)]
mod tests {
    use zkinfer_ir::QOp;

    use crate::chips::range::range_witness;
    use crate::corrupt::{Corruption, CorruptionKind};
    use crate::field::bits;
    use crate::testing::*;

    const SHIFT: u32 = 7;

    fn rescale_fixture() -> Fixture {
        let bound = 100_000u64;
        let out_bound = (bound >> SHIFT) + 1;
        let op = QOp::Rescale { shift: SHIFT };
        fixture_of(
            single_op(op, 9, bound, 9, out_bound, 1),
            random_ints(9, bound as i64, 3),
        )
    }

    #[test]
    fn rescale_passes_on_random_and_edge_values() {
        rescale_fixture().mock(None).expect("honest witness");
        let op = QOp::Rescale { shift: 3 };
        let edges = vec![-100, -5, -4, -3, -1, 0, 3, 4, 5, 100];
        fixture_of(single_op(op, 10, 100, 10, 13, 1), edges)
            .mock(None)
            .expect("edge values");
    }

    #[test]
    fn wrong_output_fails_the_rescale_gate() {
        let f = rescale_fixture();
        let c = Corruption {
            node: 0,
            element: 4,
            kind: CorruptionKind::RescaleOutput(1),
        };
        let result = f.mock_with_output(Some(c), &output_with(&f, 4, 1));
        assert_constraint_failure(result, "rescale", "v + half = y * 2^k + r", 4 * 2);
    }

    #[test]
    fn remainder_not_spelled_by_its_limbs_fails_the_rescale_gate() {
        let f = rescale_fixture();
        let c = Corruption {
            node: 0,
            element: 3,
            kind: CorruptionKind::InlineLimbs(1),
        };
        let result = f.mock(Some(c));
        assert_constraint_failure(result, "rescale", "r = its limbs", 3 * 2);
    }

    #[test]
    fn remainder_out_of_range_fails_the_range_lookup() {
        let f = rescale_fixture();
        let c = Corruption {
            node: 0,
            element: 5,
            kind: CorruptionKind::RescaleRemainder,
        };
        let result = f.mock_with_output(Some(c), &output_with(&f, 5, -1));
        // r + 2^k needs one bit more than its tag allows: the limb holding the top bits fails.
        let w = range_witness(1 << SHIFT, SHIFT, f.params.limb_bits, f.params.limbs);
        let limb = w
            .limbs
            .iter()
            .zip(&w.tags)
            .position(|(l, t)| *l >= 1 << t)
            .expect("overflowing limb");
        assert!(bits(1 << SHIFT) > SHIFT);
        assert_lookup_failure(result, &format!("limb {limb} in range"), 5 * 2);
    }
}
