//! Arithmetic chip: `out = ca·a + cb·b + cm·a·b + c` with per-row fixed coefficients.
//!
//! Covers a bias or constant add (`cb = cm = 0`), the sum of two activations whose
//! scales are aligned by power-of-two coefficients (`cm = 0`), the product of two
//! activations (`cm = 1`, the rest 0) and the product with a per-element constant
//! (`ca = factor`, the rest 0). With every coefficient 0 the row pins `out` to 0.

use halo2_proofs::circuit::{Cell, Region, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Fixed, Selector};
use halo2_proofs::poly::Rotation;

use crate::field::fr_from_i64;

/// Name of the arithmetic gate.
pub const GATE: &str = "arith";
/// Name of its single constraint.
pub const CONSTRAINT: &str = "out = ca a + cb b + cm a b + c";

/// Columns of the add chip.
#[derive(Debug, Clone)]
pub struct AddConfig {
    /// Enables `out = ca·a + cb·b + cm·a·b + c`.
    pub q_add: Selector,
    /// Advice: first operand (pool column 0).
    pub a: Column<Advice>,
    /// Advice: second operand, 0 when absent (pool column 1).
    pub b: Column<Advice>,
    /// Advice: the result (pool column 2).
    pub out: Column<Advice>,
    /// Fixed: coefficient of `a`.
    pub ca: Column<Fixed>,
    /// Fixed: coefficient of `b`.
    pub cb: Column<Fixed>,
    /// Fixed: coefficient of the product `a·b`.
    pub cm: Column<Fixed>,
    /// Fixed: the constant term.
    pub c: Column<Fixed>,
}

/// Cells of one assigned add row.
#[derive(Debug, Clone, Copy)]
pub struct AddCells {
    /// First operand.
    pub a: Cell,
    /// Second operand.
    pub b: Cell,
    /// Output.
    pub out: Cell,
}

/// Fixed coefficients of one add row (no product term).
#[derive(Debug, Clone, Copy)]
pub struct AddCoefs {
    /// Coefficient of `a`.
    pub ca: i64,
    /// Coefficient of `b`.
    pub cb: i64,
    /// Constant term.
    pub c: i64,
}

/// Fixed coefficients of one arithmetic row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArithCoefs {
    /// Coefficient of `a`.
    pub ca: i64,
    /// Coefficient of `b`.
    pub cb: i64,
    /// Coefficient of `a·b`.
    pub cm: i64,
    /// Constant term.
    pub c: i64,
}

impl From<AddCoefs> for ArithCoefs {
    fn from(c: AddCoefs) -> Self {
        ArithCoefs {
            ca: c.ca,
            cb: c.cb,
            cm: 0,
            c: c.c,
        }
    }
}

impl AddConfig {
    /// Creates the gate.
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        a: Column<Advice>,
        b: Column<Advice>,
        out: Column<Advice>,
    ) -> Self {
        let q_add = meta.selector();
        let (ca, cb, cm, c) = (
            meta.fixed_column(),
            meta.fixed_column(),
            meta.fixed_column(),
            meta.fixed_column(),
        );
        // q_add · (out - (ca·a + cb·b + cm·a·b + c)) = 0
        meta.create_gate(GATE, |meta| {
            let q = meta.query_selector(q_add);
            let a = meta.query_advice(a, Rotation::cur());
            let b = meta.query_advice(b, Rotation::cur());
            let out = meta.query_advice(out, Rotation::cur());
            let ca = meta.query_fixed(ca, Rotation::cur());
            let cb = meta.query_fixed(cb, Rotation::cur());
            let cm = meta.query_fixed(cm, Rotation::cur());
            let c = meta.query_fixed(c, Rotation::cur());
            let rhs = ca * a.clone() + cb * b.clone() + cm * a * b + c;
            vec![(CONSTRAINT, q * (out - rhs))]
        });
        AddConfig {
            q_add,
            a,
            b,
            out,
            ca,
            cb,
            cm,
            c,
        }
    }

    /// Assigns one add row (no product term) with witnesses `(a, b, out)`.
    pub fn assign(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        coefs: AddCoefs,
        witness: Option<(i64, i64, i64)>,
    ) -> Result<AddCells, Error> {
        self.assign_arith(region, row, coefs.into(), witness)
    }

    /// Assigns one arithmetic row with witnesses `(a, b, out)`.
    pub fn assign_arith(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        coefs: ArithCoefs,
        witness: Option<(i64, i64, i64)>,
    ) -> Result<AddCells, Error> {
        let w = witness.map(|(a, b, out)| (fr_from_i64(a), fr_from_i64(b), fr_from_i64(out)));
        self.assign_arith_fr(region, row, coefs, w)
    }

    /// A row pinning its output to the constant `value` (every coefficient 0, `c = value`):
    /// the output cell holds `value` in every accepted witness. Returns that cell.
    pub fn assign_constant(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        value: Fr,
    ) -> Result<Cell, Error> {
        self.q_add.enable(region, row)?;
        for col in [self.ca, self.cb, self.cm] {
            region.assign_fixed(col, row, Fr::zero());
        }
        region.assign_fixed(self.c, row, value);
        region.assign_advice(self.a, row, Value::known(Fr::zero()));
        region.assign_advice(self.b, row, Value::known(Fr::zero()));
        Ok(region
            .assign_advice(self.out, row, Value::known(value))
            .cell())
    }

    /// [`Self::assign_arith`] with field-element witnesses (values past `i64`, such as the
    /// packed accumulators of a commitment).
    pub fn assign_arith_fr(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        coefs: ArithCoefs,
        witness: Option<(Fr, Fr, Fr)>,
    ) -> Result<AddCells, Error> {
        self.q_add.enable(region, row)?;
        region.assign_fixed(self.ca, row, fr_from_i64(coefs.ca));
        region.assign_fixed(self.cb, row, fr_from_i64(coefs.cb));
        region.assign_fixed(self.cm, row, fr_from_i64(coefs.cm));
        region.assign_fixed(self.c, row, fr_from_i64(coefs.c));
        let val =
            |f: fn((Fr, Fr, Fr)) -> Fr| witness.map_or(Value::unknown(), |w| Value::known(f(w)));
        let a = region.assign_advice(self.a, row, val(|w| w.0)).cell();
        let b = region.assign_advice(self.b, row, val(|w| w.1)).cell();
        let out = region.assign_advice(self.out, row, val(|w| w.2)).cell();
        Ok(AddCells { a, b, out })
    }
}

