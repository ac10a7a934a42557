//! Import errors: unsupported ops, malformed bytes, missing or inconsistent tensors.
#![allow(clippy::unwrap_used, clippy::panic)]

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use zkinfer_compiler::onnx::encode::*;
use zkinfer_compiler::onnx::proto::{ModelProto, NodeProto, TensorProto};
use zkinfer_compiler::onnx::{import_bytes, import_file, ImportError};

fn one_io(nodes: Vec<NodeProto>, inits: Vec<TensorProto>, in_dims: &[usize]) -> Vec<u8> {
    model_bytes(graph(
        nodes,
        inits,
        value_info_fixed("x", in_dims),
        value_info_unshaped("y"),
    ))
}

fn err(bytes: &[u8]) -> ImportError {
    match import_bytes(bytes) {
        Ok(g) => panic!("import unexpectedly succeeded: {g:?}"),
        Err(e) => e,
    }
}

fn small_mlp() -> Vec<u8> {
    let l1 = LayerSpec {
        weight: vec![0.5; 6],
        bias: vec![1., 2.],
        relu: true,
    };
    let l2 = LayerSpec {
        weight: vec![1., -1.],
        bias: vec![0.],
        relu: false,
    };
    mlp_model(3, &[l1, l2])
}

#[test]
fn unsupported_op_names_op_and_node() {
    let scan = node("Scan", "/rnn/Scan", &["x"], &["y"], vec![]);
    let e = err(&one_io(vec![scan], vec![], &[1, 1, 28]));
    assert!(
        matches!(&e, ImportError::UnsupportedOp { op_type, node } if op_type == "Scan" && node == "/rnn/Scan")
    );
    assert_eq!(
        e.to_string(),
        "unsupported ONNX op `Scan` at node `/rnn/Scan`"
    );

    let unnamed = node("NonMaxSuppression", "", &["x"], &["y"], vec![]);
    let msg = err(&one_io(vec![unnamed], vec![], &[1, 4])).to_string();
    assert!(
        msg.contains("`NonMaxSuppression`") && msg.contains("`NonMaxSuppression#0`"),
        "{msg}"
    );

    let mut custom = node("Relu", "r", &["x"], &["y"], vec![]);
    custom.domain = "com.example".into();
    assert!(err(&one_io(vec![custom], vec![], &[1]))
        .to_string()
        .contains("com.example.Relu"));
}

#[test]
fn truncated_and_garbage_bytes_are_errors() {
    let bytes = small_mlp();
    assert!(import_bytes(&bytes).is_ok());
    for len in 0..bytes.len() {
        let _ = import_bytes(&bytes[..len]); // must not panic
    }
    assert!(import_bytes(&bytes[..bytes.len() / 2]).is_err());
    assert!(matches!(err(&[]), ImportError::MissingGraph));
    assert!(matches!(err(&[0xff; 16]), ImportError::Decode(_)));
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for _ in 0..200 {
        let n = rng.gen_range(0..256);
        let garbage: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
        let _ = import_bytes(&garbage);
    }
    // Corrupt single bytes of a valid model: errors or a (different) graph, never a panic.
    for _ in 0..2000 {
        let mut b = bytes.clone();
        let i = rng.gen_range(0..b.len());
        b[i] = rng.gen();
        let _ = import_bytes(&b);
    }
}

#[test]
fn missing_initializer() {
    let gemm = node("Gemm", "/fc/Gemm", &["x", "fc.weight"], &["y"], vec![]);
    let e = err(&one_io(vec![gemm], vec![], &[1, 2]));
    assert!(
        matches!(&e, ImportError::MissingInitializer { name, node, .. } if name == "fc.weight" && node == "/fc/Gemm")
    );
    assert!(e.to_string().contains("`fc.weight`"), "{e}");
}

#[test]
fn bad_tensor_data() {
    let mut w = float_tensor("W", &[2, 2], &[1., 2., 3., 4.]);
    w.raw_data.pop();
    let mm = node("MatMul", "mm", &["x", "W"], &["y"], vec![]);
    let e = err(&one_io(vec![mm.clone()], vec![w], &[1, 2]));
    assert!(
        matches!(&e, ImportError::BadTensor { tensor, .. } if tensor == "W"),
        "{e}"
    );
    let mut w = float_tensor("W", &[2, 2], &[1., 2., 3., 4.]);
    w.dims = vec![2, -2];
    assert!(matches!(
        err(&one_io(vec![mm.clone()], vec![w], &[1, 2])),
        ImportError::BadTensor { .. }
    ));
    let mut w = float_tensor("W", &[2, 2], &[1., 2., 3., 4.]);
    w.data_type = 8; // STRING
    let msg = err(&one_io(vec![mm], vec![w], &[1, 2])).to_string();
    assert!(msg.contains("STRING"), "{msg}");
}

