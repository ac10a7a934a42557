//! Linear chip: dot products of activations against weights, several outputs per row.
//!
//! A row holds `K` activation lanes and `M` accumulators. Accumulator `m` has its own `K`
//! weight columns (and a bias column), so the `M` outputs of a row group share one copy of
//! the activations: a group of `M` dot products of length `n` takes `ceil(n / K)` rows. The
//! first row computes `acc_m = bias_m + Σ_l x_l · w_{m,l}`; each further row adds
//! `Σ_l x_l · w_{m,l}` to the previous row's `acc_m`. The last row's `acc_m` is output `m`.
//! With fixed parameters the weights and biases are fixed cells, committed in the verifying
//! key; with private ones they are advice cells, which the caller copy-constrains to the
//! checked parameter cells (and every padding weight to a zero cell).

use halo2_proofs::circuit::{Cell, Region, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{
    Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector, VirtualCells,
};
use halo2_proofs::poly::Rotation;

use crate::field::fr_from_i64;

/// A column holding weights: fixed (in the key) or advice (supplied by the prover).
#[derive(Debug, Clone, Copy)]
pub enum WeightColumn {
    /// Weights in the verifying key.
    Fixed(Column<Fixed>),
    /// Weights the prover supplies (equality enabled).
    Advice(Column<Advice>),
}

impl WeightColumn {
    fn new(meta: &mut ConstraintSystem<Fr>, advice: bool) -> Self {
        if advice {
            let c = meta.advice_column();
            meta.enable_equality(c);
            WeightColumn::Advice(c)
        } else {
            WeightColumn::Fixed(meta.fixed_column())
        }
    }

    fn query(&self, meta: &mut VirtualCells<'_, Fr>) -> Expression<Fr> {
        match self {
            WeightColumn::Fixed(c) => meta.query_fixed(*c, Rotation::cur()),
            WeightColumn::Advice(c) => meta.query_advice(*c, Rotation::cur()),
        }
    }

    /// Assigns `v` at `row`; returns the cell when it is advice (to be copy-constrained).
    pub fn assign(&self, region: &mut Region<'_, Fr>, row: usize, v: i64) -> Option<Cell> {
        match self {
            WeightColumn::Fixed(c) => {
                region.assign_fixed(*c, row, fr_from_i64(v));
                None
            }
            WeightColumn::Advice(c) => Some(
                region
                    .assign_advice(*c, row, Value::known(fr_from_i64(v)))
                    .cell(),
            ),
        }
    }
}

/// Columns of the linear chip.
#[derive(Debug, Clone)]
pub struct LinearConfig {
    /// Enables the first row of a group: `acc_m = bias_m + Σ x·w_m`.
    pub q_first: Selector,
    /// Enables a continuation row: `acc_m = acc_m[-1] + Σ x·w_m`.
    pub q_next: Selector,
    /// Advice: the activation lanes (pool columns `1..=K`, equality enabled for copies).
    pub x: Vec<Column<Advice>>,
    /// Advice: the running accumulators, one per output of the group (the next `M` pool
    /// columns).
    pub acc: Vec<Column<Advice>>,
    /// Fixed, or advice with private parameters: `w[m][l]`, the weight of lane `l` for
    /// accumulator `m`.
    pub w: Vec<Vec<WeightColumn>>,
    /// Fixed, or advice with private parameters: accumulator `m`'s bias, read on first rows
    /// only.
    pub bias: Vec<WeightColumn>,
}

/// One output of a row group: its weights, bias and running sums (`None` when witnesses
/// are unknown, at key generation).
#[derive(Debug, Clone, Copy)]
pub struct DotSpec<'a> {
    /// The weights, aligned with the group's activations (shorter means zero-padded).
    pub w: &'a [i64],
    /// The bias.
    pub bias: i64,
    /// The accumulator after each row.
    pub sums: Option<&'a [i64]>,
}

/// Cells of one output of an assigned group.
#[derive(Debug, Clone)]
pub struct DotCells {
    /// The output (the last row's accumulator).
    pub out: Cell,
    /// With advice weights: every weight cell, row by row, padding included (the first
    /// `n` are the dot product's weights, the rest must be 0).
    pub weights: Vec<Cell>,
    /// With advice weights: the bias cell.
    pub bias: Option<Cell>,
}

/// Cells of one assigned row group.
#[derive(Debug, Clone)]
pub struct GroupCells {
    /// The activation lane cells that hold an element (padding lanes excluded).
    pub lanes: Vec<Cell>,
    /// One entry per accumulator of the row (`M` of them): the requested outputs first,
    /// then the idle accumulators (weights and bias 0).
    pub dots: Vec<DotCells>,
}

