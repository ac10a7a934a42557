//! Bilinear chip: dot products of two activation vectors (MatMul).
//!
//! With a pool of `W` columns, `H = (W - 1) / 2` lanes of `a` sit in pool columns `0..H`,
//! `H` lanes of `b` in `H..2H` and the accumulator in column `2H`. A dot product of length
//! `k` takes `ceil(k / H)` rows (at least one): the first row computes `acc = Σ a_l·b_l`,
//! each further row adds `Σ a_l·b_l` to the previous row's `acc`. Every lane of both
//! operands is copied from its source; the lanes past `k` (padding, both `a` and `b`) are
//! copied from a cell the caller has pinned to 0, so padding contributes nothing.

use halo2_proofs::circuit::{Cell, Region, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Selector};
use halo2_proofs::poly::Rotation;

use crate::field::fr_from_i64;

/// Columns of the bilinear chip.
#[derive(Debug, Clone)]
pub struct BilinearConfig {
    /// Enables the first row of a dot product: `acc = Σ a·b`.
    pub q_first: Selector,
    /// Enables a continuation row: `acc = acc[-1] + Σ a·b`.
    pub q_next: Selector,
    /// Advice: the lanes of the left operand (pool columns `0..H`, equality enabled).
    pub a: Vec<Column<Advice>>,
    /// Advice: the lanes of the right operand, aligned with `a` (pool columns `H..2H`).
    pub b: Vec<Column<Advice>>,
    /// Advice: the running accumulator (pool column `2H`).
    pub acc: Column<Advice>,
}

/// Cells of one assigned dot product.
#[derive(Debug, Clone)]
pub struct BilinearCells {
    /// The `a` lanes holding operand elements, in order (padding excluded).
    pub a: Vec<Cell>,
    /// The `b` lanes holding operand elements, in order (padding excluded).
    pub b: Vec<Cell>,
    /// The final accumulator: the dot product.
    pub acc: Cell,
}

