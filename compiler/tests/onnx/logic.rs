//! Comparisons, boolean logic, Where, ArgMax/ArgMin, Hardmax and LogSoftmax.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::util::*;
use zkinfer_compiler::onnx::encode::*;

const X: [f64; 6] = [-1.5, 0.5, 0.5, 2.0, -3.0, 0.0];

fn b(c: bool) -> f64 {
    f64::from(u8::from(c))
}

#[test]
fn comparisons_against_a_constant_and_between_activations() {
    let c = [0.5f32, 0.0, 1.0];
    type Cmp = fn(f64, f64) -> bool;
    let cases: [(&str, Cmp); 5] = [
        ("Greater", |x, y| x > y),
        ("Less", |x, y| x < y),
        ("GreaterOrEqual", |x, y| x >= y),
        ("LessOrEqual", |x, y| x <= y),
        ("Equal", |x, y| x == y),
    ];
    for (op, f) in cases {
        // x against a broadcast constant, on either side.
        let g = import(
            vec![node(op, "/cmp", &["x", "c"], &["y"], vec![])],
            vec![float_tensor("c", &[3], &c)],
            &[2, 3],
        );
        assert_eq!(g.nodes.last().unwrap().name, "/cmp", "{op}");
        let want: Vec<f64> = X
            .iter()
            .enumerate()
            .map(|(i, &x)| b(f(x, f64::from(c[i % 3]))))
            .collect();
        assert_close(&run(&g, &X), &want);
        let g = import(
            vec![node(op, "/cmp", &["c", "x"], &["y"], vec![])],
            vec![float_tensor("c", &[3], &c)],
            &[2, 3],
        );
        let want: Vec<f64> = X
            .iter()
            .enumerate()
            .map(|(i, &x)| b(f(f64::from(c[i % 3]), x)))
            .collect();
        assert_close(&run(&g, &X), &want);
        // x against relu(x).
        let nodes = vec![
            node("Relu", "/r", &["x"], &["r"], vec![]),
            node(op, "/cmp", &["x", "r"], &["y"], vec![]),
        ];
        let g = import(nodes, vec![], &[2, 3]);
        let want: Vec<f64> = X.iter().map(|&x| b(f(x, x.max(0.0)))).collect();
        assert_close(&run(&g, &X), &want);
    }
}

