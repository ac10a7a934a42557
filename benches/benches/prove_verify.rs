//! Criterion benchmarks: key generation, proving, verification and the runtime.
//!
//! Groups:
//! - `example`: the bundled example MLP (16 → 16 ReLU → 4): `keygen`, `prove`, `verify`
//!   (in-process, key already parsed), `runtime_run` (CPU inference only).
//! - `chips`: one small graph per chip family, so a regression in one chip shows up:
//!   `linear_256x64` (Linear-heavy: 16,384 MACs, then a 64-value rescale) and
//!   `rescale_relu_1024` (elementwise: 1,024 one-weight dots, 1,024 rescales, 1,024 ReLUs),
//!   `sigmoid_512` (lookup: 512 table lookups after a rescale), `softmax_16x16` (max, exp
//!   table, sums and range-checked divisions), `conv_8x16x16` (a 3x3 convolution on the
//!   linear chip with gathered lanes) and `attention_16x16` (two activation matmuls on the
//!   bilinear chip around a softmax).
//!   Each has `witness` (runtime run checked against the reference semantics) and `prove`
//!   (witness generation + the real halo2 prover, no MockProver).
//! - `shared`: `mlp_small` from `../shared/models` when that folder exists (skipped otherwise):
//!   `prove` and `verify`.
//!
//! Every SRS is seeded, so runs are comparable. Run with `cargo bench -p zkinfer-benches`;
//! pick a group with e.g. `cargo bench -p zkinfer-benches -- example/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode};
use rand::{Rng, SeedableRng};
use rand_chacha::{ChaCha20Rng, ChaCha8Rng};
use zkinfer_circuits::{plan, CircuitParams};
use zkinfer_compiler::graph::{Graph, Node, Op, UnaryFn};
use zkinfer_compiler::testkit::{linear, uniform};
use zkinfer_compiler::{onnx, quantize, QuantizeConfig};
use zkinfer_ir::artifact::{encode_model, hash_hex, sha256};
use zkinfer_ir::geometry::ConvGeom;
use zkinfer_ir::input::{parse_input_rows, quantize_values, read_input_rows};
use zkinfer_ir::proof_file::ProofFile;
use zkinfer_ir::QGraph;
use zkinfer_prover::keys::encode_vk;
use zkinfer_prover::srs::{generate_insecure_seeded, LoadedSrs};
use zkinfer_prover::{prove, run_checked, setup, Keys};
use zkinfer_verifier::VerifierKey;

/// A compiled model with its keys, ready to prove.
struct Compiled {
    graph: Arc<QGraph>,
    params: CircuitParams,
    srs: LoadedSrs,
    keys: Keys,
    hash_hex: String,
    vk_bytes: Vec<u8>,
    input: Vec<i64>,
}

impl Compiled {
    /// Quantizes `float` (default settings, `calibration` rows), plans it, and runs keygen
    /// with a seeded test SRS. `input` is the float input to prove.
    /// Prints the chosen layout on stderr under `name`.
    fn new(
        name: &str,
        float: &Graph,
        calibration: &[Vec<f64>],
        input: &[f64],
        source: &[u8],
    ) -> Self {
        let q = quantize(
            float,
            calibration,
            QuantizeConfig::default(),
            &hash_hex(&sha256(source)),
        )
        .expect("quantize");
        let (_, hash) = encode_model(&q.graph);
        let p = plan(&q.graph).expect("plan");
        eprintln!(
            "{name}: k = {}, {} rows used, {} lanes, {} advice + {} fixed columns, {} lookups",
            p.params.k, p.rows, p.params.lanes, p.advice_columns, p.fixed_columns, p.lookups
        );
        let params = p.params;
        let srs = generate_insecure_seeded(params.k, ChaCha20Rng::seed_from_u64(42));
        let input = quantize_values(input, q.graph.input.scale);
        let graph = Arc::new(q.graph);
        let keys = setup(graph.clone(), &params, &srs).expect("keygen");
        let vk_bytes = encode_vk(keys.pk.get_vk(), &keys.header, &hash);
        Compiled {
            graph,
            params,
            srs,
            keys,
            hash_hex: hash_hex(&hash),
            vk_bytes,
            input,
        }
    }

