//! Deliberately wrong witnesses, for the negative tests that prove each constraint bites.
//! The layout applies a [`Corruption`] to exactly one node element; nothing outside tests
//! sets one.

/// One wrong witness cell (or a consistent set of wrong cells that keeps the gate happy
/// so that only the range check can catch it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corruption {
    /// Index of the node (in `QGraph::nodes`).
    pub node: usize,
    /// Flat element index within the node's output.
    pub element: usize,
    /// What to change.
    pub kind: CorruptionKind,
}

/// The kinds of corruption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorruptionKind {
    /// Add `delta` to the final accumulator of a dot product against fixed weights
    /// (Linear, Conv).
    LinearAcc(i64),
    /// Add `delta` to a rescale output (the copy in its range row follows).
    RescaleOutput(i64),
    /// Use `r + 2^k` and `y - 1`: the rescale gate holds, the remainder range check fails.
    RescaleRemainder,
    /// Spell `delta` more than the checked value (a rescale's `r`, a ReLU's `d`) in the
    /// range limbs of its row: only the "its limbs" constraint can object.
    InlineLimbs(i128),
    /// Flip the ReLU sign bit and recompute `out` and `d`: the gate holds, `d`'s range check fails.
    ReluSign,
    /// Add `delta` to a ReLU output.
    ReluOutput(i64),
    /// Add `delta` to an add output.
    AddOutput(i64),
    /// Add `delta` to a looked-up value: the function-table lookup fails.
    LookupOutput(i64),
    /// Add `delta` to a group's claimed max on every row, recomputing `d` and `p`: the
    /// gates hold, so only `p = 0` on the last row or a range check on `d` can object.
    MaxClaim(i64),
    /// Set the last row's `m` to that row's element, with `d = p = 0` there: only the
    /// constraint tying `m` to the previous row can object.
    MaxLastRow,
    /// Add `delta` to a quotient, leaving the remainder: the division gate fails.
    DivOutput(i64),
    /// Add `delta` to a quotient and subtract `2b·delta` from the remainder (and follow
    /// with `t`): the gates hold, the range check on `r` or `t` fails.
    DivQuotient(i64),
    /// Add `delta` to a Mul or MulConst output.
    MulOutput(i64),
    /// Add `delta` to the second operand of a Mul and recompute the output: the gate holds,
    /// only the copy from the operand's source can catch it.
    MulOperandB(i64),
    /// Add `delta` to the final accumulator of a MatMul dot product.
    MatMulAcc(i64),
    /// Add `delta` to the first lane of a Conv or MatMul dot product and shift the running
    /// sums to match: the gate holds, only the copy from the lane's source can catch it.
    DotLane(i64),
    /// Set the first padding lane of a MatMul dot product to `a = 1, b = delta` and add
    /// `delta` to the accumulator: the gate holds, only the copies from the zero cell can
    /// catch it.
    MatMulPad(i64),
}

impl Corruption {
    /// The corruption's kind if it targets `node`/`element`.
    pub fn at(this: Option<&Corruption>, node: usize, element: usize) -> Option<CorruptionKind> {
        this.filter(|c| c.node == node && c.element == element)
            .map(|c| c.kind)
    }
}
