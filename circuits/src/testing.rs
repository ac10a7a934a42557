//! Test kit: small quantized graphs (hand-built, or float graphs through the real
//! quantizer), a MockProver runner with an optional witness corruption, and assertions that
//! name the exact failure. Used by every chip's positive and negative tests and by the
//! integration tests; the graph builders come from `zkinfer_ir::testkit`.

#![allow(clippy::panic)]

use std::sync::Arc;

use halo2_proofs::dev::{FailureLocation, MockProver, VerifyFailure};
use halo2_proofs::halo2curves::bn256::Fr;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zkinfer_compiler::graph::{Graph, Node, Op};
use zkinfer_compiler::{quantize, QuantizeConfig};
use zkinfer_ir::input::quantize_values;
pub use zkinfer_ir::testkit::{
    graph as qgraph, node, qtensor, single_op, split, tensor, two_operands,
};
use zkinfer_ir::{QGraph, Trace};

use crate::circuit::ModelCircuit;
pub use crate::corrupt::{Corruption, CorruptionKind};
use crate::plan::{plan, CircuitParams};

/// A float layer description for [`graph`].
#[derive(Debug, Clone, Copy)]
pub enum Layer {
    /// Linear `n_in -> n_out` with random weights.
    Linear(usize),
    /// ReLU.
    Relu,
    /// Add a random constant.
    AddConst,
    /// Add the tensor to itself (two-operand add).
    AddSelf,
}

/// Builds a float graph of `layers` on an input of `n` values with seeded random weights.
pub fn graph(n: usize, layers: &[Layer], seed: u64) -> Graph {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut nodes = Vec::new();
    let mut width = n;
    for (i, layer) in layers.iter().enumerate() {
        let (op, inputs, w) = match *layer {
            Layer::Linear(n_out) => {
                let weight = (0..n_out * width)
                    .map(|_| rng.gen_range(-1.0f32..1.0))
                    .collect();
                let bias = (0..n_out).map(|_| rng.gen_range(-0.5f32..0.5)).collect();
                (
                    Op::Linear {
                        weight,
                        bias,
                        n_in: width,
                        n_out,
                    },
                    vec![i],
                    n_out,
                )
            }
            Layer::Relu => (Op::Relu, vec![i], width),
            Layer::AddConst => {
                let constant = (0..width).map(|_| rng.gen_range(-1.0f32..1.0)).collect();
                (Op::AddConst { constant }, vec![i], width)
            }
            Layer::AddSelf => (Op::Add, vec![i, i], width),
        };
        width = w;
        nodes.push(Node {
            name: format!("n{i}"),
            op,
            inputs,
            shape: vec![1, width],
            trained: true,
        });
    }
    Graph {
        input_name: "input".into(),
        input_shape: vec![1, n],
        output: nodes.len(),
        output_name: "output".into(),
        nodes,
        input_parts: Vec::new(),
        output_parts: Vec::new(),
        no_input: false,
        input_kinds: Vec::new(),
    }
}

/// A random input in `[-1, 1)`.
pub fn random_input(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect()
}

/// A compiled graph, its plan and one honest trace.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The compiled graph.
    pub graph: Arc<QGraph>,
    /// Its plan's parameters.
    pub params: CircuitParams,
    /// The trace of `input`.
    pub trace: Arc<Trace>,
    /// The quantized input.
    pub input: Vec<i64>,
}

/// Compiles `float` at small scales (so tests stay fast) and runs it on a random input.
pub fn fixture(float: &Graph, seed: u64) -> Fixture {
    let config = QuantizeConfig {
        scale: 6,
        weight_scale: 6,
        headroom_bits: 1,
        table_scale: 6,
        ..QuantizeConfig::DEFAULT
    };
    let n = float.input_numel();
    let calib = vec![vec![1.0; n]];
    let q = quantize(float, &calib, config, "test").expect("quantize");
    let input = quantize_values(&random_input(n, seed), config.scale);
    let trace = q.graph.eval(&input).expect("eval");
    let params = plan(&q.graph).expect("plan").params;
    Fixture {
        graph: Arc::new(q.graph),
        params,
        trace: Arc::new(trace),
        input,
    }
}