impl BilinearConfig {
    /// Creates both gates over the first `2H + 1` columns of `pool`.
    pub fn configure(meta: &mut ConstraintSystem<Fr>, pool: &[Column<Advice>]) -> Self {
        let h = Self::lanes_for(pool.len());
        let a = pool[..h].to_vec();
        let b = pool[h..2 * h].to_vec();
        let acc = pool[2 * h];
        let q_first = meta.selector();
        let q_next = meta.selector();
        let dot = |meta: &mut halo2_proofs::plonk::VirtualCells<'_, Fr>| {
            a.iter()
                .zip(&b)
                .fold(Expression::Constant(Fr::zero()), |s, (ac, bc)| {
                    s + meta.query_advice(*ac, Rotation::cur())
                        * meta.query_advice(*bc, Rotation::cur())
                })
        };
        // q_first · (acc - Σ_j a_j·b_j) = 0
        meta.create_gate("bilinear first row", |meta| {
            let q = meta.query_selector(q_first);
            let acc_cur = meta.query_advice(acc, Rotation::cur());
            let s = dot(meta);
            vec![("acc = a·b", q * (acc_cur - s))]
        });
        // q_next · (acc - acc[-1] - Σ_j a_j·b_j) = 0
        meta.create_gate("bilinear next row", |meta| {
            let q = meta.query_selector(q_next);
            let acc_cur = meta.query_advice(acc, Rotation::cur());
            let acc_prev = meta.query_advice(acc, Rotation::prev());
            let s = dot(meta);
            vec![("acc = acc[-1] + a·b", q * (acc_cur - acc_prev - s))]
        });
        BilinearConfig {
            q_first,
            q_next,
            a,
            b,
            acc,
        }
    }

    /// Lanes `H` for a pool of `width` columns (at least 3, so at least one lane).
    pub fn lanes_for(width: usize) -> usize {
        (width.saturating_sub(1) / 2).max(1)
    }

    /// Lanes per row.
    pub fn lanes(&self) -> usize {
        self.a.len()
    }

    /// Rows one dot product of length `k` takes.
    pub fn rows_per_dot(k: usize, lanes: usize) -> usize {
        k.div_ceil(lanes.max(1)).max(1)
    }

    /// Whether a dot product of length `k` has padding lanes (which need a zero cell).
    pub fn has_padding(k: usize, lanes: usize) -> bool {
        Self::rows_per_dot(k, lanes) * lanes.max(1) > k
    }

    /// Assigns one dot product of length `k` starting at `row`. `a` and `b` hold the lane
    /// values: entries `0..k` are the operands, later entries (if any) fill padding lanes,
    /// and missing entries are 0. `acc_values` are the running sums (see [`bilinear_sums`]),
    /// or `None` when witnesses are unknown. `zero` must be a cell constrained to 0 when
    /// the product has padding: every padding lane of `a` and `b` is copied from it.
    #[allow(clippy::too_many_arguments)]
    pub fn assign_dot(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        k: usize,
        a: &[Value<Fr>],
        b: &[Value<Fr>],
        acc_values: Option<&[i64]>,
        zero: Option<Cell>,
    ) -> Result<BilinearCells, Error> {
        let lanes = self.lanes();
        let rows = Self::rows_per_dot(k, lanes);
        if a.len() < k || b.len() < k {
            return Err(Error::Synthesis);
        }
        let lane =
            |v: &[Value<Fr>], i: usize| v.get(i).copied().unwrap_or(Value::known(Fr::zero()));
        let mut a_cells = Vec::with_capacity(k);
        let mut b_cells = Vec::with_capacity(k);
        let mut acc_cell = None;
        for r in 0..rows {
            let at = row + r;
            if r == 0 {
                self.q_first.enable(region, at)?;
            } else {
                self.q_next.enable(region, at)?;
            }
            for l in 0..lanes {
                let i = r * lanes + l;
                let a_cell = region.assign_advice(self.a[l], at, lane(a, i)).cell();
                let b_cell = region.assign_advice(self.b[l], at, lane(b, i)).cell();
                if i < k {
                    a_cells.push(a_cell);
                    b_cells.push(b_cell);
                } else {
                    let zero = zero.ok_or(Error::Synthesis)?;
                    region.constrain_equal(zero, a_cell);
                    region.constrain_equal(zero, b_cell);
                }
            }
            let acc = match acc_values.and_then(|s| s.get(r)) {
                Some(v) => Value::known(fr_from_i64(*v)),
                None => Value::unknown(),
            };
            acc_cell = Some(region.assign_advice(self.acc, at, acc).cell());
        }
        Ok(BilinearCells {
            a: a_cells,
            b: b_cells,
            acc: acc_cell.ok_or(Error::Synthesis)?,
        })
    }
}

