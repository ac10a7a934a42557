//! Committed parameters: the trained weights stay in fixed columns, as with fixed
//! parameters, but the verifying key is the **architecture's** (every trained weight 0).
//!
//! A KZG commitment is linear in the column's values, so the key a proof was made with is
//! the architecture key plus, for each fixed column that holds trained weights
//! ([`param_columns`]), the commitment of the weights alone: one point per column
//! ([`param_points`]). Each proof carries those points; the verifier adds them to its key
//! ([`with_points`]) before checking the proof, so a point changed by anything makes the
//! proof fail. The points' Keccak digest ([`param_digest`]) names the weight set: it is the
//! same in every proof of these weights laid out with this key.
//!
//! The weights themselves get no range check in the circuit (as with fixed parameters,
//! whose values the key pins): the digest stands for weights that `compile` validated, so a
//! verifier takes it from the model's owner, as it takes `vk.bin` with fixed parameters.

use std::sync::Arc;

use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine, G1};
use halo2_proofs::halo2curves::group::{Curve, Group};
use halo2_proofs::plonk::{keygen_vk, VerifyingKey};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use sha3::{Digest, Keccak256};
use zkinfer_ir::QGraph;

use crate::circuit::ModelCircuit;
use crate::config::CircuitParams;

/// Why committed-parameter keys cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum CommittedError {
    /// halo2's key generation failed.
    #[error("key generation failed: {0}")]
    Keygen(#[from] halo2_proofs::plonk::Error),
    /// The architecture key and the key with the weights differ beyond the weight columns:
    /// the layout depends on the weight values, so one key cannot serve every weight set.
    #[error("the layout depends on the weight values ({what} differs between the architecture key and the key with the weights)")]
    WeightDependentLayout {
        /// What differs.
        what: String,
    },
}

/// The architecture of `graph`: every trained parameter 0, structure and constants kept.
pub fn architecture_graph(graph: &QGraph) -> QGraph {
    graph.map_trained_params(|_| 0)
}

fn vk_of(
    srs: &ParamsKZG<Bn256>,
    graph: QGraph,
    params: &CircuitParams,
) -> Result<VerifyingKey<G1Affine>, CommittedError> {
    let circuit = ModelCircuit::keygen(Arc::new(graph), params.clone());
    Ok(keygen_vk(srs, &circuit)?)
}

/// The fixed columns where `params`'s layout of `graph` puts trained weights: those whose
/// commitment changes when every trained weight goes from 0 to 1. A property of the
/// architecture, not of the weight values.
pub fn param_columns(
    srs: &ParamsKZG<Bn256>,
    graph: &QGraph,
    params: &CircuitParams,
) -> Result<Vec<usize>, CommittedError> {
    let zero = vk_of(srs, architecture_graph(graph), params)?;
    let ones = vk_of(srs, graph.map_trained_params(|_| 1), params)?;
    same_beyond_fixed(&zero, &ones)?;
    Ok(zero
        .fixed_commitments()
        .iter()
        .zip(ones.fixed_commitments())
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .map(|(i, _)| i)
        .collect())
}

/// The architecture key of `graph` laid out with `params` (whose `param_columns` are set):
/// what `vk.bin` holds with committed parameters.
pub fn architecture_key(
    srs: &ParamsKZG<Bn256>,
    graph: &QGraph,
    params: &CircuitParams,
) -> Result<VerifyingKey<G1Affine>, CommittedError> {
    vk_of(srs, architecture_graph(graph), params)
}

fn same_beyond_fixed(
    a: &VerifyingKey<G1Affine>,
    b: &VerifyingKey<G1Affine>,
) -> Result<(), CommittedError> {
    let differs = |what: &str| {
        Err(CommittedError::WeightDependentLayout {
            what: what.to_string(),
        })
    };
    if a.permutation().commitments() != b.permutation().commitments() {
        return differs("the permutation");
    }
    if format!("{:?}", a.cs().pinned()) != format!("{:?}", b.cs().pinned()) {
        return differs("the constraint system");
    }
    if a.fixed_commitments().len() != b.fixed_commitments().len() {
        return differs("the number of fixed columns");
    }
    Ok(())
}

/// The weights' points: `full − arch` on each of `columns`, where `full` is the key made
/// with the weights and `arch` the architecture key. Every other column must agree.
pub fn param_points(
    full: &VerifyingKey<G1Affine>,
    arch: &VerifyingKey<G1Affine>,
    columns: &[usize],
) -> Result<Vec<G1Affine>, CommittedError> {
    same_beyond_fixed(full, arch)?;
    let mut points = Vec::with_capacity(columns.len());
    for (i, (f, a)) in full
        .fixed_commitments()
        .iter()
        .zip(arch.fixed_commitments())
        .enumerate()
    {
        if columns.contains(&i) {
            points.push((G1::from(*f) - G1::from(*a)).to_affine());
        } else if f != a {
            return Err(CommittedError::WeightDependentLayout {
                what: format!("fixed column {i}, which is not a weight column,"),
            });
        }
    }
    Ok(points)
}

/// `arch` with `points[j]` added to fixed column `columns[j]`: the key the proof was made
/// with. `None` when the lists differ in length or name a column the key lacks.
pub fn with_points(
    arch: &VerifyingKey<G1Affine>,
    columns: &[usize],
    points: &[G1Affine],
) -> Option<VerifyingKey<G1Affine>> {
    if columns.len() != points.len() {
        return None;
    }
    let mut fixed = arch.fixed_commitments().clone();
    for (&c, p) in columns.iter().zip(points) {
        let slot = fixed.get_mut(c)?;
        *slot = (G1::from(*slot) + G1::from(*p)).to_affine();
    }
    Some(VerifyingKey::from_parts(
        arch.get_domain().clone(),
        fixed,
        arch.permutation().clone(),
        arch.cs().clone(),
        Vec::new(),
        arch.compress_selectors(),
    ))
}

