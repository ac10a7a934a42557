//! Input and output visibility: a private tensor leaves nothing in the proof file, a hashed
//! one only its salted commitment; every mode verifies offline and in the EVM, and a proof
//! presented with another tensor's commitment, or a commitment off by one bit, is rejected by
//! both verifiers alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::sync::Arc;

use halo2_proofs::halo2curves::bn256::Fr;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkinfer::circuits::poseidon::{commit, commit_params, from_hex, to_hex};
use zkinfer::circuits::{committed, plan};
use zkinfer::compiler::{onnx, quantize, QuantizeConfig};
use zkinfer::ir::artifact::{encode_model, hash_hex, sha256};
use zkinfer::ir::input::{group_samples, quantize_values, read_input_rows};
use zkinfer::ir::proof_file::ProofFile;
use zkinfer::ir::{ParamVisibility, QGraph, QOp, Visibility};
use zkinfer::prover::keys::encode_vk;
use zkinfer::prover::srs::generate_insecure_seeded;
use zkinfer::prover::{prove_with_salt, run_checked, setup};
use zkinfer::verifier::error::{ProofMismatch, VerifyError};
use zkinfer::verifier::evm::exec::{verify_calldata_in_evm, verify_in_evm};
use zkinfer::verifier::{check_proof, verify, VerifierKey};

/// The torch MLP fixture compiled with `visibility`, its keys, and its quantized samples.
struct Setup {
    graph: Arc<QGraph>,
    params: zkinfer::circuits::CircuitParams,
    keys: zkinfer::prover::Keys,
    srs: zkinfer::prover::srs::LoadedSrs,
    key: VerifierKey,
    hash: String,
    samples: Vec<Vec<i64>>,
}

fn compiled(visibility: Visibility) -> Setup {
    compiled_with(visibility, Visibility::Public)
}

fn compiled_with(visibility: Visibility, output: Visibility) -> Setup {
    compiled_modes(visibility, output, ParamVisibility::Fixed)
}

fn compiled_modes(visibility: Visibility, output: Visibility, params: ParamVisibility) -> Setup {
    compiled_fixture("torch_mlp", |g| {
        g.input_visibility = visibility;
        g.output_visibility = output;
        g.param_visibility = params;
    })
}

/// Op fixture `name`, compiled, with `modes` applied to its graph before the keys.
fn compiled_fixture(name: &str, modes: impl FnOnce(&mut QGraph)) -> Setup {
    let dir = Path::new("tests/fixtures/ops").join(name);
    let bytes = std::fs::read(dir.join("model.onnx")).unwrap();
    let graph = onnx::import_bytes(&bytes).unwrap();
    let input = dir.join("input.json");
    let rows = group_samples(read_input_rows(&input).unwrap(), &graph.inputs(), &input).unwrap();
    let mut q = quantize(
        &graph,
        &rows,
        QuantizeConfig::default(),
        &hash_hex(&sha256(&bytes)),
    )
    .unwrap();
    modes(&mut q.graph);
    q.graph.validate().unwrap();
    let (_, model_hash) = encode_model(&q.graph);
    let p = plan(&q.graph).unwrap();
    let srs = generate_insecure_seeded(p.params.k, ChaCha20Rng::seed_from_u64(5));
    let g = Arc::new(q.graph);
    let keys = setup(g.clone(), &p.params, &srs).unwrap();
    let vk = encode_vk(keys.verifying_key(), &keys.header, &model_hash);
    let key = VerifierKey::from_bytes(&vk, Path::new("vk.bin")).unwrap();
    let samples = rows
        .iter()
        .map(|r| quantize_values(r, g.input.scale))
        .collect();
    Setup {
        graph: g,
        params: keys.header.circuit.clone(),
        keys,
        srs,
        key,
        hash: hash_hex(&model_hash),
        samples,
    }
}

impl Setup {
    /// The quantized output of sample `sample`.
    fn output(&self, sample: usize) -> Vec<i64> {
        let trace = run_checked(&self.graph, &self.samples[sample]).unwrap();
        trace.get(self.graph.output).unwrap().to_vec()
    }

    fn output_bound(&self) -> u64 {
        self.graph.output_tensor().unwrap().bound
    }