    /// Witness generation (checked runtime run) and a real proof.
    fn prove(&self) -> ProofFile {
        let trace = run_checked(&self.graph, &self.input).expect("run");
        prove(
            self.graph.clone(),
            &self.params,
            &self.keys.pk,
            &self.srs,
            trace,
            &self.hash_hex,
        )
        .expect("prove")
    }

    fn verifier_key(&self) -> VerifierKey {
        VerifierKey::from_bytes(&self.vk_bytes, Path::new("vk.bin")).expect("vk")
    }
}

/// Settings for slow benchmarks: 10 samples of one iteration each, short warm-up.
fn slow<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    g
}

fn compile_example() -> Compiled {
    let bytes = zkinfer::example::model_bytes();
    let float = onnx::import_bytes(&bytes).expect("import example");
    let rows = parse_input_rows(&zkinfer::example::input_json(), Path::new("input.json"))
        .expect("example input");
    Compiled::new("example", &float, &rows, &rows[0], &bytes)
}

fn bench_example(c: &mut Criterion) {
    let m = compile_example();
    let proof = m.prove();
    let key = m.verifier_key();
    zkinfer_verifier::verify(&key, &proof).expect("example proof verifies");

    let mut g = slow(c, "example");
    g.bench_function("keygen", |b| {
        b.iter(|| setup(m.graph.clone(), &m.params, &m.srs).expect("keygen"))
    });
    g.bench_function("prove", |b| b.iter(|| m.prove()));
    g.bench_function("verify", |b| {
        b.iter(|| zkinfer_verifier::verify(black_box(&key), black_box(&proof)).expect("verify"))
    });
    let cpu = zkinfer_runtime::cpu();
    g.bench_function("runtime_run", |b| {
        b.iter(|| zkinfer_runtime::run(&m.graph, black_box(&m.input), &cpu).expect("run"))
    });
    g.finish();
}

fn random_rows(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect()
}

/// `[1, 256]` → Linear(256 → 64). Quantized: Linear (16,384 MACs) + Rescale on 64 values.
fn linear_graph() -> Graph {
    let (n_in, n_out) = (256, 64);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let limit = 1.0 / (n_in as f32).sqrt();
    let op = linear(&mut rng, n_in, n_out, limit);
    Graph::chain(
        vec![1, n_in],
        vec![Node::new("linear", op, vec![0], vec![1, n_out])],
    )
}

/// `[1024, 1]` → Linear(1 → 1) → ReLU. Quantized: 1,024 one-weight dots, then Rescale and
/// ReLU on 1,024 values each: the elementwise chips dominate.
fn rescale_relu_graph() -> Graph {
    let n = 1024;
    let scale = Op::Linear {
        weight: vec![0.75],
        bias: vec![-0.125],
        n_in: 1,
        n_out: 1,
    };
    Graph::chain(
        vec![n, 1],
        vec![
            Node::new("scale", scale, vec![0], vec![n, 1]),
            Node::new("relu", Op::Relu, vec![1], vec![n, 1]),
        ],
    )
}

/// `[512, 1]` → Sigmoid: one rescale to the table scale and 512 lookups.
fn sigmoid_graph() -> Graph {
    let f = UnaryFn::Sigmoid;
    Graph::chain(
        vec![512, 1],
        vec![Node::new(
            "sigmoid",
            Op::Unary { func: f },
            vec![0],
            vec![512, 1],
        )],
    )
}

/// `[16, 16]` → Softmax over rows: max, exp table, sums and rounded divisions.
fn softmax_graph() -> Graph {
    Graph::chain(
        vec![16, 16],
        vec![Node::new(
            "softmax",
            Op::Softmax { group: 16 },
            vec![0],
            vec![16, 16],
        )],
    )
}