#[cfg(test)]
mod tests {
    use zkinfer_ir::QOp;

    use crate::corrupt::{Corruption, CorruptionKind};
    use crate::testing::*;

    #[test]
    fn constant_and_elementwise_add_pass() {
        let constant = random_ints(6, 100, 1);
        let op = QOp::Add {
            coef_a: 1,
            coef_b: 0,
            constant,
        };
        fixture_of(single_op(op, 6, 50, 6, 150, 1), random_ints(6, 50, 2))
            .mock(None)
            .expect("add const");
        let op = QOp::Add {
            coef_a: 4,
            coef_b: 1,
            constant: Vec::new(),
        };
        fixture_of(single_op(op, 6, 50, 6, 250, 2), random_ints(6, 50, 3))
            .mock(None)
            .expect("a + b");
    }

    #[test]
    fn wrong_sum_fails_the_add_gate() {
        let op = QOp::Add {
            coef_a: 4,
            coef_b: 1,
            constant: Vec::new(),
        };
        let f = fixture_of(single_op(op, 6, 50, 6, 250, 2), random_ints(6, 50, 3));
        let c = Corruption {
            node: 0,
            element: 2,
            kind: CorruptionKind::AddOutput(-1),
        };
        let result = f.mock_with_output(Some(c), &output_with(&f, 2, -1));
        assert_constraint_failure(result, "arith", "out = ca a + cb b + cm a b + c", 2);
    }

    fn mul_fixture() -> Fixture {
        fixture_of(
            two_operands(QOp::Mul, 6, 6, 100, 6, 10_000),
            random_ints(12, 100, 4),
        )
    }

    fn mul_const_fixture() -> Fixture {
        let op = QOp::MulConst {
            factor: random_ints(6, 30, 5),
        };
        fixture_of(single_op(op, 6, 100, 6, 3000, 1), random_ints(6, 100, 6))
    }

    #[test]
    fn products_pass() {
        mul_fixture().mock(None).expect("a * b");
        fixture_of(
            single_op(QOp::Mul, 6, 100, 6, 10_000, 2),
            random_ints(6, 100, 7),
        )
        .mock(None)
        .expect("x * x");
        mul_const_fixture().mock(None).expect("factor * x");
    }

    #[test]
    fn wrong_product_fails_the_arith_gate() {
        let f = mul_fixture();
        let c = Corruption {
            node: 2,
            element: 3,
            kind: CorruptionKind::MulOutput(1),
        };
        let result = f.mock_with_output(Some(c), &output_with(&f, 3, 1));
        assert_constraint_failure(result, "arith", "out = ca a + cb b + cm a b + c", 3);
    }

    #[test]
    fn wrong_scaled_value_fails_the_arith_gate() {
        let f = mul_const_fixture();
        let c = Corruption {
            node: 0,
            element: 4,
            kind: CorruptionKind::MulOutput(-2),
        };
        let result = f.mock_with_output(Some(c), &output_with(&f, 4, -2));
        assert_constraint_failure(result, "arith", "out = ca a + cb b + cm a b + c", 4);
    }

    #[test]
    fn product_operands_are_copied_from_their_sources() {
        let f = mul_fixture();
        // b[1] + 2 with the product recomputed: the gate holds, the copy of b from the
        // input (pool column 1, row 1) does not.
        let c = Corruption {
            node: 2,
            element: 1,
            kind: CorruptionKind::MulOperandB(2),
        };
        let result = f.mock_with_output(Some(c), &output_with(&f, 1, 2 * f.input[1]));
        assert_copy_failure(result, 1, 1);
    }
}
