//! Layout of `Abs`: one row of the abs chip per element, `|x|` spelled by the row's range
//! limbs to the bits of the input's bound.

use crate::chips::abs::{AbsConfig, AbsWitness};
use crate::chips::range::RangeConfig;
use crate::error::LayoutFault;
use crate::field::bits;
use crate::lay::ctx::{NodeCtx, Src, Walk};
use crate::lay::{tamper, NodeRows, RowsCtx};

/// Rows: one per element; `y` is checked to the bits of the input's bound.
pub(crate) fn rows(rc: &RowsCtx<'_>) -> NodeRows {
    NodeRows {
        rows: rc.numel(),
        range_bits: bits(rc.operand_bound(0)),
    }
}

/// `y[i] = |x[i]|`.
pub(crate) fn lay(
    chip: &AbsConfig,
    range: &RangeConfig,
    walk: &mut Walk<'_, '_>,
    ctx: &NodeCtx<'_>,
) -> Result<Vec<Src>, LayoutFault> {
    let x = ctx.operand(0)?;
    x.expect_len(ctx.numel())?;
    let y_bits = bits(x.desc.bound);
    let mut out = Vec::with_capacity(ctx.numel());
    for (i, src) in x.src.iter().enumerate() {
        let mut w = match (x.at(i)?, ctx.out_at(i)?) {
            (Some(x), Some(y)) => Some(AbsWitness::new(x, y)),
            _ => None,
        };
        tamper!(ctx, i, abs(&mut w));
        let row = walk.take(1);
        let cells = chip.assign(walk.region, row, w)?;
        walk.bind(*src, cells.x);
        let mut y = w.map(|w| i128::from(w.y));
        tamper!(ctx, i, inline_limbs(&mut y));
        range.assign_limbs(walk.region, row, y, y_bits)?;
        out.push(Src::Cell(cells.y));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use zkinfer_ir::{ElementOp, QOp};

    use crate::testing::*;

    const ABS: QOp = QOp::Elementwise { op: ElementOp::Abs };

    /// `|x|` of 8 values: zero, both bounds and random ones.
    fn abs_fixture() -> Fixture {
        let mut input = random_ints(8, 3000, 41);
        input[..4].copy_from_slice(&[0, 3000, -3000, -1]);
        fixture_of(single_op(ABS, 8, 3000, 8, 3000, 1), input)
    }

    #[test]
    fn abs_passes_including_zero_and_bounds() {
        let f = abs_fixture();
        f.mock(None).expect("honest witness");
        let out = f.trace.get(1).expect("output");
        assert_eq!(&out[..4], &[0, 3000, 3000, 1]);
    }

    #[test]
    fn wrong_output_fails_the_abs_gate() {
        let f = abs_fixture();
        let c = Corruption {
            node: 0,
            element: 3,
            kind: CorruptionKind::AbsOutput(1),
        };
        let result = f.mock_with_output(Some(c), &output_with(&f, 3, 1));
        assert_constraint_failure(result, "abs", "y = (1 - 2s) x", 3);
    }

    #[test]
    fn output_not_spelled_by_its_limbs_fails_the_abs_gate() {
        let f = abs_fixture();
        let c = Corruption {
            node: 0,
            element: 5,
            kind: CorruptionKind::InlineLimbs(-1),
        };
        assert_constraint_failure(f.mock(Some(c)), "abs", "y = its limbs", 5);
    }

    #[test]
    fn wrong_sign_fails_the_range_check() {
        // x = -3000 with s = 0: the gate gives y = x = -3000, which no limbs can spell.
        let f = abs_fixture();
        let c = Corruption {
            node: 0,
            element: 2,
            kind: CorruptionKind::AbsSign,
        };
        let result = f.mock_with_output(Some(c), &output_with(&f, 2, -6000));
        let bits = crate::field::bits(3000);
        let limb = overflowing_limb(-3000, bits, &f.params);
        assert_lookup_failure(result, &format!("limb {limb} in range"), 2);
    }

    #[test]
    fn a_sign_that_is_not_a_bit_fails_the_abs_gate() {
        // x = 1 with s = -1 gives y = 3, which the limbs spell: only "s is a bit" objects.
        let mut input = abs_fixture().input;
        input[4] = 1;
        let f = fixture_of(single_op(ABS, 8, 3000, 8, 3000, 1), input);
        let c = Corruption {
            node: 0,
            element: 4,
            kind: CorruptionKind::AbsSignValue(-1),
        };
        let result = f.mock_with_output(Some(c), &output_with(&f, 4, 2));
        assert_constraint_failure(result, "abs", "s is a bit", 4);
    }

    #[test]
    fn either_sign_of_zero_is_zero() {
        // The one input where the sign bit is free: both choices give y = 0.
        let f = abs_fixture();
        let c = Corruption {
            node: 0,
            element: 0,
            kind: CorruptionKind::AbsSign,
        };
        f.mock(Some(c)).expect("s = 1 at x = 0 still gives |x| = 0");
    }

    #[test]
    fn a_claimed_output_of_another_sign_is_rejected() {
        // Claiming y = -|x| (what `x` itself is for a negative x) breaks only the copy of y.
        let f = abs_fixture();
        let claimed = output_with(&f, 2, -6000);
        let failures = f
            .mock_with_output(None, &claimed)
            .expect_err("y = x must fail");
        assert!(
            failures
                .iter()
                .all(|e| matches!(e, halo2_proofs::dev::VerifyFailure::Permutation { .. })),
            "{failures:#?}"
        );
    }
}
