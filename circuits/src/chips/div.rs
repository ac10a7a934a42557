//! Division chip: `y = floor((a·2^(s+1) + b) / (2b))`, i.e. `a·2^s / b` rounded half up.
//!
//! One row holds `a`, `b`, `y` and the remainder `r` with `2b·y + r = a·2^(s+1) + b`; the
//! constant `2^(s+1)` is a fixed coefficient. The complement `t = 2b - 1 - r` lives in the
//! value column of the next row, which is the range row checking `t` (the gate reads it by
//! rotation, so it needs no cell of its own here). The layout range-checks `t` and `r` to
//! `[0, 2^c)` with `2^c > 2·bound(b)`, and `y` to its static bound. Then `r + t = 2b - 1`
//! holds over the integers, so `b ≥ 1` and `0 ≤ r < 2b`: `y` is the unique quotient, and
//! nothing wraps in the field.

use halo2_proofs::circuit::{Cell, Region, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector};
use halo2_proofs::poly::Rotation;
use zkinfer_ir::semantics::div_round;

use crate::field::{fr_from_i128, fr_from_i64, pow2};

/// Columns of the division chip.
#[derive(Debug, Clone)]
pub struct DivConfig {
    /// Enables both division constraints on a row.
    pub q_div: Selector,
    /// Advice: the dividend `a` (pool column 0).
    pub a: Column<Advice>,
    /// Advice: the divisor `b` (pool column 1).
    pub b: Column<Advice>,
    /// Advice: the quotient `y`, the node's output (pool column 2).
    pub y: Column<Advice>,
    /// Advice: the remainder `r`, copied into a range check (pool column 3).
    pub r: Column<Advice>,
    /// Advice: `t = 2b - 1 - r`, read at the next row, whose range check it is (pool column 0).
    pub t: Column<Advice>,
    /// Fixed: `2^(s+1)` for this row's node.
    pub scale: Column<Fixed>,
}

/// Witness of one division row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DivWitness {
    /// Dividend.
    pub a: i64,
    /// Divisor.
    pub b: i64,
    /// Quotient.
    pub y: i64,
    /// Remainder `a·2^(s+1) + b - 2b·y`.
    pub r: i128,
}

impl DivWitness {
    /// The witness for operands `a`, `b` and claimed quotient `y`: the remainder is what
    /// the gate needs (in `[0, 2b)` exactly when `y` is the honest quotient).
    pub fn with_quotient(a: i64, b: i64, y: i64, shift: u32) -> Self {
        let r = i128::from(a) * (1i128 << (shift.min(62) + 1)) + i128::from(b)
            - 2 * i128::from(b) * i128::from(y);
        DivWitness { a, b, y, r }
    }

    /// The honest witness, or `None` when `b < 1` or the quotient overflows.
    pub fn new(a: i64, b: i64, shift: u32) -> Option<Self> {
        div_round(a, b, shift).map(|y| Self::with_quotient(a, b, y, shift))
    }

    /// `t = 2b - 1 - r`.
    pub fn t(&self) -> i128 {
        2 * i128::from(self.b) - 1 - self.r
    }
}

/// Cells of one assigned division row.
#[derive(Debug, Clone, Copy)]
pub struct DivCells {
    /// Dividend (copy from its source).
    pub a: Cell,
    /// Divisor (copy from its source).
    pub b: Cell,
    /// Quotient (copy into a range check; the node's output).
    pub y: Cell,
    /// Remainder (copy into a range check).
    pub r: Cell,
}

