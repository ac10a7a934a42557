//! Pad, Tile, Resize, Trilu, InstanceNormalization, LpPool, ConvTranspose, constants mixed with
//! activations and the constant generators, against straightforward float references.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::util::*;
use zkinfer_compiler::onnx::encode::*;
use zkinfer_compiler::onnx::proto::NodeProto;
use zkinfer_compiler::onnx::ImportError;

fn x(n: usize) -> Vec<f64> {
    (0..n).map(|i| (i as f64 * 0.61).sin()).collect()
}

fn pad_node(mode: &str) -> NodeProto {
    node(
        "Pad",
        "pad",
        &["x", "p", "v"],
        &["y"],
        vec![attr_string("mode", mode)],
    )
}

#[test]
fn pad_modes_on_a_row() {
    // x = [a, b, c] padded by 2 before and 1 after.
    let xs = x(3);
    let (a, b, c) = (xs[0], xs[1], xs[2]);
    for (mode, want) in [
        ("constant", vec![0.5, 0.5, a, b, c, 0.5]),
        ("reflect", vec![c, b, a, b, c, b]),
        ("edge", vec![a, a, a, b, c, c]),
        ("wrap", vec![b, c, a, b, c, a]),
    ] {
        let inits = vec![
            int64_tensor("p", &[2], &[2, 1]),
            float_tensor("v", &[], &[0.5]),
        ];
        let g = import(vec![pad_node(mode)], inits, &[3]);
        assert_eq!(out_shape(&g), vec![6], "{mode}");
        assert_close(&run(&g, &xs), &want);
    }
}

#[test]
fn negative_pads_crop() {
    let inits = vec![int64_tensor("p", &[4], &[0, -1, 0, 1])];
    let n = node("Pad", "pad", &["x", "p"], &["y"], vec![]);
    let g = import(vec![n], inits, &[2, 3]);
    let xs = x(6);
    assert_eq!(out_shape(&g), vec![2, 3]);
    assert_close(&run(&g, &xs), &[xs[1], xs[2], 0.0, xs[4], xs[5], 0.0]);
}

#[test]
fn tile_repeats_each_axis() {
    let n = node("Tile", "tile", &["x", "r"], &["y"], vec![]);
    let g = import(vec![n], vec![int64_tensor("r", &[2], &[2, 2])], &[1, 2]);
    let xs = x(2);
    assert_eq!(out_shape(&g), vec![2, 4]);
    assert_close(
        &run(&g, &xs),
        &[xs[0], xs[1], xs[0], xs[1], xs[0], xs[1], xs[0], xs[1]],
    );
}

/// 1-D linear interpolation of `v` to `n_out` positions, half-pixel or align-corners.
fn lerp_ref(v: &[f64], n_out: usize, align: bool) -> Vec<f64> {
    let n = v.len();
    (0..n_out)
        .map(|i| {
            let c = if align {
                i as f64 * (n - 1) as f64 / (n_out - 1) as f64
            } else {
                (i as f64 + 0.5) * n as f64 / n_out as f64 - 0.5
            };
            let c = c.clamp(0.0, (n - 1) as f64);
            let lo = c.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            v[lo] * (1.0 - (c - lo as f64)) + v[hi] * (c - lo as f64)
        })
        .collect()
}

#[test]
fn resize_linear_matches_a_separable_reference() {
    for (coord, align) in [("half_pixel", false), ("align_corners", true)] {
        let n = node(
            "Resize",
            "rs",
            &["x", "", "s"],
            &["y"],
            vec![
                attr_string("mode", "linear"),
                attr_string("coordinate_transformation_mode", coord),
            ],
        );
        let g = import(vec![n], vec![float_tensor("s", &[2], &[2.0, 1.5])], &[3, 4]);
        assert_eq!(out_shape(&g), vec![6, 6]);
        let xs = x(12);
        // Along the last axis first, then the first.
        let rows: Vec<Vec<f64>> = xs.chunks(4).map(|r| lerp_ref(r, 6, align)).collect();
        let mut want = vec![0.0; 36];
        for j in 0..6 {
            let col: Vec<f64> = rows.iter().map(|r| r[j]).collect();
            for (i, v) in lerp_ref(&col, 6, align).into_iter().enumerate() {
                want[i * 6 + j] = v;
            }
        }
        assert_close(&run(&g, &xs), &want);
    }
}

