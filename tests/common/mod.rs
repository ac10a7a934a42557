//! Shared helpers for the end-to-end tests: the bundled example compiled in-process with a
//! seeded (deterministic) test SRS.

#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

pub mod attack;
pub mod cli;
pub mod server;

use std::sync::Arc;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkinfer::circuits::plan;
use zkinfer::compiler::{onnx, quantize, QuantizeConfig};
use zkinfer::ir::artifact::{encode_model, hash_hex, sha256, ModelHash};
use zkinfer::ir::input::{parse_input_rows, quantize_values};
use zkinfer::ir::proof_file::ProofFile;
use zkinfer::ir::QGraph;
use zkinfer::prover::keys::encode_vk;
use zkinfer::prover::srs::{generate_insecure_seeded, LoadedSrs};
use zkinfer::prover::{prove, run_checked, setup, Keys};

/// Everything one proof of the example needs.
pub struct Built {
    pub graph: Arc<QGraph>,
    pub hash: ModelHash,
    pub keys: Keys,
    pub srs: LoadedSrs,
    pub vk_bytes: Vec<u8>,
    pub input: Vec<i64>,
}

/// Compiles the bundled example with the default settings and a seeded SRS.
pub fn build_example() -> Built {
    let bytes = zkinfer::example::model_bytes();
    let graph = onnx::import_bytes(&bytes).unwrap();
    let rows = parse_input_rows(
        &zkinfer::example::input_json(),
        std::path::Path::new("input.json"),
    )
    .unwrap();
    let q = quantize(
        &graph,
        &rows,
        QuantizeConfig::default(),
        &hash_hex(&sha256(&bytes)),
    )
    .unwrap();
    let (_, hash) = encode_model(&q.graph);
    let p = plan(&q.graph).unwrap();
    let srs = generate_insecure_seeded(p.params.k, ChaCha20Rng::seed_from_u64(42));
    let input = quantize_values(&rows[0], q.graph.input.scale);
    let graph = Arc::new(q.graph);
    let keys = setup(graph.clone(), &p.params, &srs).unwrap();
    let vk_bytes = encode_vk(keys.pk.get_vk(), &keys.header, &hash);
    Built {
        graph,
        hash,
        keys,
        srs,
        vk_bytes,
        input,
    }
}

impl Built {
    /// A fresh proof of the example input.
    pub fn prove(&self) -> ProofFile {
        let trace = run_checked(&self.graph, &self.input).unwrap();
        prove(
            self.graph.clone(),
            &self.keys.header.circuit,
            &self.keys.pk,
            &self.srs,
            trace,
            &hash_hex(&self.hash),
        )
        .unwrap()
    }
}