/// A point as proofs carry it: 64 bytes, `x ‖ y` little-endian (the key header's encoding),
/// the identity as 64 zero bytes; hex.
pub fn encode_point(p: &G1Affine) -> String {
    if bool::from(G1::from(*p).is_identity()) {
        return "00".repeat(64);
    }
    crate::vk_header::points::encode_g1(p)
}

/// Parses [`encode_point`]'s output; `None` unless it is the identity or on the curve.
pub fn decode_point(s: &str) -> Option<G1Affine> {
    if s.len() == 128 && s.bytes().all(|b| b == b'0') {
        return Some(G1::identity().to_affine());
    }
    crate::vk_header::points::decode_g1(s)
}

/// The weight set's name: Keccak-256 of the points' encodings, in order, as `0x` hex.
pub fn param_digest(points: &[G1Affine]) -> String {
    let mut h = Keccak256::new();
    for p in points {
        h.update(hex::decode(encode_point(p)).unwrap_or_default());
    }
    format!("0x{}", hex::encode(h.finalize()))
}

/// Puts the weight points and their digest into a proof file (what `prove` does with
/// committed parameters).
pub fn attach(proof: &mut zkinfer_ir::proof_file::ProofFile, points: &[G1Affine]) {
    proof.param_commitments = points.iter().map(encode_point).collect();
    proof.param_hash = Some(param_digest(points));
}

#[cfg(test)]
mod tests {
    use halo2_proofs::halo2curves::bn256::{Bn256, G1};
    use halo2_proofs::halo2curves::group::{Curve, Group};
    use zkinfer_ir::testkit::{graph, node, tensor};
    use zkinfer_ir::QOp;

    use super::*;

    #[test]
    fn points_round_trip_and_bad_ones_are_refused() {
        let g = G1::generator();
        for p in [G1::identity(), g, g + g] {
            let p = p.to_affine();
            assert_eq!(decode_point(&encode_point(&p)), Some(p));
        }
        assert_eq!(encode_point(&G1::identity().to_affine()), "00".repeat(64));
        // Not on the curve, too short, not hex.
        assert_eq!(decode_point(&"11".repeat(64)), None);
        assert_eq!(decode_point(&"00".repeat(63)), None);
        assert_eq!(decode_point(&"zz".repeat(64)), None);
    }

    #[test]
    fn the_digest_names_the_points_in_order() {
        let g = G1::generator();
        let (a, b) = (g.to_affine(), (g + g + g).to_affine());
        let d = param_digest(&[a, b]);
        assert_eq!(d.len(), 66);
        assert_ne!(d, param_digest(&[b, a]));
        assert_ne!(d, param_digest(&[a]));
        assert_eq!(d, param_digest(&[a, b]));
    }

    fn linear_graph() -> QGraph {
        let mut g = graph(
            tensor(2, 7),
            vec![
                node(
                    "fc",
                    QOp::Linear {
                        weight: vec![3, -2, 1, 5],
                        bias: vec![4, -4],
                        n_in: 2,
                        n_out: 2,
                    },
                    &[0],
                    tensor(2, 1000),
                ),
                node(
                    "scale",
                    QOp::MulConst { factor: vec![2, 3] },
                    &[1],
                    tensor(2, 3000),
                ),
            ],
        );
        if let Some(n) = g.nodes.get_mut(1) {
            n.structural = true;
        }
        g
    }

    #[test]
    fn only_trained_parameters_are_zeroed() {
        let g = linear_graph();
        let arch = architecture_graph(&g);
        assert_eq!(
            arch.nodes[0].op,
            QOp::Linear {
                weight: vec![0; 4],
                bias: vec![0; 2],
                n_in: 2,
                n_out: 2,
            }
        );
        assert_eq!(arch.nodes[1].op, g.nodes[1].op);
        assert_eq!(arch.nodes[0].out, g.nodes[0].out);
    }

    #[test]
    fn the_architecture_key_plus_the_points_is_the_key_with_the_weights() {
        use halo2_proofs::poly::kzg::commitment::ParamsKZG;
        use rand::SeedableRng;
        let g = linear_graph();
        let mut params = crate::plan(&g).expect("plan").params;
        let srs = ParamsKZG::<Bn256>::setup(params.k, rand_chacha::ChaCha20Rng::seed_from_u64(1));
        let columns = param_columns(&srs, &g, &params).expect("columns");
        assert!(!columns.is_empty());
        params.param_columns = columns.clone();
        let arch = architecture_key(&srs, &g, &params).expect("arch");
        let full = vk_of(&srs, g.clone(), &params).expect("full");
        let points = param_points(&full, &arch, &columns).expect("points");
        let rebuilt = with_points(&arch, &columns, &points).expect("rebuilt");
        assert_eq!(rebuilt.fixed_commitments(), full.fixed_commitments());
        assert_eq!(rebuilt.transcript_repr(), full.transcript_repr());
        assert_ne!(arch.transcript_repr(), full.transcript_repr());
        // Lists of different lengths, or a column the key lacks, are refused.
        assert!(with_points(&arch, &columns, &points[1..]).is_none());
        let beyond = vec![arch.fixed_commitments().len(); points.len()];
        assert!(with_points(&arch, &beyond, &points).is_none());
        // A difference outside the listed columns is a layout that depends on the weights.
        assert!(matches!(
            param_points(&full, &arch, &columns[1..]),
            Err(CommittedError::WeightDependentLayout { .. })
        ));
    }
}
