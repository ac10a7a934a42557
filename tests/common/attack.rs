//! The malicious-prover harness of the attack tests: a model with real keys, its honest
//! witness, and a submission path that makes a real SHPLONK proof of any witness and asks the
//! offline proof check and the Solidity verifier (called directly with the calldata), with
//! nothing checked first.

use std::path::Path;
use std::sync::Arc;

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::{keygen_pk, keygen_vk, Advice, Column, ConstraintSystem};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkinfer::circuits::chips::range::range_witness;
use zkinfer::circuits::field::fr_from_i128;
use zkinfer::circuits::transcript::be_bytes;
use zkinfer::circuits::vk_header::labels_digest_of;
use zkinfer::circuits::{plan, public_values_of, CircuitParams, ModelCircuit, ModelConfig};
use zkinfer::ir::semantics::apply;
use zkinfer::ir::{QGraph, QOp, Trace};
use zkinfer::prover::keys::{encode_vk, vk_header};
use zkinfer::prover::malicious::{honest_advice, prove_advice};
use zkinfer::prover::srs::{generate_insecure_seeded, LoadedSrs};
use zkinfer::verifier::evm::exec::verify_calldata_in_evm;
use zkinfer::verifier::{check_proof, VerifierKey};

pub use zkinfer::prover::malicious::Advice as Witness;

/// A model with keys, ready to be attacked.
pub struct Target {
    pub graph: Arc<QGraph>,
    pub params: CircuitParams,
    pub srs: LoadedSrs,
    pub pk: halo2_proofs::plonk::ProvingKey<halo2_proofs::halo2curves::bn256::G1Affine>,
    pub key: VerifierKey,
    pub config: ModelConfig,
    pub trace: Trace,
}

/// Keys for `graph` made straight from halo2 (no model validation: the free-cell attack
/// needs a graph that validation refuses).
pub fn target_unchecked(graph: QGraph, params: CircuitParams, input: &[i64]) -> Target {
    let trace = graph.eval(input).unwrap();
    let graph = Arc::new(graph);
    let srs = generate_insecure_seeded(params.k, ChaCha20Rng::seed_from_u64(7));
    let circuit = ModelCircuit::keygen(graph.clone(), params.clone());
    let vk = keygen_vk(&srs.params, &circuit).unwrap();
    let pk = keygen_pk(&srs.params, vk, &circuit).unwrap();
    let header = vk_header(&graph, &params, &srs);
    let vk_bytes = encode_vk(pk.get_vk(), &header, &[0u8; 32]);
    let key = VerifierKey::from_bytes(&vk_bytes, Path::new("vk.bin")).unwrap();
    let mut cs = ConstraintSystem::default();
    let config = ModelConfig::configure(&mut cs, &params);
    Target {
        graph,
        params,
        srs,
        pk,
        key,
        config,
        trace,
    }
}

pub fn target(graph: QGraph, input: &[i64]) -> Target {
    let params = plan(&graph).unwrap().params;
    target_unchecked(graph, params, input)
}

/// What the two verifiers said.
#[derive(Debug)]
pub struct Verdict {
    pub offline: Result<(), String>,
    pub evm: Result<u64, String>,
}

impl Verdict {
    pub fn assert_rejected(&self, attack: &str) {
        assert!(
            self.offline.is_err(),
            "{attack}: the offline verifier accepted"
        );
        assert!(self.evm.is_err(), "{attack}: the EVM verifier accepted");
    }

    pub fn assert_accepted(&self) {
        assert!(
            self.offline.is_ok(),
            "honest proof rejected offline: {self:?}"
        );
        assert!(
            self.evm.is_ok(),
            "honest proof rejected in the EVM: {self:?}"
        );
    }
}

impl Target {
    pub fn input(&self) -> &[i64] {
        self.trace.get(0).unwrap()
    }

    pub fn output(&self) -> &[i64] {
        self.trace.get(self.graph.output).unwrap()
    }

    /// The honest public values (less the labels digest, which [`Target::submit`] appends)
    /// and witness.
    pub fn honest(&self) -> (Vec<Fr>, Witness) {
        let mut instances = public_values_of(
            &self.graph,
            &self.params,
            self.input(),
            self.output(),
            Fr::zero(),
        );
        instances.pop();
        let circuit = ModelCircuit::with_trace(
            self.graph.clone(),
            self.params.clone(),
            Arc::new(self.trace.clone()),
        );
        let advice =
            honest_advice(&self.srs, &self.pk, circuit, &self.with_labels(&instances)).unwrap();
        (instances, advice)
    }

    /// `values` followed by the key's labels digest: the public values a verifier checks a
    /// proof against when the proof claims `values`.
    pub fn with_labels(&self, values: &[Fr]) -> Vec<Fr> {
        let mut all = values.to_vec();
        all.push(labels_digest_of(&self.graph, &self.params));
        all
    }

