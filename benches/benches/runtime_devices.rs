//! Criterion benchmark of the runtime alone (no proof), on every device this build has.
//!
//! `runtime/<model>/<device>`: one `zkinfer_runtime::run` of the quantized model on one input
//! row, for each reference model in `ZKINFER_MODELS` (default `../shared/models`, skipped when
//! absent) and for `linear_1024x1024x64` (a 64-row batch through a 1024 → 1024 linear layer,
//! 67M multiply-adds), on the CPU and, built with `--features cuda`, on CUDA device 0.
//! Run with `cargo bench -p zkinfer-benches --bench runtime_devices`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zkinfer_compiler::graph::{Graph, Node, Op};
use zkinfer_compiler::{onnx, quantize, QuantizeConfig};
use zkinfer_ir::input::{quantize_values, read_input_rows};
use zkinfer_ir::QGraph;
use zkinfer_runtime::{available_devices, device_name, run};

/// A batch of `rows` vectors through one `n → n` linear layer with random weights.
fn wide_linear(rows: usize, n: usize) -> Graph {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let limit = 1.0 / (n as f32).sqrt();
    let mut random =
        |len: usize| -> Vec<f32> { (0..len).map(|_| rng.gen_range(-limit..limit)).collect() };
    let op = Op::Linear {
        weight: random(n * n),
        bias: random(n),
        n_in: n,
        n_out: n,
    };
    Graph::chain(
        vec![rows, n],
        vec![Node::new("linear", op, vec![0], vec![rows, n])],
    )
}

/// Quantizes `float` on `rows` and returns the graph with the first row as its input.
fn quantized(float: &Graph, rows: &[Vec<f64>]) -> (QGraph, Vec<i64>) {
    let q = quantize(float, rows, QuantizeConfig::default(), "bench").expect("quantize");
    let input = quantize_values(&rows[0], q.graph.input.scale);
    (q.graph, input)
}

fn cases() -> Vec<(String, QGraph, Vec<i64>)> {
    let mut out = Vec::new();
    let dir = std::env::var_os("ZKINFER_MODELS").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/models")),
        PathBuf::from,
    );
    for name in [
        "mlp_small",
        "mlp_medium",
        "cnn_mnist",
        "mlp_sigmoid",
        "tiny_transformer",
    ] {
        let (model, input) = (
            dir.join(name).join("network.onnx"),
            dir.join(name).join("input.json"),
        );
        if !model.is_file() || !input.is_file() {
            continue;
        }
        let float =
            onnx::import_bytes(&std::fs::read(&model).expect("read model")).expect("import model");
        let rows = read_input_rows(&input).expect("model input");
        let (graph, x) = quantized(&float, &rows);
        out.push((name.to_string(), graph, x));
    }
    let (batch, n) = (64, 1024);
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let row: Vec<f64> = (0..batch * n).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let (graph, x) = quantized(&wide_linear(batch, n), &[row]);
    out.push((format!("linear_{n}x{n}x{batch}"), graph, x));
    out
}

fn bench_runtime(c: &mut Criterion) {
    let mut g = c.benchmark_group("runtime");
    g.sample_size(20);
    for (name, graph, input) in cases() {
        let reference = graph.eval(&input).expect("reference");
        for device in available_devices() {
            let trace = run(&graph, &input, &device).expect("run");
            assert_eq!(
                trace.tensors, reference.tensors,
                "{name} differs on {device:?}"
            );
            g.bench_function(format!("{name}/{}", device_name(&device)), |b| {
                b.iter(|| run(&graph, black_box(&input), &device).expect("run"))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench_runtime);
criterion_main!(benches);
