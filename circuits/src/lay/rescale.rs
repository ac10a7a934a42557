//! Layout of `Rescale`: per element, the rescale row (its remainder range-checked in the
//! same row's limbs), then a range row for the output, and an upper row on the same cell
//! when the declared bound is tighter than the one the operand implies (an interpolation
//! correction, say), so later nodes may rely on `|y| <= B`.

use zkinfer_ir::semantics::rescale_remainder;

use crate::chips::range::RangeConfig;
use crate::chips::rescale::RescaleConfig;
use crate::error::LayoutFault;
use crate::field::signed_bits;
use crate::lay::ctx::{NodeCtx, Src, Walk};
use crate::lay::range_row::{range_row, upper_row};
use crate::lay::{tamper, NodeRows, RowsCtx};

/// Rows: two per element (three with an upper row); checks of `shift` bits (remainder)
/// and of the output's bound.
pub(crate) fn rows(rc: &RowsCtx<'_>, shift: u32) -> NodeRows {
    let per = if rc.graph.has_calibrated_bound(rc.node) {
        3
    } else {
        2
    };
    NodeRows {
        rows: per * rc.numel(),
        range_bits: shift.max(signed_bits(rc.node.out.bound)),
    }
}

/// `y = round_half_up(v / 2^shift)`, with `v = y·2^shift - 2^(shift-1) + r`, `r ∈ [0, 2^shift)`.
pub(crate) fn lay(
    rescale: &RescaleConfig,
    range: &RangeConfig,
    walk: &mut Walk<'_, '_>,
    ctx: &NodeCtx<'_>,
    shift: u32,
) -> Result<Vec<Src>, LayoutFault> {
    let x = ctx.operand(0)?;
    x.expect_len(ctx.numel())?;
    let y_bits = signed_bits(ctx.node.out.bound);
    let y_off = i128::from(ctx.node.out.bound);
    let upper = ctx.graph.has_calibrated_bound(ctx.node);
    let mut out = Vec::with_capacity(ctx.numel());
    for (i, src) in x.src.iter().enumerate() {
        let mut w = match (x.at(i)?, ctx.out_at(i)?) {
            (Some(v), Some(y)) => Some((v, y, rescale_remainder(v, shift))),
            _ => None,
        };
        tamper!(ctx, i, rescale(&mut w, shift));
        let row = walk.take(1);
        let cells = rescale.assign(walk.region, row, shift, w)?;
        walk.bind(*src, cells.v);
        let mut r = w.map(|w| i128::from(w.2));
        tamper!(ctx, i, inline_limbs(&mut r));
        range.assign_limbs(walk.region, row, r, shift)?;
        let y_cell = range_row(range, walk, w.map(|w| w.1), y_off, y_bits)?;
        walk.region.constrain_equal(cells.y, y_cell);
        if upper {
            let above = upper_row(range, walk, w.map(|w| w.1), y_off, y_bits)?;
            walk.region.constrain_equal(cells.y, above);
        }
        out.push(Src::Cell(cells.y));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use zkinfer_ir::{QOp, Trace};

    use crate::testing::*;

    /// `Rescale` by 2 of 4 values bounded by 100 (implied output bound 25), declared `out`.
    fn rescale_fixture(out: u64, input: Vec<i64>) -> Fixture {
        fixture_of(
            single_op(QOp::Rescale { shift: 2 }, 4, 100, 4, out, 1),
            input,
        )
    }

    #[test]
    fn a_tight_declared_bound_gets_an_upper_row_and_honest_values_pass() {
        let tight = rescale_fixture(10, vec![4, -8, 38, 0]);
        let loose = rescale_fixture(25, vec![4, -8, 38, 0]);
        let rows = |f: &Fixture| {
            crate::lay::rows(
                &f.graph,
                &f.graph.nodes[0],
                crate::config::DotShape::new(1, 1),
            )
            .rows
        };
        assert_eq!((rows(&tight), rows(&loose)), (12, 8));
        tight.mock(None).expect("honest witness, tight bound");
        loose.mock(None).expect("honest witness, implied bound");
    }

    #[test]
    fn a_quotient_past_a_tight_declared_bound_fails_the_upper_row() {
        let f = rescale_fixture(10, vec![4, -8, 38, 0]);
        // 60 rescales to 15: within the lower row's reach (15 + 10 < 2^5), past the bound.
        let input = vec![4, -8, 60, 0];
        let out = vec![1, -2, 15, 0];
        let bad = Fixture {
            graph: f.graph.clone(),
            params: f.params.clone(),
            trace: Arc::new(Trace {
                tensors: vec![input.clone(), out.clone()],
            }),
            input,
        };
        // Element 2's rows are 6, 7 and 8; its upper row spells 10 - 15 = -5.
        let limb = overflowing_limb(-5, 5, &f.params);
        assert_lookup_failure(
            bad.mock_with_output(None, &out),
            &format!("limb {limb} in range"),
            8,
        );
    }
}
