//! A malicious prover against every chip. Each attack takes the honest witness of a small
//! model, rewrites cells the way a cheating prover would (keeping every constraint it can
//! satisfy), makes a real SHPLONK proof of it, and checks that the offline verifier's proof
//! check and the Solidity verifier, called directly with the calldata, both reject it. No
//! Rust-side public-value check runs before either: the circuit alone must refuse.
//!
//! A control proves the unchanged honest witness through the same path and checks both
//! verifiers accept it, so a rejection is the circuit's doing, not the harness's.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::attack::*;
use halo2_proofs::halo2curves::bn256::Fr;
use zkinfer::circuits::field::fr_from_i64;
use zkinfer::circuits::plan;
use zkinfer::ir::testkit::single_op;
use zkinfer::ir::QOp;

/// `y = 2x` on one input bounded by 100.
fn doubling() -> Target {
    doubling_bounded(100)
}

/// `y = 2x` on one input bounded by `bound`, proven for `x = 21`.
fn doubling_bounded(bound: u64) -> Target {
    let op = QOp::Linear {
        weight: vec![2],
        bias: vec![0],
        n_in: 1,
        n_out: 1,
    };
    target(single_op(op, 1, bound, 1, 2 * bound, 1), &[21])
}

#[test]
fn the_harness_proves_an_honest_witness_that_both_verifiers_accept() {
    let t = doubling();
    let (instances, advice) = t.honest();
    t.submit(&instances, advice).assert_accepted();
}

/// The attack that was open on-chain: `x = t / 2 mod p` makes `2x = t` for any `t`.
/// Linear gate and copies hold; only the input's bound rows object.
#[test]
fn a_wrapped_input_is_rejected_offline_and_on_chain() {
    let t = doubling();
    let (_, mut w) = t.honest();
    let claim = Fr::from(1_000_000_000_000u64);
    let x = claim * Fr::from(2u64).invert().unwrap();
    // x sits in the lane cell and both bound rows; 2x = 42 in the accumulator.
    assert_eq!(replace(&mut w, fr_from_i64(21), x), 3);
    assert_eq!(replace(&mut w, fr_from_i64(42), claim), 1);
    // The best limbs a prover can write: all of `x + B` (and `B - x`) in the top limb, so
    // the decomposition gates hold and only the limb lookups can object.
    let rows = t.input_check_rows();
    let bound = Fr::from(100u64);
    t.set_top_limb(&mut w, rows[0], x + bound);
    t.set_top_limb(&mut w, rows[1], bound - x);
    t.submit(&[x, claim], w).assert_rejected("wrapped input");
}

/// The same input one past the bound, with limbs that spell it: the upper row objects.
#[test]
fn an_input_past_the_bound_is_rejected() {
    let t = doubling();
    let (_, mut w) = t.honest();
    assert_eq!(replace(&mut w, fr_from_i64(21), fr_from_i64(101)), 3);
    assert_eq!(replace(&mut w, fr_from_i64(42), fr_from_i64(202)), 1);
    t.forge_input(&mut w, 0, fr_from_i64(101), 201, -1);
    t.submit(&[fr_from_i64(101), fr_from_i64(202)], w)
        .assert_rejected("input past the bound");
}

/// The same input with in-range limbs on the upper row (`B - x` spelled as 0): every lookup
/// holds, so only the upper-bound gate `offset - value = sum of limbs` can object.
#[test]
fn an_input_past_the_bound_with_honest_looking_limbs_fails_the_upper_gate() {
    let t = doubling();
    let (_, mut w) = t.honest();
    assert_eq!(replace(&mut w, fr_from_i64(21), fr_from_i64(101)), 3);
    assert_eq!(replace(&mut w, fr_from_i64(42), fr_from_i64(202)), 1);
    t.forge_input(&mut w, 0, fr_from_i64(101), 201, 0);
    t.submit(&[fr_from_i64(101), fr_from_i64(202)], w)
        .assert_rejected("upper gate");
}

/// The wrapped input against a power-of-two bound (128, checked in one row): `x + 128` spelled in the top limb, the gate
/// holds, only the limb lookup objects, offline and on-chain.
#[test]
fn a_wrapped_input_is_rejected_by_the_one_row_bound() {
    let t = doubling_bounded(128);
    let (instances, honest) = t.honest();
    t.submit(&instances, honest.clone()).assert_accepted();
    let mut w = honest;
    let claim = Fr::from(1_000_000_000_000u64);
    let x = claim * Fr::from(2u64).invert().unwrap();
    assert_eq!(replace(&mut w, fr_from_i64(21), x), 2);
    assert_eq!(replace(&mut w, fr_from_i64(42), claim), 1);
    t.set_top_limb(&mut w, t.input_check_rows()[0], x + Fr::from(128u64));
    t.submit(&[x, claim], w)
        .assert_rejected("wrapped input, one-row bound");
}

