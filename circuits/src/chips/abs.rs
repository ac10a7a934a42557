//! Absolute-value chip: `y = |x|` in one row.
//!
//! The row holds `x`, a sign bit `s` (1 when `x < 0`) and `y = (1 - 2s)·x`, with `y`
//! spelled by the range chip's limbs on the same row, so `y ∈ [0, 2^b)` for
//! `|x| <= bound < 2^b`. The sign is the prover's choice, but only the right one keeps `y`
//! non-negative: the other gives `-|x|`, a huge field element no limbs can spell (for
//! `x = 0` both choices give 0).

use halo2_proofs::circuit::{Cell, Region, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Selector};
use halo2_proofs::poly::Rotation;

use crate::chips::range::RangeConfig;
use crate::field::fr_from_i64;

/// Name of the gate.
pub const GATE: &str = "abs";

/// Columns of the absolute-value chip.
#[derive(Debug, Clone)]
pub struct AbsConfig {
    /// Enables the three constraints of the gate.
    pub q_abs: Selector,
    /// Advice: the input `x` (pool column 0).
    pub x: Column<Advice>,
    /// Advice: the sign bit `s`, 1 when `x < 0` (pool column 1).
    pub s: Column<Advice>,
    /// Advice: the output `y = |x|`, spelled by the row's range limbs (pool column 2).
    pub y: Column<Advice>,
}

/// Witness of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbsWitness {
    /// Input.
    pub x: i64,
    /// Sign bit (1 when `x < 0`).
    pub s: i64,
    /// Output.
    pub y: i64,
}

impl AbsWitness {
    /// The witness for input `x` and claimed output `y`, the sign read from `x`.
    pub fn new(x: i64, y: i64) -> Self {
        AbsWitness {
            x,
            s: i64::from(x < 0),
            y,
        }
    }
}

/// Cells of one assigned row.
#[derive(Debug, Clone, Copy)]
pub struct AbsCells {
    /// Input cell.
    pub x: Cell,
    /// Output cell.
    pub y: Cell,
}

impl AbsConfig {
    /// Creates the gate; `y`'s limbs are `range`'s limb columns on the same row.
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        x: Column<Advice>,
        s: Column<Advice>,
        y: Column<Advice>,
        range: &RangeConfig,
    ) -> Self {
        let q_abs = meta.selector();
        // q_abs · {s(1 - s), y - (1 - 2s)x, y - Σ limbs} = 0
        meta.create_gate(GATE, |meta| {
            let q = meta.query_selector(q_abs);
            let x = meta.query_advice(x, Rotation::cur());
            let s = meta.query_advice(s, Rotation::cur());
            let y = meta.query_advice(y, Rotation::cur());
            let one = Expression::Constant(Fr::one());
            let sign = one.clone() - s.clone() - s.clone();
            vec![
                ("s is a bit", q.clone() * s.clone() * (one - s)),
                ("y = (1 - 2s) x", q.clone() * (y.clone() - sign * x)),
                ("y = its limbs", q * (y - range.limbs_sum(meta))),
            ]
        });
        AbsConfig { q_abs, x, s, y }
    }

    /// Assigns the gate's cells on `row` (the caller writes the limbs of `y`).
    pub fn assign(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        w: Option<AbsWitness>,
    ) -> Result<AbsCells, Error> {
        self.q_abs.enable(region, row)?;
        let val = |f: fn(AbsWitness) -> i64| {
            w.map_or(Value::unknown(), |w| Value::known(fr_from_i64(f(w))))
        };
        let x = region.assign_advice(self.x, row, val(|w| w.x)).cell();
        region.assign_advice(self.s, row, val(|w| w.s));
        let y = region.assign_advice(self.y, row, val(|w| w.y)).cell();
        Ok(AbsCells { x, y })
    }
}
