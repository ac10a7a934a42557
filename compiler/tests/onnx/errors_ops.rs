//! Errors of the conv, elementwise, attention and rewiring ops: each names the node and what
//! is wrong with it.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::util::*;
use zkinfer_compiler::onnx::encode::*;
use zkinfer_compiler::onnx::proto::{NodeProto, TensorProto};
use zkinfer_compiler::onnx::ImportError;

/// Imports, expects an error whose message contains `node` (the node name) and every `parts`.
fn fails(
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
    dims: &[usize],
    node: &str,
    parts: &[&str],
) -> ImportError {
    let e = import_err(nodes, inits, dims);
    let msg = e.to_string();
    assert!(msg.contains(&format!("`{node}`")), "{msg}");
    for p in parts {
        assert!(msg.contains(p), "{msg:?} lacks {p:?}");
    }
    e
}

#[test]
fn gather_errors() {
    let idx = int64_tensor("i", &[1], &[4]);
    let g = node(
        "Gather",
        "gth",
        &["x", "i"],
        &["y"],
        vec![attr_int("axis", 1)],
    );
    let e = fails(vec![g], vec![idx], &[2, 4], "gth", &["index 4", "`i`"]);
    assert!(matches!(e, ImportError::ShapeMismatch { .. }));
    let idx = float_tensor("f", &[1], &[0.]);
    let g = node("Gather", "gth", &["x", "f"], &["y"], vec![]);
    fails(vec![g], vec![idx], &[2, 4], "gth", &["`f`", "integer"]);
    let g = node(
        "Gather",
        "gth",
        &["x", "x"],
        &["y"],
        vec![attr_int("axis", 3)],
    );
    // Computed indices still check the axis.
    let e = fails(vec![g], vec![], &[2, 4], "gth", &["axis", "3"]);
    assert!(matches!(e, ImportError::BadAttribute { .. }), "{e:?}");
}

#[test]
fn concat_errors() {
    let cat = node("Concat", "cat", &["x", "x"], &["y"], vec![]);
    let e = fails(vec![cat], vec![], &[1, 2], "cat", &["axis"]);
    assert!(matches!(e, ImportError::BadAttribute { .. }));
    let nodes = vec![
        node("Transpose", "t", &["x"], &["t"], vec![]),
        node(
            "Concat",
            "cat",
            &["x", "t"],
            &["y"],
            vec![attr_int("axis", 0)],
        ),
    ];
    fails(nodes, vec![], &[1, 2], "cat", &["[1, 2]", "[2, 1]"]);
}

#[test]
fn arithmetic_errors() {
    let zero = float_tensor("z", &[2], &[1., 0.]);
    let div = node("Div", "/Div", &["x", "z"], &["y"], vec![]);
    fails(
        vec![div],
        vec![zero],
        &[2],
        "/Div",
        &["Div", "divisor `z`", "0"],
    );

    let nodes = vec![
        node("Transpose", "t", &["x"], &["t"], vec![]),
        node("Mul", "/Mul", &["x", "t"], &["y"], vec![]),
    ];
    let e = fails(nodes, vec![], &[2, 3], "/Mul", &["[2, 3] * [3, 2]"]);
    assert!(matches!(e, ImportError::ShapeMismatch { .. }));

    let c = float_tensor("c", &[4], &[0.; 4]);
    let sub = node("Sub", "sub", &["c", "x"], &["y"], vec![]);
    fails(vec![sub], vec![c], &[3], "sub", &["[4] - [3]"]);
}

