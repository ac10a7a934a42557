//! Import of well-formed models: MLP round trip, bias folding, AddConst, shape ops.
#![allow(clippy::unwrap_used, clippy::panic)]

use zkinfer_compiler::graph::{Graph, Op};
use zkinfer_compiler::onnx::encode::*;
use zkinfer_compiler::onnx::import_bytes;

/// A model with one input `x` of shape `in_dims` and one output `y`.
fn one_io(
    nodes: Vec<zkinfer_compiler::onnx::proto::NodeProto>,
    inits: Vec<zkinfer_compiler::onnx::proto::TensorProto>,
    in_dims: &[usize],
) -> Vec<u8> {
    model_bytes(graph(
        nodes,
        inits,
        value_info_fixed("x", in_dims),
        value_info_unshaped("y"),
    ))
}

fn linear_parts(g: &Graph, node: usize) -> (&[f32], &[f32], usize, usize) {
    match &g.nodes[node].op {
        Op::Linear {
            weight,
            bias,
            n_in,
            n_out,
        } => (weight, bias, *n_in, *n_out),
        other => panic!("node {node} is {other:?}, not Linear"),
    }
}

fn assert_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-5, "{got:?} vs {want:?}");
    }
}

fn output(g: &Graph, x: &[f64]) -> Vec<f64> {
    g.eval_f64(x)[g.output].clone()
}

#[test]
fn mlp_round_trip() {
    let l1 = LayerSpec {
        weight: vec![1., 2., 3., -1., 0., 1.],
        bias: vec![0.5, -4.],
        relu: true,
    };
    let l2 = LayerSpec {
        weight: vec![1., 1., 2., -1.],
        bias: vec![0., 1.],
        relu: false,
    };
    let g = import_bytes(&mlp_model(3, &[l1.clone(), l2.clone()])).unwrap();
    assert_eq!(g.input_name, "input");
    assert_eq!(g.output_name, "output");
    assert_eq!(g.input_shape, vec![1, 3]);
    assert_eq!(g.nodes.len(), 3);
    assert_eq!(g.output, 3);
    assert_eq!(g.nodes[0].name, "/fc1/Gemm");
    assert_eq!(g.nodes[1].name, "/Relu");
    assert_eq!(g.nodes[1].op, Op::Relu);
    assert_eq!(g.nodes[1].inputs, vec![1]);
    assert_eq!(g.nodes[2].inputs, vec![2]);
    assert_eq!(
        (g.nodes[0].shape.clone(), g.nodes[2].shape.clone()),
        (vec![1, 2], vec![1, 2])
    );
    assert_eq!(linear_parts(&g, 0), (&l1.weight[..], &l1.bias[..], 3, 2));
    assert_eq!(linear_parts(&g, 2), (&l2.weight[..], &l2.bias[..], 2, 2));
    // h = relu([1+4+9+0.5, -1+0+3-4]) = [14.5, 0]; y = [14.5, 29 + 1].
    assert_close(&output(&g, &[1., 2., 3.]), &[14.5, 30.]);
}

#[test]
fn empty_mlp_is_identity() {
    // The output is the input: one explicit copy, so the circuit constrains the output.
    let g = import_bytes(&mlp_model(4, &[])).unwrap();
    assert_eq!(g.nodes.len(), 1);
    assert_eq!(
        g.nodes[0].op,
        zkinfer_compiler::graph::Op::Select {
            index: vec![0, 1, 2, 3]
        }
    );
    assert_eq!(output(&g, &[1., 2., 3., 4.]), [1., 2., 3., 4.]);
}

#[test]
fn gemm_without_trans_b_folds_alpha_beta() {
    // B is [n_in=2, n_out=3]; C is [1, 3].
    let b = float_tensor("B", &[2, 3], &[1., 2., 3., 4., 5., 6.]);
    let c = float_tensor("C", &[1, 3], &[1., 1., 1.]);
    let attrs = vec![attr_float("alpha", 2.0), attr_float("beta", 0.5)];
    let gemm = node("Gemm", "g", &["x", "B", "C"], &["y"], attrs);
    let g = import_bytes(&one_io(vec![gemm], vec![b, c], &[1, 2])).unwrap();
    let (w, bias, n_in, n_out) = linear_parts(&g, 0);
    assert_eq!((n_in, n_out), (2, 3));
    assert_eq!(w, &[2., 8., 4., 10., 6., 12.]);
    assert_eq!(bias, &[0.5, 0.5, 0.5]);
    assert_close(&output(&g, &[1., 1.]), &[10.5, 14.5, 18.5]);
}

