//! The constraint program: halo2's gate, permutation and lookup constraints as a small stack
//! program the on-chain verifier interprets, folded with `y` in halo2's order.

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{ConstraintSystem, Expression};
use halo2_proofs::poly::Rotation;

use crate::error::{ColumnKind, UnsupportedCircuit, VerifyError};

/// A circuit the EVM verifier cannot serve, as an error.
pub(crate) fn unsupported(cause: UnsupportedCircuit) -> VerifyError {
    VerifyError::EvmUnsupported(cause)
}
use zkinfer_circuits::transcript::be_bytes;

/// Opcodes of the constraint program.
pub mod op {
    /// Push the 32-byte constant that follows.
    pub const CONST: u8 = 1;
    /// Push the proof evaluation at the 4-byte calldata offset that follows.
    pub const EVAL: u8 = 2;
    /// Push the evaluation of the public-value column at `x`.
    pub const INSTANCE: u8 = 3;
    /// Negate the top.
    pub const NEG: u8 = 4;
    /// Pop two, push their sum.
    pub const ADD: u8 = 5;
    /// Pop two, push their product.
    pub const MUL: u8 = 6;
    /// Multiply the top by the 32-byte constant that follows.
    pub const SCALE: u8 = 7;
    /// Pop one constraint value `e`: `acc = acc·y + e`.
    pub const FOLD: u8 = 8;
    /// Multiply the top by the lookup challenge `theta`.
    pub const THETA: u8 = 9;
    /// Push zero.
    pub const ZERO: u8 = 10;
    /// Fold every permutation-argument constraint.
    pub const PERMUTATION: u8 = 11;
    /// Pop the compressed table and input of the lookup whose 2-byte index follows; fold its
    /// five constraints.
    pub const LOOKUP: u8 = 12;
}

/// Depth of the constraint program's stack in the contract.
pub const MAX_STACK: usize = 64;

/// Finds the evaluation of `column` at `rotation` among the proof's advice and fixed
/// evaluations.
pub(crate) struct QueryIndex<'a> {
    pub(crate) cs: &'a ConstraintSystem<Fr>,
    pub(crate) evals_at: usize,
}

impl QueryIndex<'_> {
    pub(crate) fn advice(&self, column: usize, rotation: Rotation) -> Result<usize, VerifyError> {
        self.cs
            .advice_queries()
            .iter()
            .position(|(c, r)| c.index() == column && r.0 == rotation.0)
            .map(|q| self.evals_at + 32 * q)
            .ok_or(unsupported(UnsupportedCircuit::MissingQuery {
                kind: ColumnKind::Advice,
                column,
                rotation: rotation.0,
            }))
    }

    pub(crate) fn fixed(&self, column: usize, rotation: Rotation) -> Result<usize, VerifyError> {
        let advice = self.cs.advice_queries().len();
        self.cs
            .fixed_queries()
            .iter()
            .position(|(c, r)| c.index() == column && r.0 == rotation.0)
            .map(|q| self.evals_at + 32 * (advice + q))
            .ok_or(unsupported(UnsupportedCircuit::MissingQuery {
                kind: ColumnKind::Fixed,
                column,
                rotation: rotation.0,
            }))
    }
}

/// Appends the stack program of `e`; returns the stack depth it needs.
fn emit(e: &Expression<Fr>, q: &QueryIndex<'_>, out: &mut Vec<u8>) -> Result<usize, VerifyError> {
    Ok(match e {
        Expression::Constant(c) => {
            out.push(op::CONST);
            out.extend(be_bytes(c));
            1
        }
        Expression::Fixed(f) => {
            push_eval(out, q.fixed(f.column_index(), f.rotation())?)?;
            1
        }
        Expression::Advice(a) => {
            push_eval(out, q.advice(a.column_index(), a.rotation())?)?;
            1
        }
        Expression::Instance(i) => {
            if i.column_index() != 0 || i.rotation().0 != 0 {
                return Err(unsupported(UnsupportedCircuit::InstanceQuery {
                    column: i.column_index(),
                    rotation: i.rotation().0,
                }));
            }
            out.push(op::INSTANCE);
            1
        }
        Expression::Negated(a) => {
            let d = emit(a, q, out)?;
            out.push(op::NEG);
            d
        }
        Expression::Sum(a, b) | Expression::Product(a, b) => {
            let da = emit(a, q, out)?;
            let db = emit(b, q, out)?;
            out.push(if matches!(e, Expression::Sum(..)) {
                op::ADD
            } else {
                op::MUL
            });
            da.max(db + 1)
        }
        Expression::Scaled(a, c) => {
            let d = emit(a, q, out)?;
            out.push(op::SCALE);
            out.extend(be_bytes(c));
            d
        }
        Expression::Selector(_) => return Err(unsupported(UnsupportedCircuit::UncompiledSelector)),
        Expression::Challenge(_) => return Err(unsupported(UnsupportedCircuit::Challenges)),
    })
}