    fn prove(&self, sample: usize, salt: Fr) -> ProofFile {
        let mut proof = self.prove_graph(self.graph.clone(), sample, salt);
        if let Some(points) = self.keys.param_points().unwrap() {
            committed::attach(&mut proof, &points);
        }
        proof
    }

    /// A proof with this setup's proving key of `graph` (another weight set, say).
    fn prove_graph(&self, graph: Arc<QGraph>, sample: usize, salt: Fr) -> ProofFile {
        let trace = run_checked(&graph, &self.samples[sample]).unwrap();
        prove_with_salt(
            graph,
            &self.params,
            &self.keys.pk,
            &self.srs,
            trace,
            &self.hash,
            salt,
        )
        .unwrap()
    }

    /// Both verifiers on raw instances and proof bytes, nothing checked before them.
    /// What the two verifiers say of `proof` for the public values `values`, the key's
    /// labels digest appended (as the verifiers compute it).
    fn raw_verdicts(&self, proof: &ProofFile, values: &[Fr]) -> (bool, bool) {
        let mut instances = values.to_vec();
        instances.push(self.key.header.labels_digest());
        let instances = instances.as_slice();
        let bytes = hex::decode(&proof.proof).unwrap();
        let offline = check_proof(&self.key, instances, &bytes).is_ok();
        let mut calldata: Vec<u8> = instances
            .iter()
            .flat_map(zkinfer::circuits::transcript::be_bytes)
            .collect();
        calldata.extend(&bytes);
        let evm = verify_calldata_in_evm(&self.key, &calldata).is_ok();
        (offline, evm)
    }
}

/// The proof's public values less the last, the key's labels digest (the same in every
/// proof of a key).
fn instances(proof: &ProofFile) -> Vec<Fr> {
    let mut all: Vec<Fr> = proof
        .instances
        .iter()
        .map(|h| from_hex(h).unwrap())
        .collect();
    all.pop();
    all
}

#[test]
fn a_hashed_input_exposes_only_its_commitment() {
    let s = compiled(Visibility::Hashed);
    let salt = Fr::from(0x5eed_u64);
    let proof = s.prove(0, salt);
    // Only the commitment is public: no input values in the file, one instance for them.
    assert!(proof.input.is_none());
    let want = commit(&s.samples[0], s.graph.input.bound, salt);
    assert_eq!(proof.input_hash.as_deref(), Some(to_hex(&want).as_str()));
    assert_eq!(
        instances(&proof).len(),
        1 + proof.output.as_ref().unwrap().ints.len()
    );
    let json = proof.to_json();
    assert!(!json.contains("\"input\""), "{json}");
    verify(&s.key, &proof).expect("honest hashed proof");
    verify_in_evm(&s.key, &proof).expect("honest hashed proof on chain");
    assert_eq!(s.raw_verdicts(&proof, &instances(&proof)), (true, true));

    // The same proof presented with another input's commitment (same salt): both verifiers
    // reject it on their own.
    let other = commit(&s.samples[1], s.graph.input.bound, salt);
    assert_ne!(other, want);
    let mut forged = instances(&proof);
    forged[0] = other;
    assert_eq!(s.raw_verdicts(&proof, &forged), (false, false));
    // One bit of the commitment flipped, in the file and in the calldata.
    let mut flipped = instances(&proof);
    flipped[0] += Fr::one();
    assert_eq!(s.raw_verdicts(&proof, &flipped), (false, false));
    let mut p = proof.clone();
    p.input_hash = Some(to_hex(&(want + Fr::one())));
    p.instances[0] = zkinfer::prover::prove::fr_to_hex_be(&(want + Fr::one()));
    assert!(matches!(
        verify(&s.key, &p),
        Err(VerifyError::ProofRejected(_))
    ));
    assert!(verify_in_evm(&s.key, &p).is_err());
    // The file's hash disagreeing with its instances is caught before any cryptography.
    let mut p = proof.clone();
    p.input_hash = Some(to_hex(&other));
    assert!(matches!(
        verify(&s.key, &p),
        Err(VerifyError::Mismatch(ProofMismatch::InstanceValue {
            index: 0
        }))
    ));
    // Without the salt, the input's own unsalted hash is not the commitment.
    assert_ne!(commit(&s.samples[0], s.graph.input.bound, Fr::zero()), want);
    // A file that shows the input of a hashed key is refused.
    let mut p = proof.clone();
    p.input = proof.output.clone();
    assert!(matches!(
        verify(&s.key, &p),
        Err(VerifyError::Mismatch(ProofMismatch::Visibility {
            field: "input",
            ..
        }))
    ));
}