#[test]
fn gemm_with_per_row_bias_adds_a_constant() {
    let b = float_tensor("B", &[1, 2], &[1., 1.]);
    let c = float_tensor("C", &[2, 1], &[10., 20.]);
    let gemm = node(
        "Gemm",
        "g",
        &["x", "B", "C"],
        &["y"],
        vec![attr_int("transB", 1)],
    );
    let g = import_bytes(&one_io(vec![gemm], vec![b, c], &[2, 2])).unwrap();
    assert_eq!(g.nodes.len(), 2);
    assert_eq!(g.nodes[1].name, "g/bias");
    assert_eq!(
        g.nodes[1].op,
        Op::AddConst {
            constant: vec![10., 20.]
        }
    );
    assert_close(&output(&g, &[1., 2., 3., 4.]), &[13., 27.]);
}

/// `alpha·op(A)·op(B) + beta·C` by hand, row-major.
fn gemm_reference(
    a: &[f64],
    ad: [usize; 2],
    b: &[f64],
    bd: [usize; 2],
    t: [bool; 2],
    c: f64,
) -> Vec<f64> {
    let at = |i: usize, j: usize| {
        if t[0] {
            a[j * ad[1] + i]
        } else {
            a[i * ad[1] + j]
        }
    };
    let bt = |i: usize, j: usize| {
        if t[1] {
            b[j * bd[1] + i]
        } else {
            b[i * bd[1] + j]
        }
    };
    let (m, k) = if t[0] { (ad[1], ad[0]) } else { (ad[0], ad[1]) };
    let n = if t[1] { bd[0] } else { bd[1] };
    (0..m)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .map(|(i, j)| 2.0 * (0..k).map(|p| at(i, p) * bt(p, j)).sum::<f64>() + 0.5 * c)
        .collect()
}

#[test]
fn gemm_transposes_and_a_constant_a() {
    let w: Vec<f32> = (0..6).map(|v| v as f32 - 2.5).collect();
    let x = [0.5, -1.0, 2.0, 1.5, 0.25, -0.75];
    let xs: Vec<f64> = x.to_vec();
    let ws: Vec<f64> = w.iter().map(|&v| f64::from(v)).collect();
    let attrs = |ta: i64, tb: i64| {
        vec![
            attr_int("transA", ta),
            attr_int("transB", tb),
            attr_float("alpha", 2.0),
            attr_float("beta", 0.5),
        ]
    };
    let c = || float_tensor("C", &[1], &[3.0]);
    // Activation A [3, 2] transposed, constant B [3, 2]: [2, 3] · [3, 2].
    for tb in [0, 1] {
        let bd = if tb == 1 { [2, 3] } else { [3, 2] };
        let gemm = node("Gemm", "g", &["x", "W", "C"], &["y"], attrs(1, tb));
        let wt = float_tensor("W", &bd, &w);
        let g = import_bytes(&one_io(vec![gemm], vec![wt, c()], &[3, 2])).unwrap();
        let want = gemm_reference(&xs, [3, 2], &ws, bd, [true, tb == 1], 3.0);
        assert_close(&output(&g, &x), &want);
    }
    // Constant A, activation B [3, 2] (hummingbird's form), every transpose combination.
    for (ta, tb) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
        let ad = if ta == 1 { [3, 2] } else { [2, 3] };
        let bd = if tb == 1 { [2, 3] } else { [3, 2] };
        let gemm = node("Gemm", "g", &["W", "x", "C"], &["y"], attrs(ta, tb));
        let wt = float_tensor("W", &ad, &w);
        let g = import_bytes(&one_io(vec![gemm], vec![wt, c()], &bd)).unwrap();
        let want = gemm_reference(&ws, ad, &xs, bd, [ta == 1, tb == 1], 3.0);
        assert_close(&output(&g, &x), &want);
    }
}

