//! Max chip: `m = max(x_0, …, x_{g-1})` over one contiguous group.
//!
//! A group takes `g` consecutive rows; row `i` holds the claimed max `m`, the element
//! `x_i`, the gap `d_i = m - x_i` and the running product `p_i = d_0 · … · d_i`. Non-first
//! rows repeat the previous row's `m` (a rotation, so no copy is needed), and the last row
//! asserts `p = 0`. With every `d_i` range-checked to `[0, 2^b)` (through copies into range
//! rows, `b` covering twice the input bound) this gives `m ≥ x_i` for every `i` and
//! `m = x_j` for some `j`, i.e. `m` is the max.

use halo2_proofs::circuit::{Cell, Region, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Selector};
use halo2_proofs::poly::Rotation;

use crate::field::fr_from_i64;

/// Columns of the max chip.
#[derive(Debug, Clone)]
pub struct MaxConfig {
    /// Enables the first row of a group: `d = m - x`, `p = d`.
    pub q_first: Selector,
    /// Enables a further row: `d = m - x`, `m = m[-1]`, `p = p[-1]·d`.
    pub q_next: Selector,
    /// Enables `p = 0` on the last row of a group.
    pub q_last: Selector,
    /// Advice: the claimed max `m`, the same on every row of a group (pool column 0).
    pub m: Column<Advice>,
    /// Advice: the element `x_i` (pool column 1).
    pub x: Column<Advice>,
    /// Advice: the gap `d_i = m - x_i`, copied into a range check (pool column 2).
    pub d: Column<Advice>,
    /// Advice: the running product `p_i = d_0 · … · d_i` (pool column 3).
    pub p: Column<Advice>,
}

/// Cells of one assigned max row.
#[derive(Debug, Clone, Copy)]
pub struct MaxCells {
    /// The claimed max.
    pub m: Cell,
    /// The element (copy from the source).
    pub x: Cell,
    /// The gap (copy into a range check).
    pub d: Cell,
}

impl MaxConfig {
    /// Creates the gates over pool columns `m`, `x`, `d`, `p`.
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        m: Column<Advice>,
        x: Column<Advice>,
        d: Column<Advice>,
        p: Column<Advice>,
    ) -> Self {
        let q_first = meta.selector();
        let q_next = meta.selector();
        let q_last = meta.selector();
        // first: d = m - x, p = d; next: d = m - x, m = m[-1], p = p[-1]·d; last: p = 0
        meta.create_gate("max", |meta| {
            let first = meta.query_selector(q_first);
            let next = meta.query_selector(q_next);
            let last = meta.query_selector(q_last);
            let m_cur = meta.query_advice(m, Rotation::cur());
            let m_prev = meta.query_advice(m, Rotation::prev());
            let x = meta.query_advice(x, Rotation::cur());
            let d = meta.query_advice(d, Rotation::cur());
            let p_cur = meta.query_advice(p, Rotation::cur());
            let p_prev = meta.query_advice(p, Rotation::prev());
            // Simple selectors cannot be summed, so `d = m - x` appears under each.
            let gap = d.clone() - m_cur.clone() + x;
            vec![
                ("d = m - x on the first row", first.clone() * gap.clone()),
                (
                    "p = d on the first row",
                    first * (p_cur.clone() - d.clone()),
                ),
                ("d = m - x", next.clone() * gap),
                ("m = m[-1]", next.clone() * (m_cur - m_prev)),
                ("p = p[-1] * d", next * (p_cur.clone() - p_prev * d)),
                ("p = 0 on the last row", last * p_cur),
            ]
        });
        MaxConfig {
            q_first,
            q_next,
            q_last,
            m,
            x,
            d,
            p,
        }
    }

    /// Assigns one group of `len` rows starting at `row`. `witness` holds each row's
    /// `(m, x)` (the same `m` on every row when honest); `d` and `p` follow from them.
    pub fn assign_group(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        len: usize,
        witness: Option<&[(i64, i64)]>,
    ) -> Result<Vec<MaxCells>, Error> {
        if len == 0 || witness.is_some_and(|w| w.len() != len) {
            return Err(Error::Synthesis);
        }
        let mut cells = Vec::with_capacity(len);
        let mut product = Fr::one();
        for i in 0..len {
            let at = row + i;
            if i == 0 {
                self.q_first.enable(region, at)?;
            } else {
                self.q_next.enable(region, at)?;
            }
            if i + 1 == len {
                self.q_last.enable(region, at)?;
            }
            let w = witness.and_then(|w| w.get(i).copied());
            let gap = w.map(|(m, x)| fr_from_i64(m) - fr_from_i64(x));
            if let Some(g) = gap {
                product *= g;
            }
            let known = |v: Option<Fr>| v.map_or(Value::unknown(), Value::known);
            let m = region
                .assign_advice(self.m, at, known(w.map(|w| fr_from_i64(w.0))))
                .cell();
            let x = region
                .assign_advice(self.x, at, known(w.map(|w| fr_from_i64(w.1))))
                .cell();
            let d = region.assign_advice(self.d, at, known(gap)).cell();
            region.assign_advice(self.p, at, known(gap.map(|_| product)));
            cells.push(MaxCells { m, x, d });
        }
        Ok(cells)
    }
}