impl LinearConfig {
    /// Creates both gates over the `x` lanes and the `acc` accumulators; the weights are
    /// advice columns when `advice_weights`, fixed ones otherwise.
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        x: &[Column<Advice>],
        acc: &[Column<Advice>],
        advice_weights: bool,
    ) -> Self {
        let q_first = meta.selector();
        let q_next = meta.selector();
        let w: Vec<Vec<_>> = acc
            .iter()
            .map(|_| {
                x.iter()
                    .map(|_| WeightColumn::new(meta, advice_weights))
                    .collect()
            })
            .collect();
        let bias: Vec<_> = acc
            .iter()
            .map(|_| WeightColumn::new(meta, advice_weights))
            .collect();
        let dot = |meta: &mut VirtualCells<'_, Fr>, wm: &[WeightColumn]| {
            x.iter()
                .zip(wm)
                .fold(Expression::Constant(Fr::zero()), |s, (xc, wc)| {
                    s + meta.query_advice(*xc, Rotation::cur()) * wc.query(meta)
                })
        };
        // q_first · (acc_m - bias_m - Σ_l x_l·w_{m,l}) = 0, for every m
        meta.create_gate("linear first row", |meta| {
            let q = meta.query_selector(q_first);
            acc.iter()
                .zip(&w)
                .zip(&bias)
                .map(|((a, wm), b)| {
                    let acc_cur = meta.query_advice(*a, Rotation::cur());
                    let b = b.query(meta);
                    let s = dot(meta, wm);
                    ("acc = bias + x·w", q.clone() * (acc_cur - b - s))
                })
                .collect::<Vec<_>>()
        });
        // q_next · (acc_m - acc_m[-1] - Σ_l x_l·w_{m,l}) = 0, for every m
        meta.create_gate("linear next row", |meta| {
            let q = meta.query_selector(q_next);
            acc.iter()
                .zip(&w)
                .map(|(a, wm)| {
                    let acc_cur = meta.query_advice(*a, Rotation::cur());
                    let acc_prev = meta.query_advice(*a, Rotation::prev());
                    let s = dot(meta, wm);
                    ("acc = acc[-1] + x·w", q.clone() * (acc_cur - acc_prev - s))
                })
                .collect::<Vec<_>>()
        });
        LinearConfig {
            q_first,
            q_next,
            x: x.to_vec(),
            acc: acc.to_vec(),
            w,
            bias,
        }
    }

    /// Lanes per row.
    pub fn lanes(&self) -> usize {
        self.x.len()
    }

    /// Accumulators per row.
    pub fn outs(&self) -> usize {
        self.acc.len()
    }

    /// Rows one dot product (or one group of them) of length `n` takes.
    pub fn rows_per_dot(n: usize, lanes: usize) -> usize {
        n.div_ceil(lanes.max(1)).max(1)
    }

    /// Rows of `dots` dot products of length `n` laid `outs` to a group.
    pub fn rows_for(dots: usize, n: usize, lanes: usize, outs: usize) -> usize {
        dots.div_ceil(outs.max(1)) * Self::rows_per_dot(n, lanes)
    }

    /// Assigns one group of at most `M` dot products over the activations `x`, starting at
    /// `row`. The returned cells let the caller copy-constrain each lane (and advice
    /// weight) to its source.
    pub fn assign_group(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        x: &[Value<Fr>],
        dots: &[DotSpec<'_>],
    ) -> Result<GroupCells, Error> {
        if dots.len() > self.outs() {
            return Err(Error::Synthesis);
        }
        let lanes = self.lanes();
        let n = dots.iter().map(|d| d.w.len()).fold(x.len(), usize::max);
        let rows = Self::rows_per_dot(n, lanes);
        let mut lane_cells = Vec::with_capacity(x.len());
        let mut cells: Vec<DotCells> = Vec::with_capacity(self.outs());
        let mut weights: Vec<Vec<Cell>> = vec![Vec::new(); self.outs()];
        let mut biases: Vec<Option<Cell>> = vec![None; self.outs()];
        let mut outs: Vec<Option<Cell>> = vec![None; self.outs()];
        for r in 0..rows {
            let at = row + r;
            if r == 0 {
                self.q_first.enable(region, at)?;
            } else {
                self.q_next.enable(region, at)?;
            }
            for l in 0..lanes {
                let i = r * lanes + l;
                let xv = x.get(i).copied().unwrap_or(Value::known(Fr::zero()));
                let cell = region.assign_advice(self.x[l], at, xv).cell();
                if i < x.len() {
                    lane_cells.push(cell);
                }
            }
            for m in 0..self.outs() {
                let spec = dots.get(m);
                if r == 0 {
                    biases[m] = self.bias[m].assign(region, at, spec.map_or(0, |d| d.bias));
                }
                for l in 0..lanes {
                    let i = r * lanes + l;
                    let wv = spec.and_then(|d| d.w.get(i)).copied().unwrap_or(0);
                    weights[m].extend(self.w[m][l].assign(region, at, wv));
                }
                let acc = match spec {
                    Some(d) => match d.sums.and_then(|s| s.get(r)) {
                        Some(v) => Value::known(fr_from_i64(*v)),
                        None => Value::unknown(),
                    },
                    // An idle accumulator: weights and bias 0, so it stays 0.
                    None => Value::known(Fr::zero()),
                };
                outs[m] = Some(region.assign_advice(self.acc[m], at, acc).cell());
            }
        }
        for ((out, weights), bias) in outs.into_iter().zip(weights).zip(biases) {
            cells.push(DotCells {
                out: out.ok_or(Error::Synthesis)?,
                weights,
                bias,
            });
        }
        Ok(GroupCells {
            lanes: lane_cells,
            dots: cells,
        })
    }
}