#[test]
fn a_private_input_leaves_nothing_in_the_proof() {
    let s = compiled(Visibility::Private);
    let proof = s.prove(2, Fr::zero());
    assert!(proof.input.is_none() && proof.input_hash.is_none());
    assert_eq!(
        instances(&proof).len(),
        proof.output.as_ref().unwrap().ints.len()
    );
    verify(&s.key, &proof).expect("honest private proof");
    verify_in_evm(&s.key, &proof).expect("honest private proof on chain");
    // The output is still bound: off by one, both verifiers reject.
    let mut forged = instances(&proof);
    forged[0] += Fr::one();
    assert_eq!(s.raw_verdicts(&proof, &forged), (false, false));
    // A hash where none belongs is refused.
    let mut p = proof.clone();
    p.input_hash = Some(to_hex(&Fr::one()));
    assert!(matches!(
        verify(&s.key, &p),
        Err(VerifyError::Mismatch(ProofMismatch::Visibility {
            field: "input_hash",
            ..
        }))
    ));
}

/// `h` with its lowest bit flipped.
fn flip_low_bit(h: &str) -> String {
    let (head, last) = h.split_at(h.len() - 1);
    let digit = u8::from_str_radix(last, 16).unwrap() ^ 1;
    format!("{head}{digit:x}")
}

#[test]
fn a_hashed_output_exposes_only_its_commitment() {
    let s = compiled_with(Visibility::Public, Visibility::Hashed);
    let salt = Fr::from(0xface_u64);
    let proof = s.prove(1, salt);
    assert!(proof.output.is_none() && proof.outputs.is_empty());
    let want = commit(&s.output(1), s.output_bound(), salt);
    let hash = proof.output_hash.clone().unwrap();
    assert_eq!(hash, to_hex(&want));
    let n_in = s.graph.input.numel();
    assert_eq!(instances(&proof).len(), n_in + 1);
    let json = proof.to_json();
    assert!(!json.contains("\"output\""), "{json}");
    verify(&s.key, &proof).expect("honest hashed-output proof");
    verify_in_evm(&s.key, &proof).expect("honest hashed-output proof on chain");
    assert_eq!(s.raw_verdicts(&proof, &instances(&proof)), (true, true));

    // The hash changed by one bit, in the calldata alone: both verifiers reject.
    let mut flipped = instances(&proof);
    flipped[n_in] = from_hex(&flip_low_bit(&hash)).unwrap();
    assert_ne!(flipped[n_in], want);
    assert_eq!(s.raw_verdicts(&proof, &flipped), (false, false));
    // ... in proof.json alone: caught before any cryptography.
    let mut p = proof.clone();
    p.output_hash = Some(flip_low_bit(&hash));
    assert!(matches!(
        verify(&s.key, &p),
        Err(VerifyError::Mismatch(ProofMismatch::InstanceValue { index })) if index == n_in
    ));
    // ... in both, consistently: the proof itself fails, offline and in the EVM.
    p.instances[n_in] = zkinfer::prover::prove::fr_to_hex_be(&flipped[n_in]);
    assert!(matches!(
        verify(&s.key, &p),
        Err(VerifyError::ProofRejected(_))
    ));
    assert!(verify_in_evm(&s.key, &p).is_err());
    // Another sample's output commitment is not this proof's.
    let other = commit(&s.output(0), s.output_bound(), salt);
    if other != want {
        let mut forged = instances(&proof);
        forged[n_in] = other;
        assert_eq!(s.raw_verdicts(&proof, &forged), (false, false));
    }
    // A file that shows the output of a hashed key is refused.
    let mut p = proof.clone();
    p.output = proof.input.clone();
    assert!(matches!(
        verify(&s.key, &p),
        Err(VerifyError::Mismatch(ProofMismatch::Visibility {
            field: "output",
            ..
        }))
    ));
}

