//! Graph interfaces: several inputs and outputs, an output that is the input.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::util::*;
use zkinfer_compiler::graph::IoPart;
use zkinfer_compiler::onnx::encode::*;
use zkinfer_compiler::onnx::import_bytes;

fn part(name: &str, shape: &[usize]) -> IoPart {
    IoPart {
        name: name.into(),
        shape: shape.to_vec(),
    }
}

/// `y = a · b + a` and `z = relu(b)`, from inputs `a` [2] and `b` [1, 2].
fn two_in_two_out() -> Vec<u8> {
    let nodes = vec![
        node("Mul", "/mul", &["a", "b"], &["m"], vec![]),
        node("Add", "/add", &["m", "a"], &["y"], vec![]),
        node("Relu", "/relu", &["b"], &["z"], vec![]),
    ];
    let mut g = graph(
        nodes,
        vec![],
        value_info_fixed("a", &[2]),
        value_info_fixed("y", &[1, 2]),
    );
    g.input.push(value_info_fixed("b", &[1, 2]));
    g.output.push(value_info_fixed("z", &[1, 2]));
    prost::Message::encode_to_vec(&model(g))
}

#[test]
fn inputs_and_outputs_are_laid_end_to_end() {
    let g = import_bytes(&two_in_two_out()).unwrap();
    assert_eq!(g.input_shape, [4]);
    assert_eq!(g.input_parts, [part("a", &[2]), part("b", &[1, 2])]);
    assert_eq!(g.output_parts, [part("y", &[1, 2]), part("z", &[1, 2])]);
    assert_eq!(g.input_name, "a, b");
    assert_eq!(out_shape(&g), [4]);
    // a = (1, -2), b = (3, 4): y = (4, -10), z = (3, 4).
    assert_close(&run(&g, &[1.0, -2.0, 3.0, 4.0]), &[4.0, -10.0, 3.0, 4.0]);
    // The input parts and the joined output are copies (Select), named after the interface.
    assert_eq!(g.nodes[0].name, "a");
    assert_eq!(g.nodes[1].name, "b");
    assert_eq!(g.nodes.last().unwrap().name, "outputs");
}

#[test]
fn single_input_and_output_keep_the_plain_layout() {
    let g = import(
        vec![node("Relu", "/r", &["x"], &["y"], vec![])],
        vec![],
        &[1, 3],
    );
    assert!(g.input_parts.is_empty() && g.output_parts.is_empty());
    assert_eq!((g.input_name.as_str(), g.output_name.as_str()), ("x", "y"));
    assert_eq!(kinds(&g), ["Relu"]);
}

#[test]
fn an_output_that_is_the_input_is_an_explicit_copy() {
    let g = import(
        vec![node("Identity", "/id", &["x"], &["y"], vec![])],
        vec![],
        &[1, 3],
    );
    assert_eq!(kinds(&g), ["Select"]);
    assert_eq!(g.output, 1);
    assert_close(&run(&g, &[1.0, -2.0, 3.0]), &[1.0, -2.0, 3.0]);

    // The input is one of several outputs.
    let nodes = vec![node("Relu", "/r", &["x"], &["r"], vec![])];
    let mut gp = graph(
        nodes,
        vec![],
        value_info_fixed("x", &[2]),
        value_info_fixed("x", &[2]),
    );
    gp.output.push(value_info_fixed("r", &[2]));
    let g = import_bytes(&prost::Message::encode_to_vec(&model(gp))).unwrap();
    assert_close(&run(&g, &[-1.0, 2.0]), &[-1.0, 2.0, 0.0, 2.0]);
}

#[test]
fn a_constant_output_is_bound_like_the_others() {
    let nodes = vec![
        node("Relu", "/r", &["x"], &["y"], vec![]),
        node(
            "Constant",
            "/k",
            &[],
            &["k"],
            vec![attr_float("value_float", 1.0)],
        ),
    ];
    let mut gp = graph(
        nodes,
        vec![],
        value_info_fixed("x", &[2]),
        value_info_fixed("y", &[2]),
    );
    gp.output.push(value_info_unshaped("k"));
    let g = import_bytes(&prost::Message::encode_to_vec(&model(gp))).unwrap();
    assert_eq!(g.output_parts.len(), 2);
    assert_close(&run(&g, &[-1.0, 2.0]), &[0.0, 2.0, 1.0]);
    // A graph whose only output is a constant proves it too.
    let c = node(
        "Constant",
        "k",
        &[],
        &["y"],
        vec![attr_floats("value_floats", &[0.5, -2.0])],
    );
    let gp = graph(
        vec![c],
        vec![],
        value_info_fixed("x", &[3]),
        value_info_fixed("y", &[2]),
    );
    let g = import_bytes(&prost::Message::encode_to_vec(&model(gp))).unwrap();
    assert_close(&run(&g, &[7.0, 8.0, 9.0]), &[0.5, -2.0]);
}

#[test]
fn a_graph_without_inputs_reads_a_zero_anchor() {
    let c = node(
        "Constant",
        "k",
        &[],
        &["y"],
        vec![attr_floats("value_floats", &[0.5, -2.0])],
    );
    let mut gp = graph(
        vec![c],
        vec![],
        value_info_fixed("x", &[3]),
        value_info_fixed("y", &[2]),
    );
    gp.input.clear();
    let g = import_bytes(&prost::Message::encode_to_vec(&model(gp))).unwrap();
    assert!(g.no_input && g.inputs().is_empty());
    assert_eq!(g.input_shape, [1]);
    assert_eq!(g.input_name, zkinfer_compiler::onnx::NO_INPUT_NAME);
    assert_close(&run(&g, &[0.0]), &[0.5, -2.0]);
}
