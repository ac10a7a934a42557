//! Deliberately wrong witnesses, for the negative tests that prove each constraint bites.
//! Only built with the `test-utils` feature (and in this crate's tests): the layout calls
//! one site function below, through `lay::tamper!`, on the witness of the one node element
//! a [`Corruption`] names. Production builds contain none of it.

use crate::chips::abs::AbsWitness;
use crate::chips::div::DivWitness;
use crate::chips::relu::ReluWitness;

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
    /// Flip an Abs row's sign bit and recompute `y = (1 - 2s)x`: the gate holds, the
    /// limbs cannot spell the negative `y`.
    AbsSign,
    /// Add `delta` to an Abs output.
    AbsOutput(i64),
    /// Set an Abs row's sign to `s` (not a bit) and `y = (1 - 2s)x`: with `x = 1, s = -1`,
    /// `y = 3` is small enough for the limbs, so only "s is a bit" can object.
    AbsSignValue(i64),
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
    /// Add `delta` to the first weight of a Linear dot product against advice weights and
    /// recompute its running sums: the gate holds, only the copy from the checked
    /// parameter cell can catch it.
    ParamWeight(i64),
    /// Give the first idle accumulator of a Linear group (against advice weights) the first
    /// weight `delta`, its running sums to match: the gate holds, only the copy of that weight
    /// from the zero cell can catch it. Aimed at the group's last output element.
    IdleWeight(i64),
    /// Put `delta` in the first padding weight of a Linear dot product against advice
    /// weights, with 1 in its activation lane, and add `delta` to the last running sum: the
    /// gate holds, only the copy from the zero cell can catch it.
    ParamPad(i64),
}

impl Corruption {
    /// The corruption's kind if it targets `node`/`element`.
    pub fn at(this: Option<&Corruption>, node: usize, element: usize) -> Option<CorruptionKind> {
        this.filter(|c| c.node == node && c.element == element)
            .map(|c| c.kind)
    }
}

// The corruption sites: each changes one kind of witness as its `CorruptionKind`s say and
// leaves it alone for every other kind.

/// Running sums of a dot product (Linear, Conv, MatMul): `LinearAcc`, `MatMulAcc`.
pub(crate) fn dot_sums(kind: CorruptionKind, sums: &mut Option<Vec<i64>>) {
    if let (CorruptionKind::LinearAcc(d) | CorruptionKind::MatMulAcc(d), Some(last)) =
        (kind, sums.as_mut().and_then(|s| s.last_mut()))
    {
        *last += d;
    }
}

/// The weights of a Linear dot product and its running sums: `ParamWeight`.
pub(crate) fn dot_weight(
    kind: CorruptionKind,
    w: &mut [i64],
    sums: &mut Option<Vec<i64>>,
    x: Option<&[i64]>,
    bias: i64,
    lanes: usize,
) {
    if let (CorruptionKind::ParamWeight(d), Some(first)) = (kind, w.first_mut()) {
        *first += d;
        *sums = x.map(|x| crate::chips::linear::running_sums(x, w, bias, lanes));
    }
}

/// A Linear dot product's weights and lanes, when its last row has padding: `ParamPad`.
pub(crate) fn dot_pad(
    kind: CorruptionKind,
    w: &mut Vec<i64>,
    lanes: &mut Vec<halo2_proofs::circuit::Value<halo2_proofs::halo2curves::bn256::Fr>>,
    sums: &mut Option<Vec<i64>>,
    width: usize,
) {
    if let CorruptionKind::ParamPad(d) = kind {
        if w.len() % width.max(1) != 0 {
            w.push(d);
            lanes.push(halo2_proofs::circuit::Value::known(
                halo2_proofs::halo2curves::bn256::Fr::one(),
            ));
            if let Some(last) = sums.as_mut().and_then(|s| s.last_mut()) {
                *last += d;
            }
        }
    }
}

/// The idle accumulators of a Linear group: `IdleWeight` adds one with a nonzero weight when
/// the group has a spare accumulator (`spare > 0`).
pub(crate) fn idle_weight(
    kind: CorruptionKind,
    idle: &mut Vec<(Vec<i64>, Option<Vec<i64>>)>,
    x: Option<&[i64]>,
    lanes: usize,
    spare: usize,
) {
    if let (CorruptionKind::IdleWeight(d), true) = (kind, spare > 0) {
        let mut w = vec![0; x.map_or(1, <[i64]>::len).max(1)];
        w[0] = d;
        let sums = x.map(|x| crate::chips::linear::running_sums(x, &w, 0, lanes));
        idle.push((w, sums));
    }
}

/// Lanes of a Conv dot product: `DotLane`.
pub(crate) fn dot_lanes(kind: CorruptionKind, lanes: &mut Option<Vec<i64>>) {
    if let (CorruptionKind::DotLane(d), Some(first)) =
        (kind, lanes.as_mut().and_then(|x| x.first_mut()))
    {
        *first += d;
    }
}