#[test]
fn hashed_input_and_output_share_the_salt_and_private_output_shows_nothing() {
    let s = compiled_with(Visibility::Hashed, Visibility::Hashed);
    let salt = Fr::from(77u64);
    let proof = s.prove(0, salt);
    assert_eq!(
        instances(&proof),
        vec![
            commit(&s.samples[0], s.graph.input.bound, salt),
            commit(&s.output(0), s.output_bound(), salt)
        ]
    );
    verify(&s.key, &proof).expect("both hashed");
    verify_in_evm(&s.key, &proof).expect("both hashed, on chain");
    // Swapping the two commitments is rejected.
    let mut swapped = instances(&proof);
    swapped.reverse();
    assert_eq!(s.raw_verdicts(&proof, &swapped), (false, false));

    let s = compiled_with(Visibility::Public, Visibility::Private);
    let proof = s.prove(2, Fr::zero());
    assert!(proof.output.is_none() && proof.output_hash.is_none());
    assert_eq!(instances(&proof).len(), s.graph.input.numel());
    verify(&s.key, &proof).expect("honest private-output proof");
    verify_in_evm(&s.key, &proof).expect("honest private-output proof on chain");
    // The input is still bound.
    let mut forged = instances(&proof);
    forged[0] += Fr::one();
    assert_eq!(s.raw_verdicts(&proof, &forged), (false, false));
    let mut p = proof.clone();
    p.output_hash = Some(to_hex(&Fr::one()));
    assert!(matches!(
        verify(&s.key, &p),
        Err(VerifyError::Mismatch(ProofMismatch::Visibility {
            field: "output_hash",
            ..
        }))
    ));
}

/// The graph with its first Linear weight moved one step towards 0 (same widths, so the
/// same circuit), and the commitment of both.
fn other_weights(g: &QGraph) -> QGraph {
    let mut g = g.clone();
    let w = g
        .nodes
        .iter_mut()
        .find_map(|n| match &mut n.op {
            QOp::Linear { weight, .. } => weight.iter_mut().find(|w| **w != 0),
            _ => None,
        })
        .unwrap();
    *w -= w.signum();
    g
}

#[test]
fn hashed_params_bind_the_weights_and_private_ones_do_not() {
    let s = compiled_modes(
        Visibility::Public,
        Visibility::Public,
        ParamVisibility::Hashed,
    );
    let proof = s.prove(0, Fr::zero());
    let h = commit_params(&s.graph);
    assert_eq!(proof.param_hash.as_deref(), Some(to_hex(&h).as_str()));
    assert_eq!(instances(&proof).last(), Some(&h));
    verify(&s.key, &proof).expect("honest hashed-params proof");
    verify_in_evm(&s.key, &proof).expect("honest hashed-params proof on chain");
    // Other weights of the same widths: the same proving key proves them, but the proof
    // exposes their own commitment...
    let other = Arc::new(other_weights(&s.graph));
    let forged = s.prove_graph(other.clone(), 0, Fr::zero());
    let h2 = commit_params(&other);
    assert_ne!(h2, h);
    assert_eq!(instances(&forged).last(), Some(&h2));
    assert_eq!(s.raw_verdicts(&forged, &instances(&forged)), (true, true));
    // ... and presented with the original weights' commitment, both verifiers reject it.
    let mut claimed = instances(&forged);
    *claimed.last_mut().unwrap() = h;
    assert_eq!(s.raw_verdicts(&forged, &claimed), (false, false));
    // The file's commitment off by one bit is caught before any cryptography; a file
    // without it is refused.
    let mut p = proof.clone();
    p.param_hash = Some(flip_low_bit(p.param_hash.as_deref().unwrap()));
    let last = p.instances.len() - 2;
    assert!(matches!(
        verify(&s.key, &p),
        Err(VerifyError::Mismatch(ProofMismatch::InstanceValue { index })) if index == last
    ));
    p.param_hash = None;
    assert!(matches!(
        verify(&s.key, &p),
        Err(VerifyError::Mismatch(ProofMismatch::ParamVisibility { .. }))
    ));

    // Private parameters: nothing about the weights is public, and a proof with other
    // weights verifies against the same key (the claim is "some weights of these widths").
    let s = compiled_modes(
        Visibility::Public,
        Visibility::Public,
        ParamVisibility::Private,
    );
    let proof = s.prove(1, Fr::zero());
    assert!(proof.param_hash.is_none());
    verify(&s.key, &proof).expect("honest private-params proof");
    verify_in_evm(&s.key, &proof).expect("honest private-params proof on chain");
    let forged = s.prove_graph(Arc::new(other_weights(&s.graph)), 1, Fr::zero());
    assert_eq!(s.raw_verdicts(&forged, &instances(&forged)), (true, true));
    // The output is still bound to those weights: off by one, rejected.
    let mut wrong = instances(&forged);
    *wrong.last_mut().unwrap() += Fr::one();
    assert_eq!(s.raw_verdicts(&forged, &wrong), (false, false));
    let mut p = proof.clone();
    p.param_hash = Some(to_hex(&Fr::one()));
    assert!(matches!(
        verify(&s.key, &p),
        Err(VerifyError::Mismatch(ProofMismatch::ParamVisibility { .. }))
    ));
}

