//! Layout of `Check`: `lo <= x <= hi` for every element, proven by two range rows on the
//! element's own cell (`x - lo ∈ [0, 2^b)` and `hi - x ∈ [0, 2^b)`, `b = bits(hi - lo)`);
//! one row when `lo = hi` (`x - lo ∈ [0, 1)`: `x = lo`). The output is the input's cells.

use crate::chips::range::RangeConfig;
use crate::error::LayoutFault;
use crate::field::bits;
use crate::lay::ctx::{NodeCtx, Src, Walk};
use crate::lay::range_row::{range_row, upper_row};
use crate::lay::{NodeRows, RowsCtx};

/// Width of the checks of `[lo, hi]`: the bits of `hi - lo`.
fn width(lo: i64, hi: i64) -> u32 {
    let span = (i128::from(hi) - i128::from(lo)).clamp(0, i128::from(u64::MAX));
    bits(u64::try_from(span).unwrap_or(u64::MAX))
}

/// Rows per element: two, or one for a single allowed value.
fn per_element(lo: i64, hi: i64) -> usize {
    if lo == hi {
        1
    } else {
        2
    }
}

/// Rows: [`per_element`] per element, checks as wide as `hi - lo`.
pub(crate) fn rows(rc: &RowsCtx<'_>, lo: i64, hi: i64) -> NodeRows {
    NodeRows {
        rows: rc.numel() * per_element(lo, hi),
        range_bits: width(lo, hi),
    }
}

/// `y = x`, with `lo <= x[i] <= hi` proven for every element.
pub(crate) fn lay(
    range: &RangeConfig,
    walk: &mut Walk<'_, '_>,
    ctx: &NodeCtx<'_>,
    lo: i64,
    hi: i64,
) -> Result<Vec<Src>, LayoutFault> {
    let x = ctx.operand(0)?;
    x.expect_len(ctx.numel())?;
    let b = width(lo, hi);
    (0..ctx.numel())
        .map(|i| {
            let src = x.src(i)?;
            let v = x.at(i)?;
            let cell = range_row(range, walk, v, -i128::from(lo), b)?;
            walk.bind(src, cell);
            if lo != hi {
                let cell = upper_row(range, walk, v, i128::from(hi), b)?;
                walk.bind(src, cell);
            }
            Ok(src)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use zkinfer_ir::{QOp, Trace};

    use crate::testing::*;

    /// `Check [lo, hi]` on 6 values bounded by 100, with the honest input `input`.
    fn check_fixture(lo: i64, hi: i64, input: Vec<i64>) -> Fixture {
        let graph = single_op(QOp::Check { lo, hi }, 6, 100, 6, 100, 1);
        fixture_of(graph, input)
    }

    /// The same circuit proving a trace whose input (and output) is `input`, whatever the
    /// check says: what a dishonest prover would try.
    fn forged(f: &Fixture, input: Vec<i64>) -> Fixture {
        Fixture {
            graph: f.graph.clone(),
            params: f.params.clone(),
            trace: Arc::new(Trace {
                tensors: vec![input.clone(), input.clone()],
            }),
            input,
        }
    }

    #[test]
    fn values_in_range_pass_including_both_limits() {
        check_fixture(-3, 7, vec![-3, 7, 0, 1, -2, 6])
            .mock(None)
            .expect("honest witness");
        check_fixture(4, 4, vec![4; 6])
            .mock(None)
            .expect("equal limits");
    }

    #[test]
    fn a_value_above_the_range_fails_the_upper_check() {
        let f = check_fixture(-3, 7, vec![-3, 7, 0, 1, -2, 6]);
        let bad = forged(&f, vec![-3, 7, 0, 8, -2, 6]);
        // Element 3's rows are 6 and 7; its upper row spells 7 - 8 = -1, a negative limb.
        let limb = overflowing_limb(-1, 4, &f.params);
        let out = bad.trace.get(1).expect("out").to_vec();
        assert_lookup_failure(
            bad.mock_with_output(None, &out),
            &format!("limb {limb} in range"),
            7,
        );
    }

    #[test]
    fn a_value_below_the_range_fails_the_lower_check() {
        let f = check_fixture(-3, 7, vec![-3, 7, 0, 1, -2, 6]);
        let bad = forged(&f, vec![-3, 7, 0, 1, -4, 6]);
        // Element 4's lower row (row 8) spells -4 + 3 = -1.
        let limb = overflowing_limb(-1, 4, &f.params);
        let out = bad.trace.get(1).expect("out").to_vec();
        assert_lookup_failure(
            bad.mock_with_output(None, &out),
            &format!("limb {limb} in range"),
            8,
        );
    }

    #[test]
    fn equal_limits_admit_that_value_alone() {
        let f = check_fixture(4, 4, vec![4; 6]);
        let bad = forged(&f, vec![4, 4, 5, 4, 4, 4]);
        // One row per element: element 2's row spells 5 - 4 = 1 in a 0-bit check.
        let limb = overflowing_limb(1, 0, &f.params);
        let out = bad.trace.get(1).expect("out").to_vec();
        assert_lookup_failure(
            bad.mock_with_output(None, &out),
            &format!("limb {limb} in range"),
            2,
        );
    }
}