/// Lanes of a MatMul dot product: `DotLane`, and `MatMulPad` when the last row is padded.
pub(crate) fn matmul_lanes(
    kind: CorruptionKind,
    a: &mut Option<Vec<i64>>,
    b: &mut Option<Vec<i64>>,
    padded: bool,
) {
    match (kind, a.as_mut(), b.as_mut()) {
        (CorruptionKind::DotLane(d), Some(a), _) => {
            if let Some(first) = a.first_mut() {
                *first += d;
            }
        }
        (CorruptionKind::MatMulPad(d), Some(a), Some(b)) if padded => {
            a.push(1);
            b.push(d);
        }
        _ => {}
    }
}

/// A rescale row `(v, y, r)`: `RescaleOutput`, `RescaleRemainder`.
pub(crate) fn rescale(kind: CorruptionKind, w: &mut Option<(i64, i64, i64)>, shift: u32) {
    match (kind, w.as_mut()) {
        (CorruptionKind::RescaleOutput(d), Some(w)) => w.1 += d,
        (CorruptionKind::RescaleRemainder, Some(w)) => {
            w.1 -= 1;
            w.2 += 1i64 << shift;
        }
        _ => {}
    }
}

/// The value a row's own limbs spell (a rescale's `r`, a ReLU's `d`): `InlineLimbs`.
pub(crate) fn inline_limbs(kind: CorruptionKind, v: &mut Option<i128>) {
    if let (CorruptionKind::InlineLimbs(d), Some(v)) = (kind, v.as_mut()) {
        *v += d;
    }
}

/// A ReLU row: `ReluSign`, `ReluOutput`.
pub(crate) fn relu(kind: CorruptionKind, w: &mut Option<ReluWitness>) {
    match (kind, w.as_mut()) {
        (CorruptionKind::ReluSign, Some(w)) => {
            w.s = 1 - w.s;
            w.out = w.s * w.x;
            w.d = (2 * w.s - 1) * w.x + w.s - 1;
        }
        (CorruptionKind::ReluOutput(d), Some(w)) => w.out += d,
        _ => {}
    }
}

/// An Abs row: `AbsSign`, `AbsOutput`.
pub(crate) fn abs(kind: CorruptionKind, w: &mut Option<AbsWitness>) {
    match (kind, w.as_mut()) {
        (CorruptionKind::AbsSign, Some(w)) => {
            w.s = 1 - w.s;
            w.y = (1 - 2 * w.s) * w.x;
        }
        (CorruptionKind::AbsOutput(d), Some(w)) => w.y += d,
        (CorruptionKind::AbsSignValue(s), Some(w)) => {
            w.s = s;
            w.y = (1 - 2 * s) * w.x;
        }
        _ => {}
    }
}

/// An add row `(a, b, out)`: `AddOutput`.
pub(crate) fn add(kind: CorruptionKind, w: &mut Option<(i64, i64, i64)>) {
    if let (CorruptionKind::AddOutput(d), Some(w)) = (kind, w.as_mut()) {
        w.2 += d;
    }
}

/// A product row `(a, b, out)` (Mul, MulConst): `MulOutput`, `MulOperandB`.
pub(crate) fn mul(kind: CorruptionKind, w: &mut Option<(i64, i64, i64)>) {
    match (kind, w.as_mut()) {
        (CorruptionKind::MulOutput(d), Some(w)) => w.2 += d,
        (CorruptionKind::MulOperandB(d), Some(w)) => {
            w.1 += d;
            w.2 = w.0.wrapping_mul(w.1);
        }
        _ => {}
    }
}

/// A lookup row `(x, y)`: `LookupOutput`.
pub(crate) fn lookup(kind: CorruptionKind, w: &mut Option<(i64, i64)>) {
    if let (CorruptionKind::LookupOutput(d), Some(w)) = (kind, w.as_mut()) {
        w.1 += d;
    }
}

/// The `(m, x)` rows of one Max group: `MaxClaim`, `MaxLastRow`.
pub(crate) fn max(kind: CorruptionKind, rows: &mut Option<Vec<(i64, i64)>>) {
    match (kind, rows.as_mut()) {
        (CorruptionKind::MaxClaim(delta), Some(rows)) => {
            rows.iter_mut().for_each(|r| r.0 += delta);
        }
        (CorruptionKind::MaxLastRow, Some(rows)) => {
            if let Some(last) = rows.last_mut() {
                last.0 = last.1;
            }
        }
        _ => {}
    }
}

/// A division row: `DivOutput`, `DivQuotient`.
pub(crate) fn div(kind: CorruptionKind, w: &mut Option<DivWitness>) {
    match (kind, w.as_mut()) {
        (CorruptionKind::DivOutput(d), Some(w)) => w.y += d,
        (CorruptionKind::DivQuotient(d), Some(w)) => {
            w.y += d;
            w.r -= 2 * i128::from(w.b) * i128::from(d);
        }
        _ => {}
    }
}
