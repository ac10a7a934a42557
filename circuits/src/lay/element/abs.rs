//! Layout of `Abs` on existing gates, two rows per element: a ReLU row gives `r = max(x, 0)`
//! (sign bit, gap `d` range-checked in the row's limbs), then an arithmetic row gives
//! `y = 2·r - x`, which is `|x|`.

use crate::chips::add::{AddCoefs, AddConfig};
use crate::chips::range::RangeConfig;
use crate::chips::relu::ReluConfig;
use crate::error::LayoutFault;
use crate::field::bits;
use crate::lay::ctx::{NodeCtx, Src, Walk};
use crate::lay::relu::relu_row;
use crate::lay::{tamper, NodeRows, RowsCtx};

/// Rows: two per element; the ReLU gap is checked to the bits of the input's bound.
pub(crate) fn rows(rc: &RowsCtx<'_>) -> NodeRows {
    NodeRows {
        rows: 2 * rc.numel(),
        range_bits: bits(rc.operand_bound(0)),
    }
}

/// `y[i] = |x[i]|`.
pub(crate) fn lay(
    relu: &ReluConfig,
    arith: &AddConfig,
    range: &RangeConfig,
    walk: &mut Walk<'_, '_>,
    ctx: &NodeCtx<'_>,
) -> Result<Vec<Src>, LayoutFault> {
    let x = ctx.operand(0)?;
    x.expect_len(ctx.numel())?;
    let mut out = Vec::with_capacity(ctx.numel());
    for (i, src) in x.src.iter().enumerate() {
        let (cells, r) = relu_row(relu, range, walk, ctx, i)?;
        let mut w = match (r, ctx.out_at(i)?) {
            (Some(r), Some(y)) => Some((r.out, r.x, y)),
            _ => None,
        };
        tamper!(ctx, i, add(&mut w));
        let coefs = AddCoefs {
            ca: 2,
            cb: -1,
            c: 0,
        };
        let row = walk.take(1);
        let y = arith.assign(walk.region, row, coefs, w)?;
        walk.region.constrain_equal(cells.out, y.a);
        walk.bind(*src, y.b);
        out.push(Src::Cell(y.out));
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
    fn wrong_output_fails_the_arithmetic_row() {
        let f = abs_fixture();
        let c = Corruption {
            node: 0,
            element: 3,
            kind: CorruptionKind::AddOutput(1),
        };
        let result = f.mock_with_output(Some(c), &output_with(&f, 3, 1));
        assert_constraint_failure(result, "arith", "out = ca a + cb b + cm a b + c", 2 * 3 + 1);
    }

    #[test]
    fn wrong_sign_fails_the_relu_range_check() {
        // x = 0 with s flipped to 0: out stays 0 (so |x| still holds), d = -1 < 0.
        let f = abs_fixture();
        let c = Corruption {
            node: 0,
            element: 0,
            kind: CorruptionKind::ReluSign,
        };
        let bits = crate::field::bits(3000);
        let limb = overflowing_limb(-1, bits, &f.params);
        assert_lookup_failure(f.mock(Some(c)), &format!("limb {limb} in range"), 0);
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