#[test]
fn boolean_logic_and_where() {
    // p = x > 0, q = x < 1 (0/1 values), then the logic op.
    type Logic = fn(bool, bool) -> bool;
    let cases: [(&str, Logic); 4] = [
        ("And", |p, q| p && q),
        ("Or", |p, q| p || q),
        ("Xor", |p, q| p != q),
        ("Not", |p, _| !p),
    ];
    for (op, f) in cases {
        let inputs: &[&str] = if op == "Not" { &["p"] } else { &["p", "q"] };
        let nodes = vec![
            node("Greater", "/p", &["x", "zero"], &["p"], vec![]),
            node("Less", "/q", &["x", "one"], &["q"], vec![]),
            node(op, "/l", inputs, &["y"], vec![]),
        ];
        let inits = vec![
            float_tensor("zero", &[], &[0.0]),
            float_tensor("one", &[], &[1.0]),
        ];
        let g = import(nodes, inits, &[6]);
        let want: Vec<f64> = X.iter().map(|&x| b(f(x > 0.0, x < 1.0))).collect();
        assert_close(&run(&g, &X), &want);
    }

    // Where with a computed condition, then with a constant mask and a constant branch.
    let nodes = vec![
        node("Greater", "/p", &["x", "zero"], &["p"], vec![]),
        node("Neg", "/n", &["x"], &["n"], vec![]),
        node("Where", "/w", &["p", "x", "n"], &["y"], vec![]),
    ];
    let g = import(nodes, vec![float_tensor("zero", &[], &[0.0])], &[6]);
    assert_eq!(g.nodes.last().unwrap().name, "/w");
    assert_close(&run(&g, &X), &X.map(f64::abs));
    let mask = float_tensor("m", &[6], &[1.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
    let nodes = vec![node("Where", "/w", &["m", "x", "fill"], &["y"], vec![])];
    let g = import(nodes, vec![mask, float_tensor("fill", &[], &[-9.0])], &[6]);
    assert_eq!(kinds(&g), ["MulConst", "AddConst"]);
    assert_close(&run(&g, &X), &[-1.5, -9.0, 0.5, -9.0, -3.0, -9.0]);
    // An infinite fill is an attention mask; one that reaches the output (no Softmax or max
    // ends it) has no fixed-point value there: a named error.
    let mask = float_tensor("m", &[6], &[1.0; 6]);
    let nodes = vec![node("Where", "/w", &["m", "x", "fill"], &["y"], vec![])];
    let e = import_err(
        nodes,
        vec![mask, float_tensor("fill", &[], &[f32::NEG_INFINITY])],
        &[6],
    );
    assert!(
        e.to_string().contains("`y`") && e.to_string().contains("-inf"),
        "{e}"
    );
}

#[test]
fn constant_logic_folds() {
    let nodes = vec![
        node("Less", "/l", &["a", "b"], &["c"], vec![]),
        node("Where", "/w", &["c", "a", "b"], &["m"], vec![]),
        node("Add", "/add", &["x", "m"], &["y"], vec![]),
    ];
    let inits = vec![
        float_tensor("a", &[2], &[1.0, 5.0]),
        float_tensor("b", &[2], &[3.0, 2.0]),
    ];
    let g = import(nodes, inits, &[2]);
    assert_eq!(kinds(&g), ["AddConst"]);
    assert_close(&run(&g, &[0.0, 0.0]), &[1.0, 2.0]);
}

#[test]
fn argmax_argmin_first_and_last_index_any_axis() {
    // [2, 3] rows with ties: row 0 = -1.5 0.5 0.5, row 1 = 2 -3 0.
    let case =
        |op: &str, attrs| import(vec![node(op, "/a", &["x"], &["y"], attrs)], vec![], &[2, 3]);
    let g = case("ArgMax", vec![attr_int("axis", 1)]);
    assert_eq!(out_shape(&g), [2, 1]);
    assert_eq!(g.nodes.last().unwrap().name, "/a");
    assert_close(&run(&g, &X), &[1.0, 0.0]);
    let g = case(
        "ArgMax",
        vec![
            attr_int("axis", -1),
            attr_int("select_last_index", 1),
            attr_int("keepdims", 0),
        ],
    );
    assert_eq!(out_shape(&g), [2]);
    assert_close(&run(&g, &X), &[2.0, 0.0]);
    let g = case("ArgMin", vec![attr_int("axis", 1)]);
    assert_close(&run(&g, &X), &[0.0, 1.0]);
    // Axis 0 (the default): per column.
    let g = case("ArgMax", vec![]);
    assert_eq!(out_shape(&g), [1, 3]);
    assert_close(&run(&g, &X), &[1.0, 0.0, 0.0]);
    let g = case("ArgMin", vec![attr_int("keepdims", 0)]);
    assert_close(&run(&g, &X), &[0.0, 1.0, 1.0]);
    let e = import_err(
        vec![node(
            "ArgMax",
            "/a",
            &["x"],
            &["y"],
            vec![attr_int("axis", 2)],
        )],
        vec![],
        &[2, 3],
    );
    assert!(e.to_string().contains("axis"), "{e}");
}

#[test]
fn hardmax_and_log_softmax() {
    let g = import(
        vec![node("Hardmax", "/h", &["x"], &["y"], vec![])],
        vec![],
        &[2, 3],
    );
    assert_eq!(out_shape(&g), [2, 3]);
    assert_close(&run(&g, &X), &[0.0, 1.0, 0.0, 1.0, 0.0, 0.0]);
    let g = import(
        vec![node(
            "Hardmax",
            "/h",
            &["x"],
            &["y"],
            vec![attr_int("axis", 0)],
        )],
        vec![],
        &[2, 3],
    );
    assert_close(&run(&g, &X), &[0.0, 1.0, 1.0, 1.0, 0.0, 0.0]);

    let lsm = |row: &[f64]| -> Vec<f64> {
        let lse = row.iter().map(|v| v.exp()).sum::<f64>().ln();
        row.iter().map(|v| v - lse).collect()
    };
    let g = import(
        vec![node("LogSoftmax", "/l", &["x"], &["y"], vec![])],
        vec![],
        &[2, 3],
    );
    assert_eq!(g.nodes.last().unwrap().name, "/l");
    let want: Vec<f64> = X.chunks(3).flat_map(lsm).collect();
    assert_close(&run(&g, &X), &want);
    let g = import(
        vec![node(
            "LogSoftmax",
            "/l",
            &["x"],
            &["y"],
            vec![attr_int("axis", 0)],
        )],
        vec![],
        &[2, 3],
    );
    let cols: Vec<Vec<f64>> = (0..3).map(|j| lsm(&[X[j], X[3 + j]])).collect();
    let want: Vec<f64> = (0..6).map(|i| cols[i % 3][i / 3]).collect();
    assert_close(&run(&g, &X), &want);

    // A constant folds.
    let nodes = vec![
        node(
            "ArgMax",
            "/a",
            &["c"],
            &["i"],
            vec![attr_int("keepdims", 0)],
        ),
        node("Add", "/add", &["x", "i"], &["y"], vec![]),
    ];
    let g = import(
        nodes,
        vec![float_tensor("c", &[2, 2], &[1.0, 5.0, 3.0, 2.0])],
        &[2],
    );
    assert_eq!(kinds(&g), ["AddConst"]);
    assert_close(&run(&g, &[0.0, 0.0]), &[1.0, 0.0]);
}

#[test]
fn integer_and_boolean_graph_inputs_are_numbers() {
    use zkinfer_compiler::onnx::proto::tensor_proto::DataType;
    for ty in [
        DataType::Int64,
        DataType::Int32,
        DataType::Bool,
        DataType::Uint8,
    ] {
        let nodes = vec![node("Relu", "/r", &["x"], &["y"], vec![])];
        let mut m = model(graph(
            nodes,
            vec![],
            value_info_fixed("x", &[3]),
            value_info_unshaped("y"),
        ));
        let input = &mut m.graph.as_mut().unwrap().input[0];
        if let Some(zkinfer_compiler::onnx::proto::type_proto::Value::TensorType(t)) =
            input.r#type.as_mut().and_then(|t| t.value.as_mut())
        {
            t.elem_type = ty as i32;
        }
        let g = zkinfer_compiler::onnx::import_bytes(&prost::Message::encode_to_vec(&m)).unwrap();
        assert_close(&run(&g, &[-2.0, 0.0, 3.0]), &[0.0, 0.0, 3.0]);
    }
    let nodes = vec![node("Relu", "/r", &["x"], &["y"], vec![])];
    let mut m = model(graph(
        nodes,
        vec![],
        value_info_fixed("x", &[3]),
        value_info_unshaped("y"),
    ));
    if let Some(zkinfer_compiler::onnx::proto::type_proto::Value::TensorType(t)) =
        m.graph.as_mut().unwrap().input[0]
            .r#type
            .as_mut()
            .and_then(|t| t.value.as_mut())
    {
        t.elem_type = DataType::String as i32;
    }
    let e = zkinfer_compiler::onnx::import_bytes(&prost::Message::encode_to_vec(&m)).unwrap_err();
    assert!(
        e.to_string().contains("`x`") && e.to_string().contains("not a number type"),
        "{e}"
    );
}

#[test]
fn cast_between_floats_integers_and_booleans() {
    let cast = |to: i64| {
        import(
            vec![node("Cast", "/c", &["x"], &["y"], vec![attr_int("to", to)])],
            vec![],
            &[6],
        )
    };
    // To FLOAT: the identity (no node: the output is then an explicit copy).
    assert_eq!(kinds(&cast(1)), ["Select"]);
    // To INT64: toward zero.
    let g = cast(7);
    assert_eq!(kinds(&g), ["Cast"]);
    assert_close(&run(&g, &X), &[-1.0, 0.0, 0.0, 2.0, -3.0, 0.0]);
    // To BOOL: nonzero.
    assert_close(&run(&cast(9), &X), &[1.0, 1.0, 1.0, 1.0, 1.0, 0.0]);
    let e = import_err(
        vec![node("Cast", "/c", &["x"], &["y"], vec![attr_int("to", 8)])],
        vec![],
        &[6],
    );
    assert!(e.to_string().contains("to"), "{e}");

    // Constants: a shape computation Cast to float and back folds exactly.
    let nodes = vec![
        node("Cast", "/f", &["c"], &["f"], vec![attr_int("to", 1)]),
        node("Mul", "/m", &["f", "half"], &["h"], vec![]),
        node("Cast", "/i", &["h"], &["i"], vec![attr_int("to", 7)]),
        node("Cast", "/back", &["i"], &["b"], vec![attr_int("to", 1)]),
        node("Add", "/add", &["x", "b"], &["y"], vec![]),
    ];
    let inits = vec![
        int64_tensor("c", &[2], &[3, -5]),
        float_tensor("half", &[], &[0.5]),
    ];
    let g = import(nodes, inits, &[2]);
    assert_eq!(kinds(&g), ["AddConst"]);
    assert_close(&run(&g, &[0.0, 0.0]), &[1.0, -2.0]);
}