#[test]
fn resize_nearest_is_an_index_map() {
    let n = node(
        "Resize",
        "rs",
        &["x", "", "", "sz"],
        &["y"],
        vec![
            attr_string("coordinate_transformation_mode", "asymmetric"),
            attr_string("nearest_mode", "floor"),
        ],
    );
    let g = import(vec![n], vec![int64_tensor("sz", &[1], &[6])], &[3]);
    assert_eq!(kinds(&g), vec!["Select"]);
    let xs = x(3);
    assert_close(&run(&g, &xs), &[xs[0], xs[0], xs[1], xs[1], xs[2], xs[2]]);
}

#[test]
fn trilu_masks_the_triangle() {
    for (upper, k, keep) in [
        (1, 0, [1, 1, 0, 1]),
        (0, 0, [1, 0, 1, 1]),
        (1, 1, [0, 1, 0, 0]),
    ] {
        let n = node(
            "Trilu",
            "tri",
            &["x", "k"],
            &["y"],
            vec![attr_int("upper", upper)],
        );
        let g = import(vec![n], vec![int64_tensor("k", &[], &[k])], &[2, 2]);
        let xs = x(4);
        let want: Vec<f64> = xs.iter().zip(keep).map(|(v, m)| v * f64::from(m)).collect();
        assert_close(&run(&g, &xs), &want);
    }
}

#[test]
fn instance_norm_normalizes_each_channel() {
    let n = node(
        "InstanceNormalization",
        "in",
        &["x", "g", "b"],
        &["y"],
        vec![attr_float("epsilon", 1e-5)],
    );
    let inits = vec![
        float_tensor("g", &[2], &[2.0, 0.5]),
        float_tensor("b", &[2], &[0.1, -0.1]),
    ];
    let g = import(vec![n], inits, &[1, 2, 3]);
    let xs = x(6);
    let mut want = Vec::new();
    for (c, ch) in xs.chunks(3).enumerate() {
        let mu = ch.iter().sum::<f64>() / 3.0;
        let var = ch.iter().map(|v| (v - mu) * (v - mu)).sum::<f64>() / 3.0;
        let (gamma, beta) = if c == 0 { (2.0, 0.1) } else { (0.5, -0.1) };
        want.extend(
            ch.iter()
                .map(|v| (v - mu) / (var + 1e-5f64).sqrt() * gamma + beta),
        );
    }
    let got = run(&g, &xs);
    for (a, b) in got.iter().zip(&want) {
        assert!((a - b).abs() < 1e-4, "{got:?} vs {want:?}");
    }
}

#[test]
fn lp_pool_sums_windows() {
    for p in [1, 2] {
        let n = node(
            "LpPool",
            "lp",
            &["x"],
            &["y"],
            vec![attr_ints("kernel_shape", &[2]), attr_int("p", p)],
        );
        let g = import(vec![n], vec![], &[1, 1, 3]);
        let xs = x(3);
        let f = |a: f64, b: f64| {
            if p == 1 {
                a.abs() + b.abs()
            } else {
                (a * a + b * b).sqrt()
            }
        };
        let got = run(&g, &xs);
        let want = [f(xs[0], xs[1]), f(xs[1], xs[2])];
        for (a, b) in got.iter().zip(&want) {
            assert!((a - b).abs() < 1e-6, "p = {p}: {got:?} vs {want:?}");
        }
    }
}

/// Direct 1-D transposed convolution: every input tap scatters `w` into the output.
fn conv_transpose_ref(
    x: &[f64],
    w: &[f64],
    c_in: usize,
    c_out: usize,
    stride: usize,
    pads: (usize, usize),
    out_pad: usize,
) -> Vec<f64> {
    let (l, k) = (x.len() / c_in, w.len() / (c_in * c_out));
    let full = stride * (l - 1) + out_pad + k;
    let n_out = full - pads.0 - pads.1;
    let mut y = vec![0.0; c_out * n_out];
    for i in 0..c_in {
        for o in 0..c_out {
            for t in 0..l {
                for q in 0..k {
                    let pos = (t * stride + q) as i64 - pads.0 as i64;
                    if (0..n_out as i64).contains(&pos) {
                        y[o * n_out + pos as usize] += x[i * l + t] * w[(i * c_out + o) * k + q];
                    }
                }
            }
        }
    }
    y
}