#[test]
fn conv_errors() {
    let w = float_tensor("w", &[2, 1, 3, 3], &[0.; 18]);
    let conv = |attrs: Vec<_>| node("Conv", "/c/Conv", &["x", "w"], &["y"], attrs);

    let e = fails(
        vec![conv(vec![])],
        vec![w.clone()],
        &[2, 1, 5, 5],
        "/c/Conv",
        &["batch 2"],
    );
    assert!(matches!(e, ImportError::UnsupportedUse { .. }));
    let e = fails(
        vec![conv(vec![])],
        vec![w.clone()],
        &[1, 2, 5, 5],
        "/c/Conv",
        &["weight W `w`", "[2, 1, 3, 3]"],
    );
    assert!(matches!(e, ImportError::ShapeMismatch { .. }));
    fails(
        vec![conv(vec![])],
        vec![w.clone()],
        &[1, 1, 2, 2],
        "/c/Conv",
        &["does not fit"],
    );
    fails(
        vec![conv(vec![])],
        vec![w.clone()],
        &[1, 5, 5],
        "/c/Conv",
        &["weight W"],
    );
    fails(
        vec![conv(vec![])],
        vec![w.clone()],
        &[5, 5],
        "/c/Conv",
        &["[1, C, H, W]"],
    );
    let e = fails(
        vec![conv(vec![attr_string("auto_pad", "SAME")])],
        vec![w.clone()],
        &[1, 1, 5, 5],
        "/c/Conv",
        &["auto_pad", "SAME"],
    );
    assert!(matches!(e, ImportError::BadAttribute { .. }));
    fails(
        vec![conv(vec![attr_ints("pads", &[1, 1])])],
        vec![w.clone()],
        &[1, 1, 5, 5],
        "/c/Conv",
        &["attribute `pads`"],
    );
    fails(
        vec![conv(vec![attr_ints("strides", &[0, 1])])],
        vec![w.clone()],
        &[1, 1, 5, 5],
        "/c/Conv",
        &["attribute `strides`"],
    );
    fails(
        vec![conv(vec![attr_ints("dilations", &[1, i64::MAX])])],
        vec![w.clone()],
        &[1, 1, 5, 5],
        "/c/Conv",
        &["attribute `dilations`"],
    );
    fails(
        vec![conv(vec![attr_ints("pads", &[0, 0, 0, i64::MAX])])],
        vec![w.clone()],
        &[1, 1, 5, 5],
        "/c/Conv",
        &["attribute `pads`"],
    );
    fails(
        vec![conv(vec![attr_ints("strides", &[1, 1 << 40])])],
        vec![w.clone()],
        &[1, 1, 5, 5],
        "/c/Conv",
        &["attribute `strides`"],
    );
    fails(
        vec![conv(vec![attr_ints("kernel_shape", &[2, 2])])],
        vec![w.clone()],
        &[1, 1, 5, 5],
        "/c/Conv",
        &["attribute `kernel_shape`"],
    );
    fails(
        vec![conv(vec![attr_int("group", 3)])],
        vec![w.clone()],
        &[1, 1, 5, 5],
        "/c/Conv",
        &["attribute `group`"],
    );
    let bad_bias = float_tensor("b", &[3], &[0.; 3]);
    let c = node("Conv", "/c/Conv", &["x", "w", "b"], &["y"], vec![]);
    fails(
        vec![c],
        vec![w, bad_bias],
        &[1, 1, 5, 5],
        "/c/Conv",
        &["bias B `b`", "[3]"],
    );
    let c = node("Conv", "/c/Conv", &["x", "x"], &["y"], vec![]);
    let e = fails(
        vec![c],
        vec![],
        &[1, 1, 5, 5],
        "/c/Conv",
        &["`x`", "constant"],
    );
    assert!(matches!(e, ImportError::NotConstant { .. }));
}

#[test]
fn pool_errors() {
    let attrs = vec![
        attr_ints("kernel_shape", &[2]),
        attr_ints("strides", &[2]),
        attr_int("ceil_mode", 1),
        attr_int("count_include_pad", 1),
    ];
    let p = node("AveragePool", "/pool", &["x"], &["y"], attrs);
    let e = fails(
        vec![p],
        vec![],
        &[1, 1, 5],
        "/pool",
        &["ceil_mode", "count_include_pad"],
    );
    assert!(matches!(e, ImportError::BadAttribute { .. }));

    let p = node(
        "MaxPool",
        "/mp",
        &["x"],
        &["m", "idx"],
        vec![attr_ints("kernel_shape", &[2, 2])],
    );
    let nodes = vec![p, node("Add", "sum", &["m", "idx"], &["y"], vec![])];
    let e = import_err(nodes, vec![], &[1, 1, 4, 4]);
    assert!(matches!(e, ImportError::UnsupportedUse { .. }), "{e}");
    assert!(
        e.to_string().contains("`/mp`") && e.to_string().contains("output #1 `idx`"),
        "{e}"
    );

    let p = node("MaxPool", "/mp", &["x"], &["y"], vec![]);
    fails(
        vec![p],
        vec![],
        &[1, 1, 4, 4],
        "/mp",
        &["kernel_shape", "missing"],
    );
}

#[test]
fn batch_norm_errors() {
    let p = |n: usize| float_tensor("p", &[n], &vec![1.; n]);
    let bn = |attrs| {
        node(
            "BatchNormalization",
            "/bn",
            &["x", "p", "p", "p", "p"],
            &["y"],
            attrs,
        )
    };
    let e = fails(
        vec![bn(vec![attr_int("training_mode", 1)])],
        vec![p(2)],
        &[1, 2, 2],
        "/bn",
        &["training_mode"],
    );
    assert!(matches!(e, ImportError::BadAttribute { .. }));
    fails(
        vec![bn(vec![])],
        vec![p(3)],
        &[1, 2, 2],
        "/bn",
        &["scale `p`", "[3]", "[2]"],
    );
    let missing = node(
        "BatchNormalization",
        "/bn",
        &["x", "p", "p"],
        &["y"],
        vec![],
    );
    fails(vec![missing], vec![p(2)], &[1, 2, 2], "/bn", &["input #3"]);
}