#[cfg(test)]
mod tests {
    use zkinfer_ir::QOp;

    use crate::corrupt::{Corruption, CorruptionKind};
    use crate::lay::max::{gap_bits, rows_per_group};
    use crate::testing::*;

    const BOUND: u64 = 1000;

    fn max_fixture(input: Vec<i64>, group: usize) -> Fixture {
        let n = input.len();
        let op = QOp::Max { group };
        fixture_of(single_op(op, n, BOUND, n / group, BOUND, 1), input)
    }

    /// Group 1 is `[10, 3, 7, -2]`: its max is first, its last element is not the max.
    fn designed() -> Fixture {
        let mut input = random_ints(12, BOUND as i64, 21);
        input[4..8].copy_from_slice(&[10, 3, 7, -2]);
        max_fixture(input, 4)
    }

    #[test]
    fn max_passes_on_random_groups_ties_and_singletons() {
        max_fixture(random_ints(16, BOUND as i64, 3), 4)
            .mock(None)
            .expect("random groups");
        let b = BOUND as i64;
        max_fixture(
            vec![5, 5, 5, 5, -3, 7, 7, -1, -b, -b, -b, -b, b, -b, b, 0],
            4,
        )
        .mock(None)
        .expect("ties and bounds");
        max_fixture(random_ints(5, b, 4), 1)
            .mock(None)
            .expect("groups of one");
        max_fixture(random_ints(13, b, 5), 13)
            .mock(None)
            .expect("one group");
        designed().mock(None).expect("designed");
    }

    #[test]
    fn claiming_more_than_the_max_fails_the_last_row() {
        let f = designed();
        let c = Corruption {
            node: 0,
            element: 1,
            kind: CorruptionKind::MaxClaim(1),
        };
        let result = f.mock_with_output(Some(c), &output_with(&f, 1, 1));
        // No gap is 0, so the running product is not.
        let last = rows_per_group(4) + 3;
        assert_constraint_failure(result, "max", "p = 0 on the last row", last);
    }

    #[test]
    fn claiming_less_than_the_max_fails_a_gap_range_check() {
        // Claim 7, an element of the group: the product is 0, but 7 - 10 < 0.
        let f = designed();
        let c = Corruption {
            node: 0,
            element: 1,
            kind: CorruptionKind::MaxClaim(-3),
        };
        let result = f.mock_with_output(Some(c), &output_with(&f, 1, -3));
        let limb = overflowing_limb(-3, gap_bits(BOUND), &f.params);
        // The range row of element 0 of group 1 follows the group's 4 chip rows.
        let row = rows_per_group(4) + 4;
        assert_lookup_failure(result, &format!("limb {limb} in range"), row);
    }

    #[test]
    fn a_last_row_that_drops_the_max_fails_the_rotation() {
        // The last row claims m = -2 (its own element, so d = p = 0 there): only the tie
        // to the previous row's m = 10 objects.
        let f = designed();
        let c = Corruption {
            node: 0,
            element: 1,
            kind: CorruptionKind::MaxLastRow,
        };
        let result = f.mock_with_output(Some(c), &output_with(&f, 1, -12));
        assert_constraint_failure(result, "max", "m = m[-1]", rows_per_group(4) + 3);
    }
}