impl DivConfig {
    /// Creates the gate over pool columns `a`, `b`, `y`, `r`, reading `t` from column `t`
    /// on the next row.
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        a: Column<Advice>,
        b: Column<Advice>,
        y: Column<Advice>,
        r: Column<Advice>,
        t: Column<Advice>,
    ) -> Self {
        let q_div = meta.selector();
        let scale = meta.fixed_column();
        // q_div · (2b·y + r - a·2^(s+1) - b) = 0 and q_div · (t[+1] - 2b + 1 + r) = 0
        meta.create_gate("div", |meta| {
            let q = meta.query_selector(q_div);
            let a = meta.query_advice(a, Rotation::cur());
            let b = meta.query_advice(b, Rotation::cur());
            let y = meta.query_advice(y, Rotation::cur());
            let r = meta.query_advice(r, Rotation::cur());
            let t = meta.query_advice(t, Rotation::next());
            let s = meta.query_fixed(scale, Rotation::cur());
            let two = Expression::Constant(Fr::from(2));
            let one = Expression::Constant(Fr::one());
            vec![
                (
                    "2 b y + r = a 2^(s+1) + b",
                    q.clone() * (two.clone() * b.clone() * y + r.clone() - a * s - b.clone()),
                ),
                ("t[+1] = 2 b - 1 - r", q * (t - two * b + one + r)),
            ]
        });
        DivConfig {
            q_div,
            a,
            b,
            y,
            r,
            t,
            scale,
        }
    }

    /// Assigns one division row at `row`. The caller must put `t` in column `t` at
    /// `row + 1` (the range row that checks it).
    pub fn assign(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        shift: u32,
        witness: Option<DivWitness>,
    ) -> Result<DivCells, Error> {
        self.q_div.enable(region, row)?;
        region.assign_fixed(self.scale, row, pow2(shift + 1));
        let val =
            |f: fn(DivWitness) -> Fr| witness.map_or(Value::unknown(), |w| Value::known(f(w)));
        let a = region
            .assign_advice(self.a, row, val(|w| fr_from_i64(w.a)))
            .cell();
        let b = region
            .assign_advice(self.b, row, val(|w| fr_from_i64(w.b)))
            .cell();
        let y = region
            .assign_advice(self.y, row, val(|w| fr_from_i64(w.y)))
            .cell();
        let r = region
            .assign_advice(self.r, row, val(|w| fr_from_i128(w.r)))
            .cell();
        Ok(DivCells { a, b, y, r })
    }
}

#[cfg(test)]
mod tests {
    use zkinfer_ir::{QGraph, QNode, QOp, QTensor};

    use super::DivWitness;
    use crate::corrupt::{Corruption, CorruptionKind};
    use crate::lay::div::{remainder_bits, ROWS_PER_ELEMENT};
    use crate::testing::*;

    const N: usize = 6;
    const A: i64 = 500;

    /// The input holds `2·N` values in `[-A, A]`. Two linear nodes select its halves:
    /// `a = x[..N]` and `b = x[N..] + A + 1 ∈ [1, 2A + 1]`; node 2 is `Div(a, b)`.
    fn div_graph(shift: u32) -> QGraph {
        let mut g = single_op(QOp::Reshape, 2 * N, A as u64, 2 * N, A as u64, 1);
        let pick = |offset: usize| {
            (0..N)
                .flat_map(|j| (0..2 * N).map(move |i| i64::from(i == offset + j)))
                .collect::<Vec<_>>()
        };
        let tensor = |bound: u64| QTensor {
            shape: vec![1, N],
            scale: 4,
            bound,
        };
        g.nodes = vec![
            QNode {
                name: "a".into(),
                op: QOp::Linear {
                    weight: pick(0),
                    bias: vec![0; N],
                    n_in: 2 * N,
                    n_out: N,
                },
                inputs: vec![0],
                out: tensor(A as u64),
                structural: false,
            },
            QNode {
                name: "b".into(),
                op: QOp::Linear {
                    weight: pick(N),
                    bias: vec![A + 1; N],
                    n_in: 2 * N,
                    n_out: N,
                },
                inputs: vec![0],
                out: tensor(2 * A as u64 + 1),
                structural: false,
            },
            QNode {
                name: "div".into(),
                op: QOp::Div { shift },
                inputs: vec![1, 2],
                out: tensor((A as u64) << shift),
                structural: false,
            },
        ];
        g.output = 3;
        g
    }