#[test]
fn normalization_errors() {
    let sm = node("Softmax", "/sm", &["x"], &["y"], vec![attr_int("axis", 2)]);
    let e = fails(vec![sm], vec![], &[1, 2], "/sm", &["attribute `axis`", "2"]);
    assert!(matches!(e, ImportError::BadAttribute { .. }));

    let c = float_tensor("c", &[2], &[1., 2.]);
    let nodes = vec![
        node("Softmax", "/sm", &["c"], &["s"], vec![]),
        node("Add", "a", &["x", "s"], &["y"], vec![]),
    ];
    fails(nodes, vec![c], &[2], "/sm", &["input `c`", "constant"]);

    let g = float_tensor("g", &[3], &[1.; 3]);
    let ln = node("LayerNormalization", "/ln", &["x", "g"], &["y"], vec![]);
    fails(vec![ln], vec![g], &[1, 2], "/ln", &["Scale `g`", "[2]"]);
    let ln = node("LayerNormalization", "/ln", &["x", "x"], &["y"], vec![]);
    let e = fails(vec![ln], vec![], &[1, 2], "/ln", &["`x`"]);
    assert!(matches!(e, ImportError::NotConstant { .. }));
    let ln = node(
        "LayerNormalization",
        "/ln",
        &["x", "g"],
        &["y", "mean"],
        vec![],
    );
    let nodes = vec![ln, node("Add", "a", &["y", "mean"], &["out"], vec![])];
    let e = import_err(nodes, vec![float_tensor("g", &[2], &[1.; 2])], &[1, 2]);
    assert!(
        e.to_string().contains("`/ln`") && e.to_string().contains("`mean`"),
        "{e}"
    );
}

#[test]
fn matmul_errors() {
    let a = float_tensor("a", &[2, 2], &[0.; 4]);
    let mm = node("MatMul", "/mm", &["a", "a"], &["c"], vec![]);
    let nodes = vec![mm, node("Add", "add", &["x", "c"], &["y"], vec![])];
    fails(nodes, vec![a], &[2, 2], "/mm", &["two constants"]);

    let nodes = vec![
        node(
            "Transpose",
            "t",
            &["x"],
            &["t"],
            vec![attr_ints("perm", &[0, 2, 1])],
        ),
        node("Relu", "r", &["x"], &["r"], vec![]),
        node(
            "Concat",
            "c",
            &["t", "t"],
            &["tt"],
            vec![attr_int("axis", 0)],
        ),
        node("MatMul", "/mm", &["r", "tt"], &["y"], vec![]),
    ];
    // [3, 2, 4] @ [6, 4, 2]: batch axes 3 and 6 do not broadcast.
    fails(
        nodes,
        vec![],
        &[3, 2, 4],
        "/mm",
        &["[3, 2, 4]", "[6, 4, 2]"],
    );
}

#[test]
fn rewiring_errors() {
    let t = node(
        "Transpose",
        "/t",
        &["x"],
        &["y"],
        vec![attr_ints("perm", &[0, 0])],
    );
    let e = fails(vec![t], vec![], &[2, 2], "/t", &["attribute `perm`"]);
    assert!(matches!(e, ImportError::BadAttribute { .. }));

    let inits = vec![
        int64_tensor("s", &[1], &[0]),
        int64_tensor("e", &[1], &[2]),
        int64_tensor("z", &[1], &[0]),
    ];
    let s = node("Slice", "/s", &["x", "s", "e", "s", "z"], &["y"], vec![]);
    fails(
        vec![s],
        inits.clone(),
        &[2, 2],
        "/s",
        &["`steps`", "axis 0 is 0"],
    );
    let s = node("Slice", "/s", &["x", "e", "s"], &["y"], vec![]);
    fails(vec![s], inits.clone(), &[2, 2], "/s", &["empty"]);
    let s = node("Slice", "/s", &["x", "s", "x"], &["y"], vec![]);
    let e = fails(vec![s], inits.clone(), &[2, 2], "/s", &["`x`", "constant"]);
    assert!(matches!(e, ImportError::NotConstant { .. }));
    let s = node("Slice", "/s", &["x", "s", "e", "e"], &["y"], vec![]);
    fails(vec![s], inits, &[2, 2], "/s", &["`axes`", "axis 2"]);

    let shape = int64_tensor("shape", &[2], &[3, 2]);
    let e = node("Expand", "/e", &["x", "shape"], &["y"], vec![]);
    fails(vec![e], vec![shape], &[2, 2], "/e", &["[2, 2]", "[3, 2]"]);
}