/// `x = 128`, the one value `|x| <= 128` admits that the one-row check does not: `x + 128 =
/// 256` needs a ninth bit, so even its honest limbs fail the lookup.
#[test]
fn the_bound_itself_is_refused_by_the_one_row_check() {
    let t = doubling_bounded(128);
    let (_, mut w) = t.honest();
    assert_eq!(replace(&mut w, fr_from_i64(21), fr_from_i64(128)), 2);
    assert_eq!(replace(&mut w, fr_from_i64(42), fr_from_i64(256)), 1);
    t.set_limbs(&mut w, t.input_check_rows()[0], 256, 8);
    t.submit(&[fr_from_i64(128), fr_from_i64(256)], w)
        .assert_rejected("x = B past the one-row range");
}

/// A crafted `model.zkm` with a one-operand Add whose `coef_b` is 1 (`out = a + b`, `b`
/// tied to nothing). Validation refuses it; with keys made past validation, the layout
/// still gives `b` a zero coefficient, so a prover's `b = 5, out = a + 5` fails the gate.
#[test]
fn a_free_operand_cell_cannot_move_the_output() {
    let op = QOp::Add {
        coef_a: 1,
        coef_b: 1,
        constant: vec![],
    };
    let g = single_op(op, 1, 100, 1, 200, 1);
    let err = plan(&g).unwrap_err().to_string();
    assert!(
        err.contains("node `op` (Add)") && err.contains("coef_b"),
        "{err}"
    );
    let mut honest = g.clone();
    if let QOp::Add { coef_b, .. } = &mut honest.nodes[0].op {
        *coef_b = 0;
    }
    let params = plan(&honest).unwrap().params;
    let t = target_unchecked(g, params, &[21]);
    let (_, mut w) = t.honest();
    assert_eq!(get(&w, t.config.add.a, 0), fr_from_i64(21));
    set(&mut w, t.config.add.b, 0, fr_from_i64(5));
    set(&mut w, t.config.add.out, 0, fr_from_i64(26));
    t.submit(&[fr_from_i64(21), fr_from_i64(26)], w)
        .assert_rejected("free operand cell");
}

/// Rescale by 4 bits of 37: `y = 2, r = 13`. Claiming `y = 3` with `r = -3` keeps
/// `v + 8 = 16y + r`; the remainder's limbs cannot spell a negative number.
#[test]
fn an_out_of_range_rescale_remainder_is_rejected() {
    let t = target(single_op(QOp::Rescale { shift: 4 }, 1, 100, 1, 7, 1), &[37]);
    assert_eq!(t.output(), &[2]);
    let (_, mut w) = t.honest();
    let rs = &t.config.rescale;
    assert_eq!(
        (get(&w, rs.y, 0), get(&w, rs.r, 0)),
        (fr_from_i64(2), fr_from_i64(13))
    );
    assert_eq!(get(&w, t.config.range.value, 1), fr_from_i64(2));
    set(&mut w, rs.y, 0, fr_from_i64(3));
    set(&mut w, rs.r, 0, fr_from_i64(-3));
    t.set_limbs(&mut w, 0, -3, 4);
    // Row 1 range-checks y + 7 on 4 bits.
    set(&mut w, t.config.range.value, 1, fr_from_i64(3));
    t.set_limbs(&mut w, 1, 10, plan::signed_bits(7));
    t.submit(&[fr_from_i64(37), fr_from_i64(3)], w)
        .assert_rejected("rescale remainder");
}

/// ReLU of -5 is 0. Flipping the sign bit claims `out = -5`: `s` is a bit and `out = s·x`
/// hold, so `d = (2s - 1)x + s - 1 = -5` must be range-checked, and fails.
#[test]
fn a_wrong_relu_sign_bit_is_rejected() {
    let t = target(single_op(QOp::Relu, 1, 100, 1, 100, 1), &[-5]);
    let (_, mut w) = t.honest();
    let r = &t.config.relu;
    assert_eq!(
        (get(&w, r.x, 0), get(&w, r.s, 0)),
        (fr_from_i64(-5), Fr::zero())
    );
    set(&mut w, r.s, 0, Fr::one());
    set(&mut w, r.out, 0, fr_from_i64(-5));
    set(&mut w, r.d, 0, fr_from_i64(-5));
    t.set_limbs(&mut w, 0, -5, plan::bits(100));
    t.submit(&[fr_from_i64(-5), fr_from_i64(-5)], w)
        .assert_rejected("relu sign bit");
}

/// max(3, 9, -2, 5) = 9. Claiming 5 (an element, so the product of gaps is 0) makes the
/// gap of 9 negative, and its range row fails.
#[test]
fn a_wrong_max_is_rejected() {
    let input = [3, 9, -2, 5];
    let t = target(single_op(QOp::Max { group: 4 }, 4, 100, 1, 100, 1), &input);
    let (_, mut w) = t.honest();
    let m = t.config.max.as_ref().unwrap();
    assert_eq!(get(&w, m.m, 3), fr_from_i64(9));
    assert_eq!(get(&w, t.config.range.value, 5), fr_from_i64(0));
    let claim = 5i64;
    let mut product = Fr::one();
    let bits = plan::bits(200);
    for (i, &x) in input.iter().enumerate() {
        let d = claim - x;
        product *= fr_from_i64(d);
        set(&mut w, m.m, i, fr_from_i64(claim));
        set(&mut w, m.d, i, fr_from_i64(d));
        set(&mut w, m.p, i, product);
        // The gap's range row follows the group's four rows.
        set(&mut w, t.config.range.value, 4 + i, fr_from_i64(d));
        t.set_limbs(&mut w, 4 + i, i128::from(d), bits);
    }
    assert_eq!(product, Fr::zero());
    let mut instances: Vec<Fr> = input.iter().map(|&v| fr_from_i64(v)).collect();
    instances.push(fr_from_i64(claim));
    t.submit(&instances, w).assert_rejected("wrong max");
}