#[test]
fn committed_params_share_one_key_and_bind_the_weights_through_their_points() {
    let s = compiled_modes(
        Visibility::Public,
        Visibility::Public,
        ParamVisibility::Committed,
    );
    let columns = s.keys.header.circuit.param_columns.clone();
    assert!(
        !columns.is_empty(),
        "the mlp's weights fill some fixed columns"
    );
    // As fast as fixed parameters: no advice weights, no commitment rows, no extra instance.
    assert!(!s.params.optional.advice_params && !s.params.optional.poseidon);
    let proof = s.prove(0, Fr::zero());
    assert_eq!(proof.param_commitments.len(), columns.len());
    assert_eq!(proof.instances.len(), s.key.header.instance_count());
    verify(&s.key, &proof).expect("honest committed-params proof");
    verify_in_evm(&s.key, &proof).expect("honest committed-params proof on chain");
    // The architecture key alone does not verify it: the weights are not in it.
    let bytes = hex::decode(&proof.proof).unwrap();
    assert!(matches!(
        check_proof(&s.key, &instances(&proof), &bytes),
        Err(VerifyError::ProofRejected(_))
    ));

    // Another weight set of the same widths: setup gives the very same vk.bin, and its
    // proofs carry other points, so another digest.
    let other = Arc::new(other_weights(&s.graph));
    let plan_params = zkinfer::circuits::CircuitParams {
        param_columns: Vec::new(),
        ..s.params.clone()
    };
    let keys2 = setup(other.clone(), &plan_params, &s.srs).unwrap();
    assert_eq!(keys2.header, s.keys.header);
    assert_eq!(
        keys2
            .verifying_key()
            .to_bytes(halo2_proofs::SerdeFormat::RawBytes),
        s.keys
            .verifying_key()
            .to_bytes(halo2_proofs::SerdeFormat::RawBytes)
    );
    let trace = run_checked(&other, &s.samples[0]).unwrap();
    let mut forged = prove_with_salt(
        other,
        &s.params,
        &keys2.pk,
        &s.srs,
        trace,
        &s.hash,
        Fr::zero(),
    )
    .unwrap();
    committed::attach(&mut forged, &keys2.param_points().unwrap().unwrap());
    assert_ne!(forged.param_hash, proof.param_hash);
    verify(&s.key, &forged).expect("a proof of the other weights, under their own digest");
    // Presented as a proof of the first weight set (its points and digest), both verifiers
    // reject it.
    let mut claimed = forged.clone();
    claimed.param_commitments = proof.param_commitments.clone();
    claimed.param_hash = proof.param_hash.clone();
    assert!(matches!(
        verify(&s.key, &claimed),
        Err(VerifyError::ProofRejected(_))
    ));
    assert!(verify_in_evm(&s.key, &claimed).is_err());
    // The first set's proof with the second set's points: rejected too.
    let mut swapped = proof.clone();
    swapped.param_commitments = forged.param_commitments.clone();
    swapped.param_hash = forged.param_hash.clone();
    assert!(matches!(
        verify(&s.key, &swapped),
        Err(VerifyError::ProofRejected(_))
    ));
    assert!(verify_in_evm(&s.key, &swapped).is_err());

    // The file itself: a digest that is not the points', a point dropped or not a point, a
    // missing digest, points for a key without committed parameters.
    let mut p = proof.clone();
    p.param_hash = Some(flip_low_bit(p.param_hash.as_deref().unwrap()));
    assert!(matches!(
        verify(&s.key, &p),
        Err(VerifyError::Mismatch(ProofMismatch::ParamDigest { .. }))
    ));
    let mut p = proof.clone();
    p.param_commitments.pop();
    assert!(matches!(
        verify(&s.key, &p),
        Err(VerifyError::Mismatch(ProofMismatch::ParamPointCount { expected, got }))
            if expected == columns.len() && got + 1 == expected
    ));
    let mut p = proof.clone();
    p.param_commitments[0] = "11".repeat(64);
    assert!(matches!(
        verify(&s.key, &p),
        Err(VerifyError::Mismatch(ProofMismatch::ParamPoint {
            index: 0
        }))
    ));
    let mut p = proof.clone();
    p.param_hash = None;
    assert!(matches!(
        verify(&s.key, &p),
        Err(VerifyError::Mismatch(ProofMismatch::ParamVisibility { .. }))
    ));
    // A point moved by the generator, with the digest recomputed: the key it implies is not
    // the one the proof was made with.
    let mut points: Vec<_> = proof
        .param_commitments
        .iter()
        .map(|h| committed::decode_point(h).unwrap())
        .collect();
    {
        use halo2_proofs::halo2curves::bn256::G1;
        use halo2_proofs::halo2curves::group::Curve;
        points[0] = (G1::from(points[0]) + G1::generator()).to_affine();
    }
    let mut p = proof.clone();
    committed::attach(&mut p, &points);
    assert!(matches!(
        verify(&s.key, &p),
        Err(VerifyError::ProofRejected(_))
    ));
    assert!(verify_in_evm(&s.key, &p).is_err());
    let fixed = compiled(Visibility::Public);
    let mut p = fixed.prove(0, Fr::zero());
    p.param_commitments = proof.param_commitments.clone();
    assert!(matches!(
        verify(&fixed.key, &p),
        Err(VerifyError::Mismatch(ProofMismatch::ParamPointCount {
            expected: 0,
            ..
        }))
    ));
}