#[test]
fn corrupted_models_do_not_panic() {
    use rand::{Rng, SeedableRng};
    // One model exercising conv, pool, batch norm, slice, transpose, softmax, matmul, concat.
    let inits = vec![
        float_tensor("w", &[2, 1, 2, 2], &[1., -1., 0.5, 2., 0., 1., 1., 0.]),
        float_tensor("b", &[2], &[0.1, -0.1]),
        float_tensor("p", &[2], &[1., 2.]),
        int64_tensor("s", &[1], &[0]),
        int64_tensor("e", &[1], &[i64::MAX]),
        int64_tensor("ax", &[1], &[3]),
        int64_tensor("st", &[1], &[-1]),
        int64_tensor("shape", &[3], &[1, 2, -1]),
    ];
    let nodes = vec![
        node(
            "Conv",
            "conv",
            &["x", "w", "b"],
            &["c"],
            vec![
                attr_ints("pads", &[1, 1, 1, 1]),
                attr_ints("strides", &[1, 1]),
            ],
        ),
        node(
            "BatchNormalization",
            "bn",
            &["c", "p", "p", "p", "p"],
            &["n"],
            vec![],
        ),
        node(
            "MaxPool",
            "mp",
            &["n"],
            &["m"],
            vec![attr_ints("kernel_shape", &[2, 2]), attr_int("ceil_mode", 1)],
        ),
        node("Slice", "sl", &["m", "e", "s", "ax", "st"], &["r"], vec![]),
        node("Reshape", "rs", &["r", "shape"], &["f"], vec![]),
        node(
            "Transpose",
            "t",
            &["f"],
            &["ft"],
            vec![attr_ints("perm", &[0, 2, 1])],
        ),
        node("MatMul", "mm", &["f", "ft"], &["g"], vec![]),
        node("Softmax", "sm", &["g"], &["h"], vec![attr_int("axis", 1)]),
        node(
            "Concat",
            "cat",
            &["h", "g"],
            &["y"],
            vec![attr_int("axis", 2)],
        ),
    ];
    let bytes = model_with_opset(nodes, inits, &[1, 1, 4, 4], 17);
    let g = zkinfer_compiler::onnx::import_bytes(&bytes).unwrap();
    let check = |b: &[u8]| {
        if let Ok(g) = zkinfer_compiler::onnx::import_bytes(b) {
            // Whatever imports must evaluate to values of the declared sizes.
            let values = g.eval_f64(&vec![0.5; g.input_numel()]);
            for (i, n) in g.nodes.iter().enumerate() {
                assert_eq!(values[i + 1].len(), n.numel(), "{}", n.name);
            }
        }
    };
    assert_eq!(g.shape_of(g.output), [1, 2, 4]);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    for _ in 0..3000 {
        let mut b = bytes.clone();
        for _ in 0..rng.gen_range(1..4) {
            let i = rng.gen_range(0..b.len());
            b[i] = rng.gen();
        }
        check(&b);
    }
    // Extreme values in integer attributes and integer initializers.
    let picks = [
        i64::MIN,
        -(1 << 40),
        -5,
        -2,
        -1,
        0,
        1,
        2,
        3,
        5,
        1 << 40,
        i64::MAX,
    ];
    let model: zkinfer_compiler::onnx::proto::ModelProto =
        prost::Message::decode(bytes.as_slice()).unwrap();
    for _ in 0..3000 {
        let mut m = model.clone();
        let gp = m.graph.as_mut().unwrap();
        let pick = |rng: &mut rand_chacha::ChaCha8Rng| picks[rng.gen_range(0..picks.len())];
        for _ in 0..rng.gen_range(1..3) {
            if rng.gen_bool(0.7) {
                let k = rng.gen_range(0..gp.node.len());
                let n = &mut gp.node[k];
                if n.attribute.is_empty() {
                    continue;
                }
                let a = rng.gen_range(0..n.attribute.len());
                let attr = &mut n.attribute[a];
                attr.i = pick(&mut rng);
                for v in attr.ints.iter_mut() {
                    if rng.gen_bool(0.5) {
                        *v = pick(&mut rng);
                    }
                }
            } else {
                let ints: Vec<usize> = (0..gp.initializer.len())
                    .filter(|&i| gp.initializer[i].data_type == 7)
                    .collect();
                let t = &mut gp.initializer[ints[rng.gen_range(0..ints.len())]];
                let n = t.raw_data.len() / 8;
                let i = rng.gen_range(0..n);
                t.raw_data[i * 8..i * 8 + 8].copy_from_slice(&pick(&mut rng).to_le_bytes());
            }
        }
        check(&prost::Message::encode_to_vec(&m));
    }
}