/// `[1, 8, 16, 16]` → Conv 8 → 8 channels, 3x3, padding 1: 147,456 MACs on gathered lanes.
fn conv_graph() -> Graph {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let geom = ConvGeom {
        in_channels: 8,
        in_h: 16,
        in_w: 16,
        out_channels: 8,
        kernel: [3, 3],
        stride: [1, 1],
        pads: [1, 1, 1, 1],
        dilation: [1, 1],
        groups: 1,
    };
    let op = Op::Conv {
        weight: uniform(&mut rng, geom.weight_len(), 0.1),
        bias: uniform(&mut rng, 8, 0.1),
        geom,
    };
    Graph::chain(
        vec![1, 8, 16, 16],
        vec![Node::new("conv", op, vec![0], vec![1, 8, 16, 16])],
    )
}

/// `x [16, 16]`: `softmax(x·xᵀ / 4)·x`, two activation matmuls (8,192 MACs) on the
/// bilinear chip around a softmax.
fn attention_graph() -> Graph {
    let (s, d) = (16usize, 16usize);
    let transpose: Vec<usize> = (0..s * d).map(|i| (i % s) * d + i / s).collect();
    Graph::chain(
        vec![1, s, d],
        vec![
            Node::new(
                "xt",
                Op::Select { index: transpose },
                vec![0],
                vec![1, d, s],
            ),
            Node::new(
                "scores",
                Op::MatMul {
                    batch: 1,
                    m: s,
                    k: d,
                    n: s,
                },
                vec![0, 1],
                vec![1, s, s],
            ),
            Node::new(
                "scaled",
                Op::MulConst {
                    constant: vec![0.25; s * s],
                },
                vec![2],
                vec![1, s, s],
            ),
            Node::new("softmax", Op::Softmax { group: s }, vec![3], vec![1, s, s]),
            Node::new(
                "mix",
                Op::MatMul {
                    batch: 1,
                    m: s,
                    k: s,
                    n: d,
                },
                vec![4, 0],
                vec![1, s, d],
            ),
        ],
    )
}

fn bench_chips(c: &mut Criterion) {
    let cases = [
        ("linear_256x64", linear_graph()),
        ("rescale_relu_1024", rescale_relu_graph()),
        ("sigmoid_512", sigmoid_graph()),
        ("softmax_16x16", softmax_graph()),
        ("conv_8x16x16", conv_graph()),
        ("attention_16x16", attention_graph()),
    ];
    let mut g = slow(c, "chips");
    for (name, float) in &cases {
        let n = float.input_numel();
        let input = random_rows(n, 7);
        let m = Compiled::new(
            name,
            float,
            std::slice::from_ref(&input),
            &input,
            name.as_bytes(),
        );
        zkinfer_verifier::verify(&m.verifier_key(), &m.prove()).expect("chip proof verifies");
        g.bench_function(format!("{name}/witness"), |b| {
            b.iter(|| run_checked(&m.graph, black_box(&m.input)).expect("run"))
        });
        g.bench_function(format!("{name}/prove"), |b| b.iter(|| m.prove()));
    }
    g.finish();
}

fn bench_shared(c: &mut Criterion) {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/models/mlp_small"
    ));
    let (model, input) = (dir.join("network.onnx"), dir.join("input.json"));
    if !model.is_file() || !input.is_file() {
        return;
    }
    let bytes = std::fs::read(&model).expect("read mlp_small");
    let float = onnx::import_bytes(&bytes).expect("import mlp_small");
    let rows = read_input_rows(&input).expect("mlp_small input");
    let m = Compiled::new("mlp_small", &float, &rows, &rows[0], &bytes);
    let proof = m.prove();
    let key = m.verifier_key();
    zkinfer_verifier::verify(&key, &proof).expect("mlp_small proof verifies");

    let mut g = slow(c, "shared");
    g.bench_function("mlp_small/prove", |b| b.iter(|| m.prove()));
    g.bench_function("mlp_small/verify", |b| {
        b.iter(|| zkinfer_verifier::verify(black_box(&key), black_box(&proof)).expect("verify"))
    });
    g.finish();
}

criterion_group!(benches, bench_example, bench_chips, bench_shared);
criterion_main!(benches);
