//! Quantizer tests for function tables: sharing between nodes, and Round without one.

use zkinfer_compiler::graph::{Node, Op, UnaryFn};
use zkinfer_compiler::quantize::*;
use zkinfer_compiler::unary::Param;
use zkinfer_compiler::Graph;
use zkinfer_ir::QOp;

/// `x -> f1 -> (2·y + 0.5) -> f2`: the second function's argument spans a wider, overlapping
/// domain than the first's.
fn two_functions(f1: UnaryFn, f2: UnaryFn) -> Graph {
    let n = 4;
    let mut weight = vec![0.0; n * n];
    for i in 0..n {
        weight[i * n + i] = 2.0;
    }
    let nodes = vec![
        Node::new("f1", Op::Unary { func: f1 }, vec![0], vec![1, n]),
        Node::new(
            "scale",
            Op::Linear {
                weight,
                bias: vec![0.5; n],
                n_in: n,
                n_out: n,
            },
            vec![1],
            vec![1, n],
        ),
        Node::new("f2", Op::Unary { func: f2 }, vec![2], vec![1, n]),
    ];
    Graph::chain(vec![1, n], nodes)
}

fn rows() -> Vec<Vec<f64>> {
    (0..8)
        .map(|r| (0..4).map(|i| f64::from(r * 4 + i) / 16.0 - 1.0).collect())
        .collect()
}

#[test]
fn one_table_serves_two_nodes_of_the_same_function_and_scales() {
    let g = two_functions(UnaryFn::Tanh, UnaryFn::Tanh);
    let q = quantize(&g, &rows(), QuantizeConfig::default(), "src").expect("quantize");
    assert_eq!(q.graph.tables.len(), 1, "{:?}", q.lookups());
    let lookups: Vec<usize> = q
        .graph
        .nodes
        .iter()
        .filter_map(|n| match n.op {
            QOp::Lookup { table } => Some(table),
            _ => None,
        })
        .collect();
    assert_eq!(lookups, vec![0, 0]);
    // The shared table is exact wherever either node reads it.
    let report = accuracy(&g, &q, &rows()).expect("accuracy");
    assert!(report.output_max_abs_error < 1e-3, "{report:#?}");
}

#[test]
fn functions_that_differ_in_a_parameter_keep_their_own_tables() {
    let elu = |a: f32| UnaryFn::Elu {
        alpha: Param::new(a),
    };
    let g = two_functions(elu(1.0), elu(0.5));
    let q = quantize(&g, &rows(), QuantizeConfig::default(), "src").expect("quantize");
    assert_eq!(q.graph.tables.len(), 2);
    let report = accuracy(&g, &q, &rows()).expect("accuracy");
    assert!(report.output_max_abs_error < 1e-3, "{report:#?}");
}

#[test]
fn tables_at_different_scales_are_not_merged() {
    let g = two_functions(UnaryFn::Tanh, UnaryFn::Tanh);
    let mut scales = TableScales::new();
    scales.insert("f2".into(), 8);
    let q = quantize_tuned(
        &g,
        &rows(),
        QuantizeConfig::default(),
        &scales,
        &Interpolation::new(),
        "src",
    )
    .expect("quantize");
    assert_eq!(q.graph.tables.len(), 2);
    let in_scales: Vec<u32> = q.graph.tables.iter().map(|t| t.in_scale).collect();
    assert!(in_scales.contains(&8), "{in_scales:?}");
}

#[test]
fn round_is_exact_at_ties_and_needs_no_table() {
    let g = Graph::chain(
        vec![1, 16],
        vec![Node::new(
            "round",
            Op::Unary {
                func: UnaryFn::Round,
            },
            vec![0],
            vec![1, 16],
        )],
    );
    // Every half from -3.5 to 4 (ties go to the even neighbour), and values just beside them.
    let ties: Vec<f64> = (-7..9).map(|k| f64::from(k) / 2.0).collect();
    let near: Vec<f64> = ties.iter().map(|v| v + 1.0 / 4096.0).collect();
    let below: Vec<f64> = ties.iter().map(|v| v - 1.0 / 4096.0).collect();
    let rows = vec![ties, near, below];
    let q = quantize(&g, &rows, QuantizeConfig::default(), "src").expect("quantize");
    assert!(q.graph.tables.is_empty(), "{:?}", q.lookups());
    let report = accuracy(&g, &q, &rows).expect("accuracy");
    assert_eq!(report.output_max_abs_error, 0.0, "{report:#?}");
}

#[test]
fn calibration_wholly_past_a_saturation_point_gives_a_one_value_table() {
    // Calibration sees only x around -30 (tanh is -1 there at any scale); an input near 0 at
    // prove time would be outside the table and refused, but the compile must not fail with
    // an inverted domain.
    let g = Graph::chain(
        vec![1, 2],
        vec![Node::new(
            "tanh",
            Op::Unary {
                func: UnaryFn::Tanh,
            },
            vec![0],
            vec![1, 2],
        )],
    );
    let q = quantize(&g, &[vec![-30.0, -29.5]], QuantizeConfig::default(), "src")
        .expect("a saturated calibration compiles");
    let t = q.graph.tables.first().expect("a table");
    assert!(t.hi() >= t.lo, "domain [{}, {}]", t.lo, t.hi());
    let y = q
        .graph
        .eval(&zkinfer_ir::input::quantize_values(&[-30.0, -29.5], 13));
    assert!(y.is_ok(), "{y:?}");
}