    /// Proves `advice` for the claimed `values` (the labels digest appended, as the
    /// verifiers compute it from the key) and asks both verifiers, with nothing checked first.
    pub fn submit(&self, values: &[Fr], advice: Witness) -> Verdict {
        let instances = &self.with_labels(values);
        let proof = prove_advice(&self.srs, &self.pk, instances, advice).unwrap();
        let offline = check_proof(&self.key, instances, &proof).map_err(|e| e.to_string());
        let mut calldata: Vec<u8> = instances.iter().flat_map(be_bytes).collect();
        calldata.extend(&proof);
        let evm = verify_calldata_in_evm(&self.key, &calldata).map_err(|e| e.to_string());
        Verdict { offline, evm }
    }

    /// Rows of the input's bound checks, in order (on the linear rows first, then after the
    /// last node).
    pub fn input_check_rows(&self) -> Vec<usize> {
        zkinfer_circuits::plan::input_bound_rows(&self.graph, self.params.dot_shape())
    }

    /// Writes the limbs (and nothing else) of a `bits`-bit check of `shifted` on `row`.
    pub fn set_limbs(&self, w: &mut Witness, row: usize, shifted: i128, bits: u32) {
        let split = range_witness(shifted, bits, self.params.limb_bits, self.params.limbs);
        for (col, limb) in self.config.range.limbs.iter().zip(split.limbs) {
            set(w, *col, row, fr_from_i128(limb));
        }
    }

    /// Writes limbs that spell the field element `v` on `row`: zeros, then all of `v` in the
    /// top limb (what a prover does with a value no honest split fits).
    pub fn set_top_limb(&self, w: &mut Witness, row: usize, v: Fr) {
        let limbs = &self.config.range.limbs;
        let top = limbs.len() - 1;
        let weight = Fr::from(2u64).pow([u64::from(self.params.limb_bits) * top as u64]);
        for (i, col) in limbs.iter().enumerate() {
            let limb = if i == top {
                v * weight.invert().unwrap()
            } else {
                Fr::zero()
            };
            set(w, *col, row, limb);
        }
    }

    /// Rewrites input element `i` to `x` in its two bound rows (value and limbs), as a
    /// prover would that wants an out-of-range input through.
    pub fn forge_input(&self, w: &mut Witness, i: usize, x: Fr, lower: i128, upper: i128) {
        let bits = plan::signed_bits(self.graph.input.bound);
        let rows = self.input_check_rows();
        let (row, upper_row) = (rows[2 * i], rows[2 * i + 1]);
        set(w, self.config.range.value, row, x);
        self.set_limbs(w, row, lower, bits);
        set(w, self.config.range.value, upper_row, x);
        self.set_limbs(w, upper_row, upper, bits);
    }
}

pub fn set(w: &mut Witness, col: Column<Advice>, row: usize, v: Fr) {
    w[col.index()][row] = v;
}

pub fn get(w: &Witness, col: Column<Advice>, row: usize) -> Fr {
    w[col.index()][row]
}

/// Replaces every cell equal to `old` by `new`; returns how many there were.
pub fn replace(w: &mut Witness, old: Fr, new: Fr) -> usize {
    let mut n = 0;
    for cell in w.iter_mut().flatten() {
        if *cell == old {
            *cell = new;
            n += 1;
        }
    }
    n
}

/// Every tensor of `graph` on `input`, each `Check` taken as the identity and no bound
/// checked: the trace of a prover who ignores the model's checks (the runtime refuses it).
pub fn unchecked_trace(graph: &QGraph, input: &[i64]) -> Trace {
    let mut tensors: Vec<Vec<i64>> = vec![input.to_vec()];
    for node in &graph.nodes {
        let operands: Vec<&[i64]> = node.inputs.iter().map(|&t| tensors[t].as_slice()).collect();
        let out = match &node.op {
            QOp::Check { .. } => operands[0].to_vec(),
            op => apply(op, &operands, &graph.tables)
                .unwrap_or_else(|e| panic!("node {}: {e:?}", node.name)),
        };
        tensors.push(out);
    }
    Trace { tensors }
}

/// Imports ONNX `bytes` and quantizes it with the default settings on `calibration` rows
/// (one flat sample each).
pub fn compile_onnx(bytes: &[u8], calibration: &[Vec<f64>]) -> QGraph {
    let float = zkinfer::compiler::onnx::import_bytes(bytes).unwrap();
    zkinfer::compiler::quantize(
        &float,
        calibration,
        zkinfer::compiler::QuantizeConfig::default(),
        "attack",
    )
    .unwrap()
    .graph
}

impl Target {
    /// The public values (less the labels digest) and the witness of `trace`, whatever the
    /// model's checks say of it.
    pub fn advice_of(&self, trace: &Trace) -> (Vec<Fr>, Witness) {
        let input = trace.get(0).unwrap();
        let output = trace.get(self.graph.output).unwrap();
        let mut instances = public_values_of(&self.graph, &self.params, input, output, Fr::zero());
        instances.pop();
        let circuit = ModelCircuit::with_trace(
            self.graph.clone(),
            self.params.clone(),
            Arc::new(trace.clone()),
        )
        .with_salt(Fr::zero());
        let advice =
            honest_advice(&self.srs, &self.pk, circuit, &self.with_labels(&instances)).unwrap();
        (instances, advice)
    }
}