/// `x / x` with 0 extra bits for x = 3: `y = floor(9 / 6) = 1`, `r = 3`, `t = 2b - 1 - r = 2`.
/// Claiming `y = 2` with `r = -3` and `t = 8` keeps both division constraints; the
/// remainder's range row fails.
#[test]
fn an_out_of_range_division_remainder_is_rejected() {
    let t = target(single_op(QOp::Div { shift: 0 }, 1, 100, 1, 10, 2), &[3]);
    assert_eq!(t.output(), &[1]);
    let (_, mut w) = t.honest();
    let d = t.config.div.as_ref().unwrap();
    assert_eq!(
        (get(&w, d.y, 0), get(&w, d.r, 0)),
        (fr_from_i64(1), fr_from_i64(3))
    );
    assert_eq!(get(&w, t.config.range.value, 1), fr_from_i64(2));
    assert_eq!(get(&w, t.config.range.value, 2), fr_from_i64(3));
    let c = plan::bits(200);
    set(&mut w, d.y, 0, fr_from_i64(2));
    set(&mut w, d.r, 0, fr_from_i64(-3));
    // Rows 1, 2, 3 range-check t, r and y + 10.
    let v = t.config.range.value;
    set(&mut w, v, 1, fr_from_i64(8));
    t.set_limbs(&mut w, 1, 8, c);
    set(&mut w, v, 2, fr_from_i64(-3));
    t.set_limbs(&mut w, 2, -3, c);
    set(&mut w, v, 3, fr_from_i64(2));
    t.set_limbs(&mut w, 3, 12, plan::signed_bits(10));
    t.submit(&[fr_from_i64(3), fr_from_i64(2)], w)
        .assert_rejected("division remainder");
}

/// A table `T[x] = x²` on `-4..=4`. For input 2 the prover looks up the pair `(3, 9)`
/// instead: a real table row, so the lookup holds; only the copy of the argument from the
/// input can object.
#[test]
fn a_lookup_of_another_table_row_is_rejected() {
    let mut g = single_op(QOp::Lookup { table: 0 }, 1, 4, 1, 16, 1);
    g.tables.push(zkinfer::ir::Table {
        name: "square".into(),
        in_scale: 0,
        out_scale: 0,
        lo: -4,
        values: (-4i64..=4).map(|v| v * v).collect(),
    });
    let t = target(g, &[2]);
    assert_eq!(t.output(), &[4]);
    let (_, mut w) = t.honest();
    let l = t.config.lookup.as_ref().unwrap();
    assert_eq!(
        (get(&w, l.x, 0), get(&w, l.y, 0)),
        (fr_from_i64(2), fr_from_i64(4))
    );
    set(&mut w, l.x, 0, fr_from_i64(3));
    set(&mut w, l.y, 0, fr_from_i64(9));
    t.submit(&[fr_from_i64(2), fr_from_i64(9)], w)
        .assert_rejected("lookup of another row");
}

/// `x · x` as a 1×1×1 MatMul of x = 6: 36. The dot product has padding lanes, which must
/// copy a cell pinned to zero. Filling one with `1 · 14` makes every gate hold for a claimed
/// 50; only the copies from the zero cell can object.
#[test]
fn a_nonzero_matmul_padding_lane_is_rejected() {
    let op = QOp::MatMul {
        batch: 1,
        m: 1,
        k: 1,
        n: 1,
    };
    let g = single_op(op, 1, 100, 1, 10_000, 2);
    // Four linear lanes make a pool of 5 columns: 2 bilinear lanes, one of them padding.
    let mut params = plan(&g).unwrap().params;
    params.lanes = 4;
    let t = target_unchecked(g, params, &[6]);
    let (_, mut w) = t.honest();
    let b = t.config.bilinear.as_ref().unwrap();
    assert!(b.a.len() > 1, "the layout needs a padding lane");
    // Row 0 is the zero cell's row; the dot product is row 1, its lane 0 the operands.
    assert_eq!(get(&w, b.acc, 1), fr_from_i64(36));
    set(&mut w, b.a[1], 1, Fr::one());
    set(&mut w, b.b[1], 1, fr_from_i64(14));
    set(&mut w, b.acc, 1, fr_from_i64(50));
    t.submit(&[fr_from_i64(6), fr_from_i64(50)], w)
        .assert_rejected("matmul padding lane");
}