impl Fixture {
    /// Runs MockProver with an optional corruption and the honest public values.
    pub fn mock(&self, corruption: Option<Corruption>) -> Result<(), Vec<VerifyFailure>> {
        let out = self.trace.get(self.graph.output).expect("output").to_vec();
        self.mock_with_output(corruption, &out)
    }

    /// Runs MockProver claiming `output` as the public output.
    pub fn mock_with_output(
        &self,
        corruption: Option<Corruption>,
        output: &[i64],
    ) -> Result<(), Vec<VerifyFailure>> {
        let mut circuit =
            ModelCircuit::with_trace(self.graph.clone(), self.params.clone(), self.trace.clone())
                .with_salt(Fr::zero());
        circuit.corruption = corruption;
        let instances: Vec<Fr> = crate::circuit::public_values_of(
            &self.graph,
            &self.params,
            &self.input,
            output,
            Fr::zero(),
        );
        let prover = MockProver::run(self.params.k, &circuit, vec![instances]).expect("mock run");
        prover.verify()
    }

    /// First row of node `index`, from the planner's row accounting.
    pub fn node_start(&self, index: usize) -> usize {
        self.graph.nodes[..index]
            .iter()
            .map(|n| crate::plan::node_rows(&self.graph, n, self.params.dot_shape()).rows)
            .sum()
    }
}

/// Asserts exactly one failure: constraint `constraint` of gate `gate` at `row` of the model region.
pub fn assert_constraint_failure(
    result: Result<(), Vec<VerifyFailure>>,
    gate: &str,
    constraint: &str,
    row: usize,
) {
    let failures = result.expect_err("the corrupted witness must be rejected");
    assert_eq!(failures.len(), 1, "expected one failure, got {failures:#?}");
    match &failures[0] {
        VerifyFailure::ConstraintNotSatisfied {
            constraint: c,
            location,
            ..
        } => {
            let text = format!("{c}");
            assert!(
                text.contains(&format!("('{gate}')"))
                    && text.contains(&format!("('{constraint}')")),
                "{text}"
            );
            assert_eq!(absolute_row(location), row, "{location:?}");
        }
        other => panic!("expected gate `{gate}` to fail, got {other:?}"),
    }
}

/// Asserts exactly one failure: lookup `name` at `row` of the model region.
pub fn assert_lookup_failure(result: Result<(), Vec<VerifyFailure>>, name: &str, row: usize) {
    let failures = result.expect_err("the corrupted witness must be rejected");
    assert_eq!(failures.len(), 1, "expected one failure, got {failures:#?}");
    match &failures[0] {
        VerifyFailure::Lookup {
            name: n, location, ..
        } => {
            assert_eq!(n, name);
            assert_eq!(absolute_row(location), row, "{location:?}");
        }
        other => panic!("expected lookup `{name}` to fail, got {other:?}"),
    }
}

/// The absolute row of a failure. The model region starts at row 0 (the layout pins it),
/// and MockProver reports rows of gates without fixed columns as outside any region.
pub fn absolute_row(location: &FailureLocation) -> usize {
    match location {
        FailureLocation::InRegion { region, offset } => {
            assert!(format!("{region}").contains("model"), "{region}");
            *offset
        }
        FailureLocation::OutsideRegion { row } => *row,
    }
}

/// Wraps a hand-built graph and input into a fixture.
pub fn fixture_of(graph: QGraph, input: Vec<i64>) -> Fixture {
    let trace = graph.eval(&input).expect("eval");
    let params = plan(&graph).expect("plan").params;
    Fixture {
        graph: Arc::new(graph),
        params,
        trace: Arc::new(trace),
        input,
    }
}

/// Seeded random integers in `[-bound, bound]`.
pub fn random_ints(n: usize, bound: i64, seed: u64) -> Vec<i64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.gen_range(-bound..=bound)).collect()
}

/// The honest output with element `i` changed by `delta`.
pub fn output_with(f: &Fixture, i: usize, delta: i64) -> Vec<i64> {
    let mut out = f.trace.get(f.graph.output).expect("output").to_vec();
    out[i] += delta;
    out
}