#[test]
fn matmul_add_folds_into_bias() {
    // x: [1, 2, 3] @ W [3, 2] + b (bias listed first, as PyTorch exports it).
    let w = float_tensor("W", &[3, 2], &[1., 0., 0., 1., 1., 1.]);
    let b = float_tensor("b", &[2], &[0.25, -0.25]);
    let nodes = vec![
        node("MatMul", "/fc/MatMul", &["x", "W"], &["m"], vec![]),
        node("Add", "/fc/Add", &["b", "m"], &["y"], vec![]),
    ];
    let g = import_bytes(&one_io(nodes, vec![w, b], &[1, 2, 3])).unwrap();
    assert_eq!(g.nodes.len(), 1);
    assert_eq!(g.output, 1);
    assert_eq!(g.nodes[0].shape, vec![1, 2, 2]);
    let (w, bias, n_in, n_out) = linear_parts(&g, 0);
    assert_eq!((n_in, n_out), (3, 2));
    assert_eq!(w, &[1., 0., 1., 0., 1., 1.]);
    assert_eq!(bias, &[0.25, -0.25]);
    assert_close(
        &output(&g, &[1., 2., 3., 4., 5., 6.]),
        &[4.25, 4.75, 10.25, 10.75],
    );
}

#[test]
fn add_with_second_reader_becomes_add_const_and_add() {
    let w = float_tensor("W", &[2, 2], &[1., 0., 0., 1.]);
    let b = float_tensor("b", &[1, 2], &[1., 2.]);
    let nodes = vec![
        node("MatMul", "mm", &["x", "W"], &["m"], vec![]),
        node("Add", "bias", &["m", "b"], &["z"], vec![]),
        node("Add", "sum", &["z", "m"], &["y"], vec![]),
    ];
    let g = import_bytes(&one_io(nodes, vec![w, b], &[1, 2])).unwrap();
    assert_eq!(g.nodes.len(), 3);
    assert_eq!(
        g.nodes[1].op,
        Op::AddConst {
            constant: vec![1., 2.]
        }
    );
    assert_eq!(g.nodes[2].op, Op::Add);
    assert_eq!(g.nodes[2].inputs, vec![2, 1]);
    assert_close(&output(&g, &[3., 4.]), &[7., 10.]);
}

#[test]
fn add_along_other_axis_is_not_folded() {
    let w = float_tensor("W", &[2, 3], &[1., 0., 0., 0., 1., 0.]);
    let c = float_tensor("c", &[2, 1], &[100., 200.]);
    let nodes = vec![
        node("MatMul", "mm", &["x", "W"], &["m"], vec![]),
        node("Add", "add", &["m", "c"], &["y"], vec![]),
    ];
    let g = import_bytes(&one_io(nodes, vec![w, c], &[2, 2])).unwrap();
    assert_eq!(
        g.nodes[1].op,
        Op::AddConst {
            constant: vec![100., 100., 100., 200., 200., 200.]
        }
    );
    assert_close(
        &output(&g, &[1., 2., 3., 4.]),
        &[101., 102., 100., 203., 204., 200.],
    );
}

#[test]
fn add_after_relu_and_constant_nodes() {
    let nodes = vec![
        node("Relu", "", &["x"], &["r"], vec![]),
        node(
            "Constant",
            "k",
            &[],
            &["c"],
            vec![attr_floats("value_floats", &[1., -1.])],
        ),
        node("Add", "", &["r", "c"], &["y"], vec![]),
    ];
    let g = import_bytes(&one_io(nodes, vec![], &[1, 2])).unwrap();
    assert_eq!(g.nodes[0].name, "Relu#0");
    assert_eq!(g.nodes[1].name, "Add#2");
    assert_eq!(
        g.nodes[1].op,
        Op::AddConst {
            constant: vec![1., -1.]
        }
    );
    assert_close(&output(&g, &[-5., 5.]), &[1., 4.]);
}

