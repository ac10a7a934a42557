//! Unit tests of the op paths and of the candle i64 behavior they rely on.

use candle_core::{DType, Device, Tensor};
use zkinfer_models::semantics;

use crate::ops::{
    linear_f64, linear_i64, linear_path, linear_worst_case, rescale, rescale_f64, rescale_i64,
    LinearPath, F64_EXACT,
};

fn i64s(t: &Tensor) -> Vec<i64> {
    t.flatten_all()
        .and_then(|t| t.to_vec1::<i64>())
        .expect("i64 values")
}

fn tensor(values: &[i64]) -> Tensor {
    Tensor::from_slice(values, values.len(), &Device::Cpu).expect("tensor")
}

#[test]
fn candle_i64_division_truncates_toward_zero() {
    let x = tensor(&[-7, 7, -8, -1, i64::MIN]);
    let two = Tensor::new(2i64, &Device::Cpu).expect("scalar");
    let q = x.broadcast_div(&two).expect("div");
    assert_eq!(i64s(&q), vec![-3, 3, -4, 0, i64::MIN / 2]);
}

#[test]
fn candle_i64_scalar_div_and_affine_truncate_the_factor() {
    // `t / 4.0` is `affine(0.25, 0)`, and on I64 the factor is cast to i64 first: 0.
    let x = tensor(&[-8, 8, 100]);
    assert_eq!(i64s(&(&x / 4.0).expect("div")), vec![0, 0, 0]);
    assert_eq!(i64s(&x.affine(0.5, 0.0).expect("affine")), vec![0, 0, 0]);
    assert_eq!(
        i64s(&x.affine(3.0, 1.0).expect("affine")),
        vec![-23, 25, 301]
    );
}

#[test]
fn candle_f64_to_i64_truncates_and_floor_rounds_down() {
    let x = Tensor::new(&[-2.5f64, 2.5, -0.5], &Device::Cpu).expect("tensor");
    assert_eq!(i64s(&x.to_dtype(DType::I64).expect("cast")), vec![-2, 2, 0]);
    let floored = x
        .floor()
        .and_then(|t| t.to_dtype(DType::I64))
        .expect("floor");
    assert_eq!(i64s(&floored), vec![-3, 2, -1]);
}

#[test]
fn linear_path_follows_the_worst_case() {
    let w = [3, -4];
    assert_eq!(linear_worst_case(&w, &[5], 2, 10), 75);
    assert_eq!(linear_path(&w, F64_EXACT - 1), Some(LinearPath::F64));
    assert_eq!(linear_path(&w, F64_EXACT), Some(LinearPath::I64));
    assert_eq!(linear_path(&w, i64::MAX as u128), Some(LinearPath::I64));
    assert_eq!(linear_path(&w, i64::MAX as u128 + 1), None);
    // A weight that is not exact in f64 forces the i64 path even with a zero input bound.
    let huge = [(1i64 << 53) + 1];
    assert_eq!(
        linear_path(&huge, linear_worst_case(&huge, &[0], 1, 0)),
        Some(LinearPath::I64)
    );
}

#[test]
fn f64_linear_is_inexact_beyond_2_pow_53() {
    // Shows why the i64 path exists: 2^60 + 2^30 + 1 needs 61 bits.
    let x_vals = [(1i64 << 30) + 1, 1];
    let weight = [1i64 << 30, 1];
    let reference = semantics::linear(&x_vals, &weight, &[0], 2, 1).expect("reference");
    let x = Tensor::from_slice(&x_vals, (1, 2), &Device::Cpu).expect("x");
    let got = linear_f64(&x, &weight, &[0], 2, 1, &Device::Cpu).expect("f64 linear");
    assert_eq!(reference, vec![(1i64 << 60) + (1 << 30) + 1]);
    assert_ne!(i64s(&got), reference);
}

#[test]
fn linear_i64_chunks_agree_with_the_reference() {
    let (rows, n_in, n_out) = (3usize, 5usize, 7usize);
    let x_vals: Vec<i64> = (0..rows * n_in).map(|i| (i as i64 - 7) << 30).collect();
    let weight: Vec<i64> = (0..n_in * n_out)
        .map(|i| (i as i64 % 11 - 5) << 18)
        .collect();
    let bias: Vec<i64> = (0..n_out).map(|j| (j as i64 - 3) << 50).collect();
    let want = semantics::linear(&x_vals, &weight, &bias, n_in, n_out).expect("reference");
    let x = Tensor::from_slice(&x_vals, (rows, n_in), &Device::Cpu).expect("x");
    for max_elems in [1, 15, 16, 45, 1 << 20] {
        let got = linear_i64(&x, &weight, &bias, (n_in, n_out), max_elems, &Device::Cpu)
            .expect("i64 linear");
        assert_eq!(i64s(&got), want, "chunk limit {max_elems}");
    }
}

/// Values around every multiple of 2^shift near zero and near the given extremes.
fn rescale_cases(shift: u32, max_abs: i64) -> Vec<i64> {
    let mut values = vec![0, 1, -1, max_abs, -max_abs, max_abs - 1, 1 - max_abs];
    let half = 1i64 << (shift - 1);
    for k in -3i64..=3 {
        let centre = k.saturating_mul(1 << shift).saturating_sub(half);
        for delta in -1..=1 {
            values.push(centre.saturating_add(delta));
        }
    }
    values.retain(|v| v.unsigned_abs() <= max_abs.unsigned_abs());
    values
}

#[test]
fn rescale_i64_matches_the_reference_for_every_shift() {
    for shift in 1..=62 {
        let mut values = rescale_cases(shift, i64::MAX);
        values.extend([i64::MIN, i64::MIN + 1]);
        let got = rescale_i64(&tensor(&values), shift, &Device::Cpu).expect("rescale");
        let want: Vec<i64> = values
            .iter()
            .map(|&v| semantics::rescale(v, shift))
            .collect();
        assert_eq!(i64s(&got), want, "shift {shift}");
    }
}

#[test]
fn rescale_f64_matches_the_reference_up_to_2_pow_53() {
    for shift in 1..=52 {
        let max_abs = (1i64 << 53) - (1 << (shift - 1)) - 1;
        let values = rescale_cases(shift, max_abs);
        let got = rescale_f64(&tensor(&values), shift).expect("rescale");
        let want: Vec<i64> = values
            .iter()
            .map(|&v| semantics::rescale(v, shift))
            .collect();
        assert_eq!(i64s(&got), want, "shift {shift}");
    }
}

#[test]
fn rescale_handles_shifts_of_63_and_more() {
    let limit = 1i64 << 62;
    let values = [i64::MIN, -limit - 1, -limit, 0, limit - 1, limit, i64::MAX];
    for shift in [0, 63, 64, 100] {
        let got = rescale(&tensor(&values), u64::MAX, shift, &Device::Cpu).expect("rescale");
        let want: Vec<i64> = values
            .iter()
            .map(|&v| semantics::rescale(v, shift))
            .collect();
        assert_eq!(i64s(&got), want, "shift {shift}");
    }
}