fn push_eval(out: &mut Vec<u8>, offset: usize) -> Result<(), VerifyError> {
    let at = u32::try_from(offset)
        .map_err(|_| unsupported(UnsupportedCircuit::CalldataOffset { offset, bits: 32 }))?;
    out.push(op::EVAL);
    out.extend(at.to_be_bytes());
    Ok(())
}

/// `fold(acc·θ + e)` over `exprs`, starting from zero (halo2's lookup compression).
fn emit_compressed(
    exprs: &[Expression<Fr>],
    q: &QueryIndex<'_>,
    out: &mut Vec<u8>,
) -> Result<usize, VerifyError> {
    out.push(op::ZERO);
    let mut depth = 1;
    for e in exprs {
        out.push(op::THETA);
        depth = depth.max(1 + emit(e, q, out)?);
        out.push(op::ADD);
    }
    Ok(depth)
}

/// Builds the constraint program in halo2's order: gates, permutation, lookups.
pub(crate) fn program(
    cs: &ConstraintSystem<Fr>,
    q: &QueryIndex<'_>,
) -> Result<Vec<u8>, VerifyError> {
    let mut out = Vec::new();
    let mut depth = 0;
    for gate in cs.gates() {
        for poly in gate.polynomials() {
            depth = depth.max(emit(poly, q, &mut out)?);
            out.push(op::FOLD);
        }
    }
    out.push(op::PERMUTATION);
    for (index, lookup) in cs.lookups().iter().enumerate() {
        let input = emit_compressed(lookup.input_expressions(), q, &mut out)?;
        let table = emit_compressed(lookup.table_expressions(), q, &mut out)?;
        depth = depth.max(input).max(1 + table);
        out.push(op::LOOKUP);
        let index = u16::try_from(index).map_err(|_| {
            unsupported(UnsupportedCircuit::TooManyLookups {
                lookups: cs.lookups().len(),
            })
        })?;
        out.extend(index.to_be_bytes());
    }
    if depth > MAX_STACK {
        return Err(unsupported(UnsupportedCircuit::StackTooDeep {
            depth,
            max: MAX_STACK,
        }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use halo2_proofs::halo2curves::bn256::Fr;
    use halo2_proofs::plonk::{ConstraintSystem, Expression};
    use halo2_proofs::poly::Rotation;

    use super::{op, program, QueryIndex};
    use crate::error::{UnsupportedCircuit, VerifyError};
    use zkinfer_circuits::transcript::be_bytes;

    fn eval(at: u32) -> Vec<u8> {
        let mut v = vec![op::EVAL];
        v.extend(at.to_be_bytes());
        v
    }

    #[test]
    fn a_gate_compiles_to_its_postfix_program() {
        let mut cs = ConstraintSystem::<Fr>::default();
        let a = cs.advice_column();
        let f = cs.fixed_column();
        cs.create_gate("g", |m| {
            let a0 = m.query_advice(a, Rotation::cur());
            let a1 = m.query_advice(a, Rotation::next());
            let f0 = m.query_fixed(f, Rotation::cur());
            vec![f0 * (a0 - a1 * Expression::Constant(Fr::from(3)))]
        });
        let q = QueryIndex {
            cs: &cs,
            evals_at: 1000,
        };
        let code = program(&cs, &q).unwrap();
        // Advice evaluations come first (a at cur, a at next), then fixed (f at cur).
        let mut expected = eval(1064);
        expected.extend(eval(1000));
        expected.extend(eval(1032));
        expected.push(op::CONST);
        expected.extend(be_bytes(&Fr::from(3)));
        expected.extend([
            op::MUL,
            op::NEG,
            op::ADD,
            op::MUL,
            op::FOLD,
            op::PERMUTATION,
        ]);
        assert_eq!(code, expected);
    }

    #[test]
    fn challenges_are_refused_by_name() {
        let mut cs = ConstraintSystem::<Fr>::default();
        let a = cs.advice_column();
        let c = cs.challenge_usable_after(halo2_proofs::plonk::FirstPhase);
        cs.create_gate("g", |m| {
            vec![m.query_advice(a, Rotation::cur()) * m.query_challenge(c)]
        });
        let q = QueryIndex {
            cs: &cs,
            evals_at: 0,
        };
        let err = program(&cs, &q).unwrap_err();
        assert!(
            matches!(
                err,
                VerifyError::EvmUnsupported(UnsupportedCircuit::Challenges)
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("challenge"), "{err}");
    }
}