/// Running sums of one dot product laid out over `lanes` lanes: entry `r` is the
/// accumulator after row `r`.
pub fn running_sums(x: &[i64], w: &[i64], bias: i64, lanes: usize) -> Vec<i64> {
    let mut acc = i128::from(bias);
    let mut out = Vec::with_capacity(LinearConfig::rows_per_dot(w.len(), lanes));
    for (xs, ws) in x.chunks(lanes.max(1)).zip(w.chunks(lanes.max(1))) {
        acc += xs
            .iter()
            .zip(ws)
            .map(|(a, b)| i128::from(*a) * i128::from(*b))
            .sum::<i128>();
        out.push(acc as i64);
    }
    if out.is_empty() {
        out.push(acc as i64);
    }
    out
}

#[cfg(test)]
mod tests {
    use zkinfer_ir::QOp;

    use crate::corrupt::{Corruption, CorruptionKind};
    use crate::testing::*;

    fn linear_fixture(n_in: usize, n_out: usize, seed: u64) -> Fixture {
        let weight = random_ints(n_in * n_out, 50, seed);
        let bias = random_ints(n_out, 500, seed + 1);
        let bound = 50 * 20 * n_in as u64 + 500;
        let op = QOp::Linear {
            weight,
            bias,
            n_in,
            n_out,
        };
        fixture_of(
            single_op(op, n_in, 20, n_out, bound, 1),
            random_ints(n_in, 20, seed + 2),
        )
    }

    #[test]
    fn dot_products_pass() {
        for (n_in, n_out) in [(1, 1), (5, 3), (37, 4)] {
            linear_fixture(n_in, n_out, 7)
                .mock(None)
                .expect("honest witness");
        }
    }

    #[test]
    fn wrong_accumulator_fails_the_linear_gate() {
        let f = linear_fixture(37, 4, 9);
        let rows = super::LinearConfig::rows_per_dot(37, f.params.lanes);
        let corruption = Corruption {
            node: 0,
            element: 2,
            kind: CorruptionKind::LinearAcc(1),
        };
        let result = f.mock_with_output(Some(corruption), &output_with(&f, 2, 1));
        let gate = if rows == 1 {
            "linear first row"
        } else {
            "linear next row"
        };
        let constraint = if rows == 1 {
            "acc = bias + x·w"
        } else {
            "acc = acc[-1] + x·w"
        };
        assert_constraint_failure(result, gate, constraint, 3 * rows - 1);
    }

    #[test]
    fn several_outputs_per_row_pass_for_every_shape() {
        for (n_in, n_out) in [(1, 1), (5, 3), (37, 7)] {
            let f = linear_fixture(n_in, n_out, 11);
            for (lanes, outs) in [(1, 2), (4, 3), (8, 8), (3, 5)] {
                with_shape(f.clone(), lanes, outs)
                    .mock(None)
                    .unwrap_or_else(|e| panic!("{n_in}x{n_out}, {lanes}x{outs}: {e:#?}"));
            }
        }
    }

    #[test]
    fn each_accumulator_of_a_group_is_checked() {
        // 7 outputs over 3 accumulators: groups {0, 1, 2}, {3, 4, 5}, {6}, 10 rows each.
        let f = with_shape(linear_fixture(37, 7, 13), 4, 3);
        let rows = super::LinearConfig::rows_per_dot(37, 4);
        for (element, group) in [(0, 0), (4, 1), (5, 1), (6, 2)] {
            let corruption = Corruption {
                node: 0,
                element,
                kind: CorruptionKind::LinearAcc(1),
            };
            let result = f.mock_with_output(Some(corruption), &output_with(&f, element, 1));
            let last = group * rows + rows - 1;
            assert_constraint_failure(result, "linear next row", "acc = acc[-1] + x·w", last);
        }
    }

    #[test]
    fn running_sums_follow_the_lanes() {
        assert_eq!(
            super::running_sums(&[1, 2, 3], &[4, 5, 6], 10, 2),
            vec![24, 42]
        );
        assert_eq!(super::running_sums(&[], &[], 7, 4), vec![7]);
    }
}
