//! Conformance: for every op, the reference semantics, the candle runtime and the circuit
//! agree bit for bit on random inputs. Each case checks reference == runtime on the whole
//! trace, a MockProver pass with the runtime's output as the public output, and a MockProver
//! failure when that output is off by one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use halo2_proofs::dev::MockProver;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zkinfer_circuits::{plan, public_values, ModelCircuit};
use zkinfer_models::graph::{Graph, Node, Op};
use zkinfer_models::input::quantize_values;
use zkinfer_models::{quantize, QuantizeConfig};

/// A float graph: `layers` applied to an input of `n` values, seeded weights.
fn graph(n: usize, layers: &[&str], seed: u64) -> Graph {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut nodes = Vec::new();
    let mut width = n;
    for (i, layer) in layers.iter().enumerate() {
        let (op, inputs) = match *layer {
            "linear" => {
                let n_out = rng.gen_range(1..9);
                let weight = (0..n_out * width)
                    .map(|_| rng.gen_range(-1.0f32..1.0))
                    .collect();
                let bias = (0..n_out).map(|_| rng.gen_range(-1.0f32..1.0)).collect();
                let op = Op::Linear {
                    weight,
                    bias,
                    n_in: width,
                    n_out,
                };
                width = n_out;
                (op, vec![i])
            }
            "relu" => (Op::Relu, vec![i]),
            "add_const" => {
                let constant = (0..width).map(|_| rng.gen_range(-2.0f32..2.0)).collect();
                (Op::AddConst { constant }, vec![i])
            }
            "add" => (Op::Add, vec![i, i]),
            "reshape" => (Op::Reshape, vec![i]),
            other => panic!("unknown layer {other}"),
        };
        nodes.push(Node {
            name: format!("{layer}{i}"),
            op,
            inputs,
            shape: vec![1, width],
        });
    }
    Graph {
        input_name: "input".into(),
        input_shape: vec![1, n],
        output: nodes.len(),
        output_name: "output".into(),
        nodes,
    }
}

fn check(layers: &[&str], cases: u64) {
    for seed in 0..cases {
        let mut rng = ChaCha8Rng::seed_from_u64(1000 + seed);
        let n = rng.gen_range(1..20);
        let float = graph(n, layers, seed);
        let config = QuantizeConfig {
            scale: rng.gen_range(4..14),
            weight_scale: rng.gen_range(4..14),
            headroom_bits: 1,
        };
        let calib = vec![vec![3.0; n]];
        let q = quantize(&float, &calib, config, "conformance")
            .unwrap()
            .graph;
        let x: Vec<f64> = (0..n).map(|_| rng.gen_range(-3.0..3.0)).collect();
        let input = quantize_values(&x, q.input.scale);
        let reference = q.eval(&input).unwrap();
        let ran = zkinfer_runtime::run(&q, &input, &zkinfer_runtime::cpu()).unwrap();
        assert_eq!(
            ran, reference,
            "runtime != reference for {layers:?}, seed {seed}"
        );
        let output = ran.get(q.output).unwrap().to_vec();
        let params = plan(&q).unwrap().params;
        let circuit = ModelCircuit::with_trace(Arc::new(q), params.clone(), Arc::new(ran));
        let honest =
            MockProver::run(params.k, &circuit, vec![public_values(&input, &output)]).unwrap();
        assert_eq!(
            honest.verify(),
            Ok(()),
            "circuit rejects the honest trace for {layers:?}, seed {seed}"
        );
        let mut wrong = output.clone();
        let at = seed as usize % wrong.len();
        wrong[at] += 1;
        let lying =
            MockProver::run(params.k, &circuit, vec![public_values(&input, &wrong)]).unwrap();
        assert!(
            lying.verify().is_err(),
            "circuit accepts a wrong output for {layers:?}, seed {seed}"
        );
    }
}

macro_rules! conformance {
    ($($name:ident: $layers:expr;)*) => {
        $(#[test] fn $name() { check(&$layers, 6); })*
    };
}

conformance! {
    linear_and_rescale: ["linear"];
    relu: ["linear", "relu"];
    add_constant: ["add_const"];
    add_tensors: ["linear", "add"];
    reshape: ["linear", "reshape", "relu"];
    mlp: ["linear", "relu", "linear", "relu", "add_const", "linear"];
}