#[test]
fn each_graph_input_can_have_its_own_visibility() {
    let s = compiled_fixture("two_inputs_two_outputs", |g| {
        g.input_part_visibility = vec![Visibility::Hashed, Visibility::Public];
    });
    let salt = Fr::from(9u64);
    let proof = s.prove(0, salt);
    assert!(proof.input.is_none() && proof.input_hash.is_none());
    let parts = &proof.input_parts;
    assert_eq!(parts.len(), 2);
    let seg = s.graph.input_segments();
    let (a, b) = (&seg[0], &seg[1]);
    let x = &s.samples[0];
    let want = commit(&x[..a.len()], s.graph.input.bound, salt);
    assert_eq!(parts[0].name, "a");
    assert_eq!(parts[0].hash.as_deref(), Some(to_hex(&want).as_str()));
    assert!(parts[0].values.is_none());
    assert_eq!(
        parts[1].values.as_ref().unwrap().ints,
        x[b.start..b.start + b.len()]
    );
    assert!(parts[1].hash.is_none());
    // Instances: a's commitment, b's values, then the outputs.
    let inst = instances(&proof);
    assert_eq!(inst[0], want);
    assert_eq!(
        inst.len(),
        1 + b.len() + s.graph.output_tensor().unwrap().numel()
    );
    verify(&s.key, &proof).expect("honest per-input proof");
    verify_in_evm(&s.key, &proof).expect("honest per-input proof on chain");
    // a's commitment off by one, and one of b's values off by one: both verifiers reject.
    for index in [0, 1] {
        let mut forged = inst.clone();
        forged[index] += Fr::one();
        assert_eq!(s.raw_verdicts(&proof, &forged), (false, false), "{index}");
    }
    // Another sample's commitment to a is not this proof's.
    let other = commit(&s.samples[1][..a.len()], s.graph.input.bound, salt);
    let mut forged = inst.clone();
    forged[0] = other;
    assert_eq!(s.raw_verdicts(&proof, &forged), (false, false));
    // A file that claims another visibility, shows a's values, or drops a part is refused.
    let mut p = proof.clone();
    p.input_parts[0].visibility = Visibility::Public;
    assert!(matches!(
        verify(&s.key, &p),
        Err(VerifyError::Mismatch(ProofMismatch::InputPart {
            index: 0,
            field: "visibility"
        }))
    ));
    let mut p = proof.clone();
    p.input_parts[0].values = p.input_parts[1].values.clone();
    assert!(matches!(
        verify(&s.key, &p),
        Err(VerifyError::Mismatch(ProofMismatch::InputPart {
            index: 0,
            ..
        }))
    ));
    let mut p = proof.clone();
    p.input_parts.pop();
    assert!(matches!(
        verify(&s.key, &p),
        Err(VerifyError::Mismatch(ProofMismatch::InputPartCount {
            expected: 2,
            got: 1
        }))
    ));
    let mut p = proof.clone();
    p.input = p.input_parts[1].values.clone();
    assert!(matches!(
        verify(&s.key, &p),
        Err(VerifyError::Mismatch(ProofMismatch::Visibility {
            field: "input",
            ..
        }))
    ));
}