#[test]
fn conv_transpose_matches_the_scatter_definition() {
    let w: Vec<f32> = (0..12).map(|i| ((i as f32) * 0.7).cos() * 0.5).collect();
    for (stride, pads, out_pad) in [
        (1, (0, 0), 0),
        (2, (0, 0), 0),
        (2, (1, 2), 1),
        (3, (3, 0), 0),
    ] {
        let n = node(
            "ConvTranspose",
            "ct",
            &["x", "w"],
            &["y"],
            vec![
                attr_ints("strides", &[stride]),
                attr_ints("pads", &[pads.0 as i64, pads.1 as i64]),
                attr_ints("output_padding", &[out_pad]),
            ],
        );
        let g = import(vec![n], vec![float_tensor("w", &[2, 2, 3], &w)], &[1, 2, 4]);
        let xs = x(8);
        let wf: Vec<f64> = w.iter().map(|&v| f64::from(v)).collect();
        let want = conv_transpose_ref(&xs, &wf, 2, 2, stride as usize, pads, out_pad as usize);
        assert_eq!(
            out_shape(&g),
            vec![1, 2, want.len() / 2],
            "stride {stride} pads {pads:?}"
        );
        let got = run(&g, &xs);
        for (a, b) in got.iter().zip(&want) {
            assert!((a - b).abs() < 1e-5, "stride {stride}: {got:?} vs {want:?}");
        }
    }
}

#[test]
fn concat_with_a_constant_token() {
    let n = node(
        "Concat",
        "cat",
        &["tok", "x"],
        &["y"],
        vec![attr_int("axis", 0)],
    );
    let g = import(
        vec![n],
        vec![float_tensor("tok", &[1, 2], &[0.25, -0.5])],
        &[2, 2],
    );
    let xs = x(4);
    assert_eq!(out_shape(&g), vec![3, 2]);
    assert_close(&run(&g, &xs), &[0.25, -0.5, xs[0], xs[1], xs[2], xs[3]]);
}

#[test]
fn generators_fold_to_constants() {
    let nodes = vec![
        node("Shape", "sh", &["x"], &["s"], vec![]),
        node(
            "ConstantOfShape",
            "cos",
            &["s"],
            &["c"],
            vec![attr_tensor("value", float_tensor("v", &[1], &[2.0]))],
        ),
        node("Range", "rg", &["r0", "r1", "r2"], &["r"], vec![]),
        node("EyeLike", "eye", &["c"], &["e"], vec![]),
        node("Mul", "m", &["x", "c"], &["xc"], vec![]),
        node("Add", "a", &["xc", "r"], &["xe"], vec![]),
        node("Add", "y", &["xe", "e"], &["y"], vec![]),
    ];
    let inits = vec![
        int64_tensor("r0", &[], &[1]),
        int64_tensor("r1", &[], &[7]),
        int64_tensor("r2", &[], &[3]),
    ];
    let g = import(nodes, inits, &[2, 2]);
    let xs = x(4);
    // 2x + [1, 4] + I.
    let want = [
        2.0 * xs[0] + 2.0,
        2.0 * xs[1] + 4.0,
        2.0 * xs[2] + 1.0,
        2.0 * xs[3] + 5.0,
    ];
    assert_close(&run(&g, &xs), &want);
}

#[test]
fn unsupported_uses_name_the_node() {
    let cases: Vec<(
        NodeProto,
        Vec<zkinfer_compiler::onnx::proto::TensorProto>,
        &str,
    )> = vec![
        (
            pad_node("mirror"),
            vec![int64_tensor("p", &[2], &[1, 1])],
            "mode",
        ),
        (
            node(
                "Resize",
                "rs",
                &["x", "", "s"],
                &["y"],
                vec![attr_string("mode", "cubic")],
            ),
            vec![float_tensor("s", &[1], &[2.0])],
            "cubic",
        ),
        (
            node(
                "LpPool",
                "lp",
                &["x"],
                &["y"],
                vec![attr_ints("kernel_shape", &[2]), attr_int("p", 3)],
            ),
            vec![],
            "p = 3",
        ),
        (
            node("Range", "rg", &["a", "b", "z"], &["y"], vec![]),
            vec![
                float_tensor("a", &[], &[0.0]),
                float_tensor("b", &[], &[1.0]),
                float_tensor("z", &[], &[0.0]),
            ],
            "delta",
        ),
    ];
    for (n, inits, part) in cases {
        let name = n.name.clone();
        let e = import_err(vec![n], inits, &[1, 1, 4]);
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("`{name}`")) && msg.contains(part),
            "{msg}"
        );
        assert!(
            matches!(
                e,
                ImportError::BadAttribute { .. }
                    | ImportError::UnsupportedUse { .. }
                    | ImportError::BadNode { .. }
            ),
            "{e:?}"
        );
    }
}