#[test]
fn flatten_reshape_squeeze_unsqueeze_shapes() {
    let shape = int64_tensor("shape", &[3], &[0, -1, 3]);
    let shape_const = int64_tensor("", &[2], &[6, -1]);
    let axes = int64_tensor("axes", &[1], &[0]);
    let nodes = vec![
        node("Flatten", "f1", &["x"], &["a"], vec![]), // [1,2,3,4] -> [1,24]
        node("Flatten", "f2", &["x"], &["b"], vec![attr_int("axis", 2)]), // -> [2,12]
        node(
            "Constant",
            "c",
            &[],
            &["s2"],
            vec![attr_tensor("value", shape_const)],
        ),
        node("Reshape", "r1", &["b", "shape"], &["c1"], vec![]), // [2,12] -> [2,4,3]
        node("Reshape", "r2", &["c1", "s2"], &["d"], vec![]),    // -> [6,4]
        node("Unsqueeze", "u1", &["d", "axes"], &["e"], vec![]), // -> [1,6,4]
        node(
            "Unsqueeze",
            "u2",
            &["e"],
            &["f"],
            vec![attr_ints("axes", &[-1])],
        ), // -> [1,6,4,1]
        node(
            "Squeeze",
            "s1",
            &["f"],
            &["g"],
            vec![attr_ints("axes", &[0, -1])],
        ), // -> [6,4]
        node("Squeeze", "s3", &["a", "axes"], &["h"], vec![]),   // [1,24] -> [24]
        node("Identity", "id", &["h"], &["y"], vec![]),
    ];
    let g = import_bytes(&one_io(nodes, vec![shape, axes], &[1, 2, 3, 4])).unwrap();
    let shapes: Vec<Vec<usize>> = g.nodes.iter().map(|n| n.shape.clone()).collect();
    let want: Vec<Vec<usize>> = vec![
        vec![1, 24],
        vec![2, 12],
        vec![2, 4, 3],
        vec![6, 4],
        vec![1, 6, 4],
        vec![1, 6, 4, 1],
    ];
    assert_eq!(shapes[..6], want[..]);
    assert_eq!(shapes[6..], [vec![6, 4], vec![24]]);
    assert!(g.nodes.iter().all(|n| n.op == Op::Reshape));
    assert_eq!(g.output, 8, "Identity adds no node");
    let x: Vec<f64> = (0..24).map(f64::from).collect();
    assert_eq!(output(&g, &x), x);
}

#[test]
fn flatten_axis_zero_and_squeeze_all() {
    let nodes = vec![
        node("Squeeze", "sq", &["x"], &["s"], vec![]),
        node("Flatten", "fl", &["s"], &["y"], vec![attr_int("axis", 0)]),
    ];
    let g = import_bytes(&one_io(nodes, vec![], &[1, 3, 1, 2])).unwrap();
    assert_eq!(g.nodes[0].shape, vec![3, 2]);
    assert_eq!(g.nodes[1].shape, vec![1, 6]);
}

#[test]
fn symbolic_batch_becomes_one() {
    let input = value_info(
        "x",
        &[
            Dim::Param("batch_size".into()),
            Dim::Value(0),
            Dim::Value(3),
        ],
    );
    let relu = node("Relu", "r", &["x"], &["y"], vec![]);
    let out = value_info(
        "y",
        &[
            Dim::Param("batch_size".into()),
            Dim::Value(1),
            Dim::Value(3),
        ],
    );
    let g = import_bytes(&model_bytes(graph(vec![relu], vec![], input, out))).unwrap();
    assert_eq!(g.input_shape, vec![1, 1, 3]);
}

