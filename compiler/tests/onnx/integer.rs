//! BitShift and Mod by constants against integer references.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::util::*;
use zkinfer_compiler::onnx::encode::*;

#[test]
fn bit_shifts_scale_and_floor() {
    let xs: Vec<f64> = vec![0.0, 1.0, 5.0, 12.0, 255.0, 7.0];
    for (dir, want) in [
        ("LEFT", vec![0.0, 4.0, 20.0, 48.0, 1020.0, 28.0]),
        ("RIGHT", vec![0.0, 0.0, 1.0, 3.0, 63.0, 1.0]),
    ] {
        let n = node(
            "BitShift",
            "bs",
            &["x", "k"],
            &["y"],
            vec![attr_string("direction", dir)],
        );
        let g = import(vec![n], vec![int64_tensor("k", &[1], &[2])], &[6]);
        assert_close(&run(&g, &xs), &want);
    }
}

#[test]
fn mod_follows_the_sign_rule_of_fmod() {
    let xs: Vec<f64> = vec![-7.0, -6.0, -1.0, 0.0, 1.0, 5.0, 6.0, 7.0];
    for (fmod, c, f) in [
        (
            0,
            3.0,
            (|a: f64, c: f64| a - c * (a / c).floor()) as fn(f64, f64) -> f64,
        ),
        (0, -3.0, |a, c| a - c * (a / c).floor()),
        (1, 3.0, |a, c| a - c * (a / c).trunc()),
    ] {
        // fmod = 0 is for integers only (ONNX): cast first; fmod = 1 also takes floats.
        let mut nodes = Vec::new();
        let (x, init) = if fmod == 0 {
            nodes.push(node("Cast", "ci", &["x"], &["xi"], vec![attr_int("to", 7)]));
            ("xi", int64_tensor("c", &[], &[c as i64]))
        } else {
            ("x", float_tensor("c", &[], &[c as f32]))
        };
        nodes.push(node(
            "Mod",
            "md",
            &[x, "c"],
            &["y"],
            vec![attr_int("fmod", fmod)],
        ));
        let g = import(nodes, vec![init], &[8]);
        let want: Vec<f64> = xs.iter().map(|&a| f(a, c)).collect();
        assert_close(&run(&g, &xs), &want);
    }
    // A floating-point Mod with fmod = 0 is refused, naming the node, as ONNX says.
    let n = node("Mod", "md", &["x", "c"], &["y"], vec![]);
    let e = import_err(vec![n], vec![float_tensor("c", &[], &[3.0])], &[8]).to_string();
    assert!(e.contains("`md`") && e.contains("fmod = 1"), "{e}");
    let n = node("Mod", "md", &["x", "x"], &["y"], vec![]);
    let e = import_err(vec![n], vec![], &[8]).to_string();
    assert!(e.contains("`md`") && e.contains("only a constant"), "{e}");
}

#[test]
fn integer_div_truncates_and_float_div_does_not() {
    let xs: Vec<f64> = vec![-7.0, -6.0, -1.0, 0.0, 1.0, 5.0, 6.0, 7.0];
    for c in [3i64, -2] {
        let nodes = vec![
            node("Cast", "ci", &["x"], &["xi"], vec![attr_int("to", 7)]),
            node("Div", "dv", &["xi", "c"], &["y"], vec![]),
        ];
        let g = import(nodes, vec![int64_tensor("c", &[], &[c])], &[8]);
        let want: Vec<f64> = xs.iter().map(|&a| (a / c as f64).trunc()).collect();
        assert_close(&run(&g, &xs), &want);
    }
    // A float dividend stays a float division.
    let n = node("Div", "dv", &["x", "c"], &["y"], vec![]);
    let g = import(vec![n], vec![int64_tensor("c", &[], &[2])], &[8]);
    let want: Vec<f64> = xs.iter().map(|&a| a / 2.0).collect();
    assert_close(&run(&g, &xs), &want);
}

#[test]
fn quantize_linear_rounds_and_saturates() {
    let nodes = vec![node(
        "QuantizeLinear",
        "q",
        &["x", "s", "z"],
        &["y"],
        vec![],
    )];
    let mut z = int64_tensor("z", &[], &[3]);
    z.data_type = zkinfer_compiler::onnx::proto::tensor_proto::DataType::Int8 as i32;
    z.int64_data.clear();
    z.raw_data = vec![3];
    let g = import(nodes, vec![float_tensor("s", &[], &[0.5]), z], &[4]);
    // round(x / 0.5) + 3, clamped to int8.
    assert_close(
        &run(&g, &[1.2, -0.3, 100.0, -100.0]),
        &[5.0, 2.0, 127.0, -128.0],
    );
    let nodes = vec![node("DequantizeLinear", "dq", &["x", "s"], &["y"], vec![])];
    let e = import_err(nodes, vec![float_tensor("s", &[0], &[])], &[4]).to_string();
    assert!(e.contains("`dq`") && e.contains("scale"), "{e}");
}