/// Index of the limb that fails when range-checking `shifted` (= value + offset) to `bits`
/// bits with `params`' limbs.
pub fn overflowing_limb(shifted: i128, bits: u32, params: &CircuitParams) -> usize {
    let w = crate::chips::range::range_witness(shifted, bits, params.limb_bits, params.limbs);
    w.limbs
        .iter()
        .zip(&w.tags)
        .position(|(l, t)| !(0..1i128 << t).contains(l))
        .unwrap_or_else(|| panic!("{shifted} fits in {bits} bits"))
}

/// The fixture laid out with `lanes` linear lanes and one accumulator per row instead of the
/// planner's choice (`k` grows if the rows need it).
pub fn with_lanes(f: Fixture, lanes: usize) -> Fixture {
    with_shape(f, lanes, 1)
}

/// The fixture laid out with `lanes` linear lanes and `outs` accumulators per row instead of
/// the planner's choice (`k` grows if the rows need it).
pub fn with_shape(mut f: Fixture, lanes: usize, outs: usize) -> Fixture {
    f.params.lanes = lanes;
    f.params.outs = outs;
    let shape = f.params.dot_shape();
    let side = crate::plan::side_capacity(&f.graph, shape);
    let rows: usize = f
        .graph
        .nodes
        .iter()
        .map(|n| crate::plan::node_rows(&f.graph, n, shape).rows)
        .sum::<usize>()
        + crate::plan::tail_total(&f.graph, side).rows;
    while (1usize << f.params.k) < rows + crate::plan::RESERVED_ROWS {
        f.params.k += 1;
    }
    f
}

/// Asserts that every failure is a broken copy constraint and that one of them is the
/// advice cell in column `column` at `row` of the model region.
pub fn assert_copy_failure(result: Result<(), Vec<VerifyFailure>>, column: usize, row: usize) {
    let failures = result.expect_err("the corrupted witness must be rejected");
    assert!(!failures.is_empty());
    let mut hit = false;
    for f in &failures {
        match f {
            VerifyFailure::Permutation {
                column: c,
                location,
            } => {
                hit |= matches!(c.column_type(), halo2_proofs::plonk::Any::Advice(_))
                    && c.index() == column
                    && absolute_row(location) == row;
            }
            other => panic!("expected only copy failures, got {other:?}"),
        }
    }
    assert!(
        hit,
        "no copy failure at column {column}, row {row}: {failures:#?}"
    );
}

/// The conformance check every op gets: on `input`, the reference semantics, the candle
/// runtime (CPU) and the circuit agree. MockProver accepts the honest trace and rejects the
/// output with one element (chosen by `seed`) off by one. `case` names the case in failures.
pub fn assert_conforms(case: &str, graph: QGraph, input: &[i64], seed: u64) {
    let reference = graph.eval(input).expect("reference semantics");
    let ran = zkinfer_runtime::run(&graph, input, &zkinfer_runtime::cpu()).expect("runtime");
    assert_eq!(ran, reference, "runtime != reference for {case}");
    let f = Fixture {
        params: plan(&graph).expect("plan").params,
        graph: Arc::new(graph),
        trace: Arc::new(reference),
        input: input.to_vec(),
    };
    assert_eq!(
        f.mock(None),
        Ok(()),
        "circuit rejects the honest trace for {case}"
    );
    let out_len = f.trace.get(f.graph.output).map_or(0, <[i64]>::len);
    if out_len > 0 {
        let wrong = output_with(&f, seed as usize % out_len, 1);
        assert!(
            f.mock_with_output(None, &wrong).is_err(),
            "circuit accepts a wrong output for {case}"
        );
    }
}

/// A seeded test RNG.
pub fn seeded(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// `circuit_conformance!(name: cases => build, ...)`: one test per name that runs
/// [`assert_conforms`] on `cases` graphs from `build(&mut ChaCha8Rng) -> (QGraph, input)`,
/// each seeded from the case number.
#[macro_export]
macro_rules! circuit_conformance {
    ($($name:ident: $cases:expr => $build:expr;)*) => {
        $(
            #[test]
            fn $name() {
                for seed in 0..$cases {
                    let mut rng = $crate::testing::seeded(2000 + seed);
                    let (graph, input) = ($build)(&mut rng);
                    let case = format!("{}, seed {seed}", stringify!($name));
                    $crate::testing::assert_conforms(&case, graph, &input, seed);
                }
            }
        )*
    };
}