#[test]
fn initializer_listed_as_input_is_not_an_input() {
    let l = LayerSpec {
        weight: vec![2.],
        bias: vec![1.],
        relu: false,
    };
    let bytes = mlp_model(1, &[l]);
    let mut m: zkinfer_compiler::onnx::proto::ModelProto =
        prost::Message::decode(bytes.as_slice()).unwrap();
    let gp = m.graph.as_mut().unwrap();
    gp.input.push(value_info_fixed("fc1.weight", &[1, 1]));
    gp.input.push(value_info_fixed("fc1.bias", &[1]));
    let g = import_bytes(&prost::Message::encode_to_vec(&m)).unwrap();
    assert_close(&output(&g, &[3.]), &[7.]);
}

#[test]
fn typed_data_fields_decode() {
    // Float weights in float_data, bias as DOUBLE, reshape target as INT32.
    use zkinfer_compiler::onnx::proto::tensor_proto::DataType;
    use zkinfer_compiler::onnx::proto::TensorProto;
    let w = TensorProto {
        name: "W".into(),
        dims: vec![2, 1],
        data_type: DataType::Float as i32,
        float_data: vec![3., 4.],
        ..Default::default()
    };
    let b = TensorProto {
        name: "b".into(),
        dims: vec![1],
        data_type: DataType::Double as i32,
        double_data: vec![0.5],
        ..Default::default()
    };
    let s = TensorProto {
        name: "s".into(),
        dims: vec![1],
        data_type: DataType::Int32 as i32,
        int32_data: vec![-1],
        ..Default::default()
    };
    let nodes = vec![
        node("Gemm", "g", &["x", "W", "b"], &["h"], vec![]),
        node("Reshape", "r", &["h", "s"], &["y"], vec![]),
    ];
    let g = import_bytes(&one_io(nodes, vec![w, b, s], &[1, 2])).unwrap();
    assert_eq!(g.nodes[1].shape, vec![1]);
    assert_close(&output(&g, &[1., 1.]), &[7.5]);
}

#[test]
fn small_integer_bool_and_half_initializers_decode() {
    // INT8 weights in raw_data, a UINT8 bias in int32_data, a FLOAT16 scale, an INT16 and a
    // BOOL constant added in.
    use zkinfer_compiler::onnx::proto::tensor_proto::DataType;
    use zkinfer_compiler::onnx::proto::TensorProto;
    let t = |name: &str, dims: &[i64], ty: DataType| TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: ty as i32,
        ..Default::default()
    };
    let w = TensorProto {
        raw_data: vec![0xfe, 3], // -2, 3
        ..t("W", &[2, 1], DataType::Int8)
    };
    let b = TensorProto {
        int32_data: vec![200],
        ..t("b", &[1], DataType::Uint8)
    };
    // 0x3c00 = 1.0, 0xb800 = -0.5, 0x0001 = 2^-24 (subnormal).
    let h = TensorProto {
        raw_data: vec![0x00, 0xb8],
        ..t("h", &[1], DataType::Float16)
    };
    let i16c = TensorProto {
        raw_data: (-300i16).to_le_bytes().to_vec(),
        ..t("i", &[1], DataType::Int16)
    };
    let flag = TensorProto {
        raw_data: vec![5],
        ..t("f", &[1], DataType::Bool)
    };
    let nodes = vec![
        node("Gemm", "g", &["x", "W", "b"], &["p"], vec![]),
        node("Mul", "m", &["p", "h"], &["q"], vec![]),
        node("Add", "a", &["q", "i"], &["r"], vec![]),
        node("Add", "a2", &["r", "f"], &["y"], vec![]),
    ];
    let g = import_bytes(&one_io(nodes, vec![w, b, h, i16c, flag], &[1, 2])).unwrap();
    // (1·-2 + 2·3 + 200) · -0.5 - 300 + 1
    assert_close(&output(&g, &[1., 2.]), &[-401.]);

    // A raw_data length that does not match the shape is an error naming the tensor.
    let bad = TensorProto {
        raw_data: vec![1, 2, 3],
        ..t("W", &[2, 1], DataType::Int8)
    };
    let nodes = vec![node("Gemm", "g", &["x", "W"], &["y"], vec![])];
    let e = import_bytes(&one_io(nodes, vec![bad], &[1, 2])).unwrap_err();
    assert!(
        e.to_string().contains("`W`") || e.to_string().contains("W"),
        "{e}"
    );
}