/// The first structural parameter of `g` moved one step towards 0 (same width), on a node
/// for which sample `sample` still runs: another circuit than the key's.
fn other_structural(g: &QGraph, sample: &[i64]) -> Option<QGraph> {
    for (at, n) in g.nodes.iter().enumerate() {
        if !n.structural {
            continue;
        }
        let len = zkinfer::ir::qgraph::op_params(&n.op).concat().len();
        for k in 0..len {
            let mut other = g.clone();
            let mut params = match &mut other.nodes[at].op {
                QOp::Linear { weight, bias, .. } | QOp::Conv { weight, bias, .. } => {
                    weight.iter_mut().chain(bias.iter_mut()).collect::<Vec<_>>()
                }
                QOp::MulConst { factor } => factor.iter_mut().collect(),
                QOp::Add { constant, .. } => constant.iter_mut().collect(),
                _ => Vec::new(),
            };
            let Some(v) = params.get_mut(k) else { continue };
            if **v == 0 {
                continue;
            }
            **v -= v.signum();
            if run_checked(&other, sample).is_ok() {
                return Some(other);
            }
        }
    }
    None
}

#[test]
fn structural_constants_stay_in_the_key_under_private_parameters() {
    // The mlp's weights are all trained: advice, as before.
    let mlp = compiled_modes(
        Visibility::Public,
        Visibility::Public,
        ParamVisibility::Private,
    );
    let params = |g: &QGraph, structural: bool| {
        g.nodes
            .iter()
            .filter(|n| n.structural == structural)
            .filter(|n| !zkinfer::ir::qgraph::op_params(&n.op).is_empty())
            .count()
    };
    assert!(params(&mlp.graph, false) > 0 && params(&mlp.graph, true) == 0);
    // Hardmax's comparisons and one-hot use constants the importer emits: they stay pinned.
    let s = compiled_fixture("hardmax", |g| {
        g.param_visibility = ParamVisibility::Private;
    });
    assert!(params(&s.graph, true) > 0, "no structural constants");
    let proof = s.prove(0, Fr::zero());
    verify(&s.key, &proof).expect("honest private-params proof");
    verify_in_evm(&s.key, &proof).expect("honest private-params proof on chain");
    // A proof made with the same proving key for a graph with one structural constant moved
    // is rejected by both verifiers, whatever public values it claims.
    let other = other_structural(&s.graph, &s.samples[0]).expect("a movable constant");
    let forged = s.prove_graph(Arc::new(other), 0, Fr::zero());
    assert_eq!(s.raw_verdicts(&forged, &instances(&forged)), (false, false));
}