#[test]
fn unsupported_uses_are_explained() {
    let mm = node("MatMul", "/MatMul", &["x", "x"], &["y"], vec![]);
    let msg = err(&one_io(vec![mm], vec![], &[2, 3])).to_string();
    assert!(
        msg.contains("MatMul node `/MatMul`") && msg.contains("[2, 3] by [2, 3]"),
        "{msg}"
    );

    let w = float_tensor("W", &[2, 2], &[0.; 4]);
    let gemm = node("Gemm", "g", &["x", "x"], &["y"], vec![]);
    let e = err(&one_io(vec![gemm], vec![], &[2, 2]));
    assert!(
        matches!(&e, ImportError::UnsupportedUse { .. }) && e.to_string().contains("use MatMul"),
        "{e}"
    );

    let gemm = node(
        "Gemm",
        "g",
        &["x", "W"],
        &["y"],
        vec![attr_float("transB", 1.0)],
    );
    let msg = err(&one_io(vec![gemm], vec![w.clone()], &[2, 2])).to_string();
    assert!(msg.contains("transB") && msg.contains("FLOAT"), "{msg}");

    let gemm = node("Gemm", "g", &["x", "W"], &["y"], vec![]);
    let e = err(&one_io(vec![gemm], vec![w], &[1, 2, 2]));
    assert!(matches!(e, ImportError::ShapeMismatch { .. }), "{e}");
}

#[test]
fn shape_errors() {
    let w = float_tensor("W", &[3, 2], &[0.; 6]);
    let mm = node("MatMul", "mm", &["x", "W"], &["y"], vec![]);
    assert!(matches!(
        err(&one_io(vec![mm], vec![w], &[1, 2])),
        ImportError::ShapeMismatch { .. }
    ));

    let nodes = vec![
        node("Flatten", "f", &["x"], &["a"], vec![]),
        node("Add", "add", &["x", "a"], &["y"], vec![]),
    ];
    let msg = err(&one_io(nodes, vec![], &[1, 2, 2])).to_string();
    assert!(msg.contains("add") && msg.contains("[1, 2, 2]"), "{msg}");

    let s = int64_tensor("s", &[2], &[3, -1]);
    let r = node("Reshape", "r", &["x", "s"], &["y"], vec![]);
    assert!(matches!(
        err(&one_io(vec![r], vec![s], &[2, 2])),
        ImportError::ShapeMismatch { .. }
    ));

    let c = float_tensor("c", &[3], &[0.; 3]);
    let add = node("Add", "add", &["x", "c"], &["y"], vec![]);
    assert!(matches!(
        err(&one_io(vec![add], vec![c], &[2, 2])),
        ImportError::ShapeMismatch { .. }
    ));

    let sq = node(
        "Squeeze",
        "sq",
        &["x"],
        &["y"],
        vec![attr_ints("axes", &[1])],
    );
    assert!(matches!(
        err(&one_io(vec![sq], vec![], &[2, 2])),
        ImportError::ShapeMismatch { .. }
    ));

    let out = value_info_fixed("y", &[4]);
    let relu = node("Relu", "r", &["x"], &["y"], vec![]);
    let bytes = model_bytes(graph(
        vec![relu],
        vec![],
        value_info_fixed("x", &[2, 2]),
        out,
    ));
    assert!(matches!(err(&bytes), ImportError::BadOutput { .. }));
}

#[test]
fn graph_interface_errors() {
    // An output nothing computes names itself.
    let mut m: ModelProto = prost::Message::decode(small_mlp().as_slice()).unwrap();
    let g = m.graph.as_mut().unwrap();
    g.output.push(value_info_fixed("/nowhere", &[1, 2]));
    let msg = err(&prost::Message::encode_to_vec(&m)).to_string();
    assert!(msg.contains("/nowhere"), "{msg}");

    let mut m: ModelProto = prost::Message::decode(small_mlp().as_slice()).unwrap();
    m.graph.as_mut().unwrap().output.clear();
    assert!(matches!(
        err(&prost::Message::encode_to_vec(&m)),
        ImportError::NoOutput
    ));

    let mut m: ModelProto = prost::Message::decode(small_mlp().as_slice()).unwrap();
    m.graph.as_mut().unwrap().input.clear();
    let e = err(&prost::Message::encode_to_vec(&m));
    assert!(
        matches!(&e, ImportError::MissingInitializer { name, .. } if name == "input"),
        "a graph without inputs whose nodes read an undeclared input: {e}"
    );

    let mut m: ModelProto = prost::Message::decode(small_mlp().as_slice()).unwrap();
    m.graph.as_mut().unwrap().input[0].r#type = None;
    assert!(matches!(
        err(&prost::Message::encode_to_vec(&m)),
        ImportError::BadInput { .. }
    ));

    let relu = node("Relu", "r", &["x"], &["z"], vec![]);
    assert!(matches!(
        err(&one_io(vec![relu], vec![], &[1])),
        ImportError::BadOutput { .. }
    ));
}

#[test]
fn missing_file_is_io_error() {
    let e = import_file(std::path::Path::new("/nonexistent/zkinfer/model.onnx")).unwrap_err();
    assert!(matches!(e, ImportError::Io { .. }));
    assert!(
        e.to_string().contains("/nonexistent/zkinfer/model.onnx"),
        "{e}"
    );
}