    /// Element 2 divides 3 by 1; the rest is random.
    fn div_fixture(shift: u32, seed: u64) -> Fixture {
        let mut input = random_ints(2 * N, A, seed);
        input[2] = 3;
        input[N + 2] = -A;
        fixture_of(div_graph(shift), input)
    }

    fn div_row(f: &Fixture, element: usize) -> usize {
        f.node_start(2) + ROWS_PER_ELEMENT * element
    }

    #[test]
    fn honest_witness_has_both_remainders_in_range() {
        for a in -40i64..40 {
            for b in 1i64..30 {
                for shift in [0u32, 1, 5] {
                    let w = DivWitness::new(a, b, shift).expect("b >= 1");
                    assert!((0..2 * i128::from(b)).contains(&w.r), "{a} {b} {shift}");
                    assert!((0..2 * i128::from(b)).contains(&w.t()), "{a} {b} {shift}");
                }
            }
        }
        assert_eq!(DivWitness::new(1, 0, 3), None);
    }

    #[test]
    fn division_passes_on_random_and_edge_operands() {
        for (shift, seed) in [(0, 1), (3, 2), (9, 3)] {
            div_fixture(shift, seed)
                .mock(None)
                .expect("random operands");
        }
        // a = ±A over b = 1 and b = 2A + 1, and a = 0.
        let input = vec![A, -A, A, -A, 0, -1, -A, -A, A, A, A, -A];
        fixture_of(div_graph(4), input)
            .mock(None)
            .expect("edge operands");
    }

    #[test]
    fn wrong_quotient_fails_the_division_gate() {
        let f = div_fixture(3, 4);
        let c = Corruption {
            node: 2,
            element: 4,
            kind: CorruptionKind::DivOutput(1),
        };
        let result = f.mock_with_output(Some(c), &output_with(&f, 4, 1));
        assert_constraint_failure(result, "div", "2 b y + r = a 2^(s+1) + b", div_row(&f, 4));
    }

    #[test]
    fn a_quotient_past_its_calibrated_bound_fails_the_upper_row() {
        // 150 / 1 = 150 against a quotient bound of 100: the lower row holds (150 + 100 <
        // 2^8), the upper row spells 100 - 150 = -50.
        let mut input = vec![0; 2 * N];
        input[2] = 150;
        input[N + 2] = -A;
        let trace = div_graph(0).eval(&input).expect("eval");
        assert_eq!(trace.get(3).expect("y")[2], 150);
        let mut tight = div_graph(0);
        tight.nodes[2].out.bound = 100;
        let params = crate::plan::plan(&tight).expect("plan").params;
        let f = Fixture {
            graph: std::sync::Arc::new(tight),
            params,
            trace: std::sync::Arc::new(trace),
            input,
        };
        let out = f.trace.get(3).expect("y").to_vec();
        let limb = overflowing_limb(-50, 8, &f.params);
        assert_lookup_failure(
            f.mock_with_output(None, &out),
            &format!("limb {limb} in range"),
            div_row(&f, 2) + 4,
        );
    }

    #[test]
    fn quotient_off_by_one_with_a_matching_remainder_fails_a_range_check() {
        // 3·2^4 / 1: y = 48, r = 1. Claiming 49 needs r = -1; claiming 47 needs r = 3,
        // and then t = 2b - 1 - r = -2.
        let f = div_fixture(4, 5);
        assert_eq!(f.trace.get(3).expect("y")[2], 48);
        let c_bits = remainder_bits(2 * A as u64 + 1);
        for (delta, bad, offset) in [(1, -1i128, 2), (-1, -2, 1)] {
            let c = Corruption {
                node: 2,
                element: 2,
                kind: CorruptionKind::DivQuotient(delta),
            };
            let result = f.mock_with_output(Some(c), &output_with(&f, 2, delta));
            let limb = overflowing_limb(bad, c_bits, &f.params);
            assert_lookup_failure(
                result,
                &format!("limb {limb} in range"),
                div_row(&f, 2) + offset,
            );
        }
    }
}