/// Running sums of one dot product laid out over `lanes` lanes: entry `r` is the
/// accumulator after row `r` (one entry, 0, for an empty product).
pub fn bilinear_sums(a: &[i64], b: &[i64], lanes: usize) -> Vec<i64> {
    let mut acc = 0i128;
    let mut out = Vec::with_capacity(BilinearConfig::rows_per_dot(a.len(), lanes));
    for (xs, ys) in a.chunks(lanes.max(1)).zip(b.chunks(lanes.max(1))) {
        acc += xs
            .iter()
            .zip(ys)
            .map(|(x, y)| i128::from(*x) * i128::from(*y))
            .sum::<i128>();
        out.push(acc as i64);
    }
    if out.is_empty() {
        out.push(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use zkinfer_ir::QOp;

    use super::{bilinear_sums, BilinearConfig};
    use crate::corrupt::{Corruption, CorruptionKind};
    use crate::testing::*;

    /// `a [batch, m, k]` then `b [batch, k, n]` as the input, split by two Selects.
    fn matmul_fixture([batch, m, k, n]: [usize; 4], seed: u64) -> Fixture {
        let op = QOp::MatMul { batch, m, k, n };
        let (a, b) = (batch * m * k, batch * k * n);
        let bound = 40 * 40 * k as u64;
        fixture_of(
            two_operands(op, a, b, 40, batch * m * n, bound),
            random_ints(a + b, 40, seed),
        )
    }

    #[test]
    fn lanes_follow_the_pool_width() {
        assert_eq!(BilinearConfig::lanes_for(4), 1);
        assert_eq!(BilinearConfig::lanes_for(5), 2);
        assert_eq!(BilinearConfig::lanes_for(9), 4);
        assert_eq!(BilinearConfig::lanes_for(33), 16);
        assert!(!BilinearConfig::has_padding(6, 2));
        assert!(BilinearConfig::has_padding(5, 2));
        assert!(BilinearConfig::has_padding(0, 2));
        // Shape [2, 3, 5, 4] with 4 linear lanes: pool 5, 2 bilinear lanes, 3 rows per
        // dot product, 24 dot products and one zero row for the padding lane.
        assert_eq!(
            crate::lay::matmul::rows_for(2, 3, 5, 4, crate::config::DotShape::new(4, 1)),
            1 + 24 * 3
        );
        assert_eq!(
            crate::lay::matmul::rows_for(2, 3, 6, 4, crate::config::DotShape::new(4, 1)),
            24 * 3
        );
        assert_eq!(
            crate::lay::matmul::rows_for(2, 0, 5, 4, crate::config::DotShape::new(4, 1)),
            0
        );
    }

    #[test]
    fn running_sums_follow_the_lanes() {
        assert_eq!(bilinear_sums(&[1, 2, 3], &[4, 5, 6], 2), vec![14, 32]);
        assert_eq!(bilinear_sums(&[], &[], 3), vec![0]);
    }

    #[test]
    fn matmuls_pass() {
        let shapes = [
            [1, 1, 1, 1],
            [2, 3, 5, 4],
            [1, 2, 7, 3],
            [1, 2, 0, 2],
            [3, 1, 4, 1],
        ];
        for (s, shape) in shapes.into_iter().enumerate() {
            let f = matmul_fixture(shape, 40 + s as u64);
            f.mock(None).expect("honest witness, planner's lanes");
            for lanes in [1, 4, 8, 12] {
                with_lanes(f.clone(), lanes)
                    .mock(None)
                    .unwrap_or_else(|e| panic!("{shape:?}, {lanes} lanes: {e:#?}"));
            }
        }
    }

    #[test]
    fn wrong_accumulator_fails_the_bilinear_gate() {
        // 1 lane: 5 rows per product, no padding, no zero row.
        let f = with_lanes(matmul_fixture([2, 3, 5, 4], 50), 1);
        let c = Corruption {
            node: 2,
            element: 7,
            kind: CorruptionKind::MatMulAcc(1),
        };
        let result = f.mock_with_output(Some(c), &output_with(&f, 7, 1));
        assert_constraint_failure(
            result,
            "bilinear next row",
            "acc = acc[-1] + a·b",
            7 * 5 + 4,
        );
        // 12 lanes: pool 13, 6 bilinear lanes, one row per product after the zero row.
        let f = with_lanes(matmul_fixture([2, 3, 5, 4], 50), 12);
        let result = f.mock_with_output(Some(c), &output_with(&f, 7, 1));
        assert_constraint_failure(result, "bilinear first row", "acc = a·b", 1 + 7);
    }

    #[test]
    fn both_operands_are_copied_from_their_sources() {
        let f = with_lanes(matmul_fixture([2, 3, 5, 4], 51), 4);
        // Element 5 is (batch 0, row 1, column 1): lane 0 holds a[0, 1, 0] = input[5]
        // times b[0, 0, 1] = input[30 + 1]. Zero row, then 3 rows per product.
        let c = Corruption {
            node: 2,
            element: 5,
            kind: CorruptionKind::DotLane(1),
        };
        let result = f.mock_with_output(Some(c), &output_with(&f, 5, f.input[31]));
        assert_copy_failure(result, 0, 1 + 5 * 3);
    }

    #[test]
    fn padding_lanes_are_pinned_to_zero() {
        let f = with_lanes(matmul_fixture([2, 3, 5, 4], 52), 4);
        // k = 5 over 2 lanes: the padding lane is lane 1 of the product's third row.
        let c = Corruption {
            node: 2,
            element: 2,
            kind: CorruptionKind::MatMulPad(7),
        };
        let result = f.mock_with_output(Some(c), &output_with(&f, 2, 7));
        assert_copy_failure(result, 1, 1 + 2 * 3 + 2);
    }
}
