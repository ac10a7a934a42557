//! Linear chip: dot products of activations against weights.
//!
//! A dot product of length `n` takes `ceil(n / C)` rows of `C` lanes. The first row
//! computes `acc = bias + Σ_l x_l · w_l`; each further row adds `Σ_l x_l · w_l` to the
//! previous row's `acc`. The last row's `acc` is the output element. With fixed parameters
//! the weights and bias are fixed cells, committed in the verifying key; with private ones
//! they are advice cells, which the caller copy-constrains to the checked parameter cells
//! (and every padding weight to a zero cell).

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
    /// Enables the first row of a dot product: `acc = bias + Σ x·w`.
    pub q_first: Selector,
    /// Enables a continuation row: `acc = acc[-1] + Σ x·w`.
    pub q_next: Selector,
    /// Advice: the activation lanes (pool columns `0..C`, equality enabled for copies).
    pub x: Vec<Column<Advice>>,
    /// Advice: the running accumulator (pool column `C`).
    pub acc: Column<Advice>,
    /// Fixed, or advice with private parameters: the weight lanes, aligned with `x`.
    pub w: Vec<WeightColumn>,
    /// Fixed, or advice with private parameters: the bias, read on first rows only.
    pub bias: WeightColumn,
}

/// Cells of one assigned dot product.
#[derive(Debug, Clone)]
pub struct DotCells {
    /// The activation lane cells that hold an element (padding lanes excluded).
    pub lanes: Vec<Cell>,
    /// The output (the last row's accumulator).
    pub out: Cell,
    /// With advice weights: every weight cell, row by row, padding included (the first
    /// `n` are the dot product's weights, the rest must be 0).
    pub weights: Vec<Cell>,
    /// With advice weights: the bias cell.
    pub bias: Option<Cell>,
}

impl LinearConfig {
    /// Creates both gates over `x` lanes and the `acc` column; the weights are advice
    /// columns when `advice_weights`, fixed ones otherwise.
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        x: &[Column<Advice>],
        acc: Column<Advice>,
        advice_weights: bool,
    ) -> Self {
        let q_first = meta.selector();
        let q_next = meta.selector();
        let w: Vec<_> = x
            .iter()
            .map(|_| WeightColumn::new(meta, advice_weights))
            .collect();
        let bias = WeightColumn::new(meta, advice_weights);
        let dot = |meta: &mut VirtualCells<'_, Fr>| {
            x.iter()
                .zip(&w)
                .fold(Expression::Constant(Fr::zero()), |s, (xc, wc)| {
                    s + meta.query_advice(*xc, Rotation::cur()) * wc.query(meta)
                })
        };
        // q_first · (acc - bias - Σ_j x_j·w_j) = 0
        meta.create_gate("linear first row", |meta| {
            let q = meta.query_selector(q_first);
            let acc_cur = meta.query_advice(acc, Rotation::cur());
            let b = bias.query(meta);
            let s = dot(meta);
            vec![("acc = bias + x·w", q * (acc_cur - b - s))]
        });
        // q_next · (acc - acc[-1] - Σ_j x_j·w_j) = 0
        meta.create_gate("linear next row", |meta| {
            let q = meta.query_selector(q_next);
            let acc_cur = meta.query_advice(acc, Rotation::cur());
            let acc_prev = meta.query_advice(acc, Rotation::prev());
            let s = dot(meta);
            vec![("acc = acc[-1] + x·w", q * (acc_cur - acc_prev - s))]
        });
        LinearConfig {
            q_first,
            q_next,
            x: x.to_vec(),
            acc,
            w,
            bias,
        }
    }

    /// Lanes per row.
    pub fn lanes(&self) -> usize {
        self.x.len()
    }

    /// Rows one dot product of length `n` takes.
    pub fn rows_per_dot(n: usize, lanes: usize) -> usize {
        n.div_ceil(lanes.max(1)).max(1)
    }

    /// Assigns one dot product starting at `row`. `x` are the activation values, `w` the
    /// weights and `bias` the bias; the returned cells let the caller copy-constrain each
    /// lane (and advice weight) to its source. `acc_values` are the running sums, or `None`
    /// when witnesses are unknown (key generation).
    #[allow(clippy::too_many_arguments)]
    pub fn assign_dot(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        x: &[Value<Fr>],
        w: &[i64],
        bias: i64,
        acc_values: Option<&[i64]>,
    ) -> Result<DotCells, Error> {
        let lanes = self.lanes();
        let rows = Self::rows_per_dot(w.len(), lanes);
        let mut lane_cells = Vec::with_capacity(w.len());
        let mut weights = Vec::new();
        let mut bias_cell = None;
        let mut out = None;
        for r in 0..rows {
            let at = row + r;
            if r == 0 {
                self.q_first.enable(region, at)?;
                bias_cell = self.bias.assign(region, at, bias);
            } else {
                self.q_next.enable(region, at)?;
            }
            for l in 0..lanes {
                let i = r * lanes + l;
                let (xv, wv) = match (x.get(i), w.get(i)) {
                    (Some(xv), Some(wv)) => (*xv, *wv),
                    _ => (Value::known(Fr::zero()), 0),
                };
                weights.extend(self.w[l].assign(region, at, wv));
                let cell = region.assign_advice(self.x[l], at, xv).cell();
                if i < w.len() {
                    lane_cells.push(cell);
                }
            }
            let acc = match acc_values.and_then(|a| a.get(r)) {
                Some(v) => Value::known(fr_from_i64(*v)),
                None => Value::unknown(),
            };
            out = Some(region.assign_advice(self.acc, at, acc).cell());
        }
        out.map(|out| DotCells {
            lanes: lane_cells,
            out,
            weights,
            bias: bias_cell,
        })
        .ok_or(Error::Synthesis)
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
    fn running_sums_follow_the_lanes() {
        assert_eq!(
            super::running_sums(&[1, 2, 3], &[4, 5, 6], 10, 2),
            vec![24, 42]
        );
        assert_eq!(super::running_sums(&[], &[], 7, 4), vec![7]);
    }
}
