//! Unit tests of the op paths and of the candle i64 behavior they rely on.

use candle_core::{DType, Device, Tensor};
use zkinfer_ir::geometry::ConvGeom;
use zkinfer_ir::semantics;

use crate::ops::{
    conv_f64, conv_i64, div_i64, linear_f64, linear_i64, linear_path, linear_worst_case,
    matmul_f64, matmul_i64, rescale, rescale_f64, rescale_i64, ConvDims, LinearPath, F64_EXACT,
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

#[test]
fn candle_i64_max_min_and_index_select_work_on_cpu() {
    let x = Tensor::from_slice(
        &[-5i64, i64::MIN, 3, i64::MAX, -1, -2],
        (3, 2),
        &Device::Cpu,
    )
    .expect("x");
    assert_eq!(i64s(&x.max(1).expect("max")), vec![-5, i64::MAX, -1]);
    let min_all = x.min_all().and_then(|m| m.to_scalar::<i64>());
    assert_eq!(min_all.expect("min_all"), i64::MIN);
    let flat = x.flatten_all().expect("flat");
    let u32_ids = Tensor::new(&[5u32, 0, 3], &Device::Cpu).expect("ids");
    let i64_ids = Tensor::new(&[5i64, 0, 3], &Device::Cpu).expect("ids");
    for ids in [u32_ids, i64_ids] {
        let got = flat.index_select(&ids, 0).expect("index_select");
        assert_eq!(i64s(&got), vec![-2, -5, i64::MAX]);
    }
}

#[test]
fn div_i64_floors_like_the_reference() {
    let mut a = Vec::new();
    let mut b = Vec::new();
    for x in -40i64..=40 {
        for d in 1i64..=9 {
            a.push(x);
            b.push(d);
        }
    }
    for shift in [0, 1, 3, 8] {
        let got = div_i64(&tensor(&a), &tensor(&b), shift, &Device::Cpu).expect("div");
        let want: Vec<i64> = a
            .iter()
            .zip(&b)
            .map(|(&x, &d)| semantics::div_round(x, d, shift).expect("reference"))
            .collect();
        assert_eq!(i64s(&got), want, "shift {shift}");
    }
    // Near i64: 3 * 2^61 + 2^58 < 2^63 at shift 60.
    let a = [3i64, -3, 1, -1, 0, -3];
    let b = [1i64, 3, 7, 1 << 58, 5, (1 << 58) - 1];
    let got = div_i64(&tensor(&a), &tensor(&b), 60, &Device::Cpu).expect("div");
    let want: Vec<i64> = a
        .iter()
        .zip(&b)
        .map(|(&x, &d)| semantics::div_round(x, d, 60).expect("reference"))
        .collect();
    assert_eq!(i64s(&got), want);
    // Shift 62: 2^63 is not an i64, but a = 0 keeps every step in range.
    let got = div_i64(
        &tensor(&[0, 0]),
        &tensor(&[1, i64::MAX / 2]),
        62,
        &Device::Cpu,
    )
    .expect("div");
    assert_eq!(i64s(&got), vec![0, 0]);
}

#[test]
fn matmul_paths_agree_with_the_reference() {
    let (batch, m, k, n) = (2usize, 3usize, 4usize, 5usize);
    let a_vals: Vec<i64> = (0..batch * m * k)
        .map(|i| (i as i64 * 7 % 13) - 6)
        .collect();
    let b_vals: Vec<i64> = (0..batch * k * n)
        .map(|i| (i as i64 * 5 % 11) - 5)
        .collect();
    let want = semantics::matmul(&a_vals, &b_vals, batch, m, k, n).expect("reference");
    let a = Tensor::from_slice(&a_vals, (batch, m, k), &Device::Cpu).expect("a");
    let b = Tensor::from_slice(&b_vals, (batch, k, n), &Device::Cpu).expect("b");
    assert_eq!(i64s(&matmul_f64(&a, &b).expect("f64")), want);
    for max_elems in [1, 24, 25, 48, 1 << 20] {
        let got = matmul_i64(&a, &b, max_elems).expect("i64");
        assert_eq!(i64s(&got), want, "chunk limit {max_elems}");
    }
    // Beyond 2^53 only the i64 path is exact.
    let a_big: Vec<i64> = a_vals.iter().map(|v| v << 28).collect();
    let b_big: Vec<i64> = b_vals.iter().map(|v| (v << 28) + 1).collect();
    let want = semantics::matmul(&a_big, &b_big, batch, m, k, n).expect("reference");
    let a = Tensor::from_slice(&a_big, (batch, m, k), &Device::Cpu).expect("a");
    let b = Tensor::from_slice(&b_big, (batch, k, n), &Device::Cpu).expect("b");
    assert_eq!(i64s(&matmul_i64(&a, &b, 7).expect("i64")), want);
}

fn conv_geom(
    (in_channels, in_h, in_w, out_channels): (usize, usize, usize, usize),
    kernel: [usize; 2],
    stride: [usize; 2],
    pads: [usize; 4],
    dilation: [usize; 2],
    groups: usize,
) -> ConvGeom {
    ConvGeom {
        in_channels,
        in_h,
        in_w,
        out_channels,
        kernel,
        stride,
        pads,
        dilation,
        groups,
    }
}

/// Geometries covering what candle's `conv2d` cannot take directly.
fn conv_geoms() -> Vec<ConvGeom> {
    vec![
        conv_geom((2, 5, 6, 3), [3, 3], [1, 1], [0; 4], [1, 1], 1),
        conv_geom((2, 5, 6, 4), [3, 2], [2, 2], [1; 4], [1, 1], 2),
        conv_geom((3, 7, 6, 2), [2, 3], [1, 2], [2, 0, 1, 1], [1, 1], 1),
        conv_geom((4, 8, 9, 4), [3, 2], [3, 1], [1, 2, 0, 2], [2, 3], 4),
        conv_geom((2, 6, 7, 2), [2, 2], [2, 2], [0; 4], [3, 1], 1),
        conv_geom((1, 4, 4, 3), [1, 1], [1, 1], [0; 4], [1, 1], 1),
        conv_geom((6, 5, 5, 3), [1, 1], [2, 1], [1, 0, 0, 1], [1, 1], 3),
        conv_geom((1, 3, 3, 1), [5, 5], [1, 1], [1, 1, 1, 1], [1, 1], 1),
    ]
}

#[test]
fn conv_paths_agree_with_the_reference_on_every_geometry() {
    for (gi, geom) in conv_geoms().iter().enumerate() {
        assert!(geom.is_valid(), "geometry #{gi}");
        let dims = ConvDims::of(geom).expect("valid geometry");
        assert_eq!(
            (dims.out_h, dims.out_w, dims.in_numel, dims.weight_len),
            (
                geom.out_h(),
                geom.out_w(),
                geom.in_numel(),
                geom.weight_len()
            ),
            "geometry #{gi}"
        );
        let x_vals: Vec<i64> = (0..geom.in_numel())
            .map(|i| (i as i64 * 37 % 29) - 14)
            .collect();
        let weight: Vec<i64> = (0..geom.weight_len())
            .map(|i| (i as i64 * 11 % 9) - 4)
            .collect();
        let bias: Vec<i64> = (0..geom.out_channels)
            .map(|j| j as i64 * 100 - 50)
            .collect();
        let want = semantics::conv(&x_vals, &weight, &bias, geom).expect("reference");
        let x = tensor(&x_vals);
        let got = conv_f64(&x, &weight, &bias, geom, &dims, &Device::Cpu).expect("f64 conv");
        assert_eq!(i64s(&got), want, "f64, geometry #{gi}: {geom:?}");
        for max_elems in [1, 7, 64, 1 << 20] {
            let got = conv_i64(&x, &weight, &bias, geom, &dims, max_elems, &Device::Cpu)
                .expect("i64 conv");
            assert_eq!(
                i64s(&got),
                want,
                "i64 ({max_elems}), geometry #{gi}: {geom:?}"
            );
        }
    }
}

#[test]
fn conv_dims_reject_what_is_invalid_or_overflows() {
    let ok = conv_geom((2, 5, 6, 4), [3, 2], [2, 2], [1; 4], [1, 1], 2);
    assert!(ConvDims::of(&ok).is_some());
    let bad = [
        conv_geom((2, 5, 6, 4), [3, 2], [2, 2], [1; 4], [1, 1], 3),
        conv_geom((2, 5, 6, 4), [0, 2], [2, 2], [1; 4], [1, 1], 1),
        conv_geom((2, 5, 6, 4), [3, 2], [0, 2], [1; 4], [1, 1], 1),
        conv_geom((2, 5, 6, 4), [3, 2], [2, 2], [1; 4], [1, 0], 1),
        conv_geom((2, 1, 6, 4), [3, 2], [2, 2], [0; 4], [1, 1], 1),
        conv_geom((2, 5, 6, 0), [3, 2], [2, 2], [1; 4], [1, 1], 1),
        conv_geom(
            (2, 5, 6, 4),
            [3, 2],
            [2, 2],
            [usize::MAX, 0, 1, 0],
            [1, 1],
            1,
        ),
        conv_geom((2, 5, 6, 4), [3, 2], [2, 2], [0; 4], [usize::MAX, 1], 1),
    ];
    for (i, geom) in bad.iter().enumerate() {
        assert_eq!(ConvDims::of(geom), None, "geometry #{i}: {geom:?}");
    }
}
