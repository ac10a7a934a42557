//! Reading a self-contained verifying key (`vk.bin`).

use std::path::Path;
use std::sync::Arc;

use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::{keygen_vk, VerifyingKey};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_proofs::SerdeFormat;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkinfer_circuits::transcript::be_bytes;
use zkinfer_circuits::vk_header::{points, VkHeader};
use zkinfer_circuits::{committed, ModelCircuit};
use zkinfer_ir::artifact::{self, ArtifactKind, ModelHash};
use zkinfer_ir::{ParamVisibility, QGraph};

use crate::error::{KeyProblem, SrsPoint, VerifyError};

/// Largest circuit parameters a key may declare (guards against hostile files).
const MAX_K: u32 = 26;
const MAX_LANES: usize = 256;
/// Most accumulators per linear row a key may declare.
const MAX_OUTS: usize = 64;
const MAX_LIMBS: usize = 32;
const MAX_LIMB_BITS: u32 = 24;

/// The cryptographic identity of a verifying key: halo2's transcript representation of it
/// (`VerifyingKey::transcript_repr`), the first value every proof transcript absorbs.
///
/// It is a hash of the fixed commitments (the model's weights and lookup tables), the
/// permutation commitments and the constraint system, so it pins the circuit and the model
/// whatever labels the key file carries. It does not cover the SRS's G2 points, which the
/// key's header holds: check those (and that the SRS is not an insecure test one) separately.
///
/// Shown as 32-byte big-endian hex, the encoding of the EVM key data's header word 6, which
/// the Solidity verifier's `vkDigest()` returns.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyDigest(pub [u8; 32]);

impl KeyDigest {
    /// The digest of a halo2 verifying key.
    pub fn of(vk: &VerifyingKey<G1Affine>) -> Self {
        KeyDigest(be_bytes(&vk.transcript_repr()))
    }
}

impl std::fmt::Display for KeyDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl std::fmt::Debug for KeyDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyDigest({self})")
    }
}

/// KZG verifier parameters from the SRS points a key's header records.
fn verifier_params(header: &VkHeader, path: &Path) -> Result<ParamsKZG<Bn256>, VerifyError> {
    let not_a_point = |point| bad(path, KeyProblem::NotACurvePoint { point });
    let g1 = points::decode_g1(&header.srs.g1).ok_or_else(|| not_a_point(SrsPoint::G1))?;
    let g2 = points::decode_g2(&header.srs.g2).ok_or_else(|| not_a_point(SrsPoint::G2))?;
    let s_g2 = points::decode_g2(&header.srs.s_g2).ok_or_else(|| not_a_point(SrsPoint::SG2))?;
    let base = ParamsKZG::<Bn256>::setup(1, ChaCha20Rng::seed_from_u64(0));
    Ok(base.from_parts(header.circuit.k, vec![g1], Some(Vec::new()), g2, s_g2))
}

/// A verifying key with its header and KZG verifier parameters.
#[derive(Debug, Clone)]
pub struct VerifierKey {
    /// Circuit parameters, public layout and SRS description.
    pub header: VkHeader,
    /// The compiled model this key belongs to.
    pub model_hash: ModelHash,
    pub(crate) vk: VerifyingKey<G1Affine>,
    pub(crate) params: ParamsKZG<Bn256>,
}

fn bad(path: &Path, problem: KeyProblem) -> VerifyError {
    VerifyError::BadKey {
        path: path.to_path_buf(),
        problem,
    }
}

impl VerifierKey {
    /// Reads and checks `vk.bin`.
    pub fn read(path: &Path) -> Result<Self, VerifyError> {
        Self::from_bytes(&artifact::read_file(path)?, path)
    }

    /// Parses `vk.bin` bytes; `path` names the file in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self, VerifyError> {
        let (model_hash, payload) = artifact::decode(ArtifactKind::VerifyingKey, bytes, path)?;
        let (head, mut body) =
            artifact::split_header(payload).ok_or_else(|| bad(path, KeyProblem::HeaderCutShort))?;
        let header: VkHeader = serde_json::from_slice(head)
            .map_err(|source| bad(path, KeyProblem::Header { source }))?;
        let c = &header.circuit;
        let ranges = [
            ("k", u64::from(c.k), 4, u64::from(MAX_K)),
            ("lanes", c.lanes as u64, 1, MAX_LANES as u64),
            ("outs", c.outs as u64, 1, MAX_OUTS as u64),
            ("limbs", c.limbs as u64, 1, MAX_LIMBS as u64),
            (
                "limb_bits",
                u64::from(c.limb_bits),
                1,
                u64::from(MAX_LIMB_BITS),
            ),
        ];
        if let Some(&(parameter, value, min, max)) = ranges
            .iter()
            .find(|(_, value, min, max)| !(*min..=*max).contains(value))
        {
            return Err(bad(
                path,
                KeyProblem::ParameterOutOfRange {
                    parameter,
                    value,
                    min,
                    max,
                },
            ));
        }
        if header.srs.k != c.k {
            return Err(bad(
                path,
                KeyProblem::SrsSizeMismatch {
                    srs_k: header.srs.k,
                    circuit_k: c.k,
                },
            ));
        }
        // Every consumer multiplies the shapes out; they must fit the circuit's rows.
        let numel = |shape: &[usize]| shape.iter().try_fold(1usize, |a, d| a.checked_mul(*d));
        let parts = header.output_parts.iter().try_fold(0usize, |a, p| {
            numel(&p.shape).and_then(|n| a.checked_add(n))
        });
        let fits = numel(&header.input_shape)
            .zip(numel(&header.output_shape))
            .and_then(|(i, o)| i.checked_add(o))
            .is_some_and(|total| total <= 1usize << c.k)
            && (header.output_parts.is_empty() || parts == numel(&header.output_shape));
        if !fits {
            return Err(bad(
                path,
                KeyProblem::ShapesDoNotFit {
                    input_shape: header.input_shape.clone(),
                    output_shape: header.output_shape.clone(),
                    k: c.k,
                },
            ));
        }
        // halo2's VK starts with a version byte and k; check k before it sizes anything.
        let k_bytes: Option<[u8; 4]> = body.get(1..5).and_then(|s| s.try_into().ok());
        let key_k = k_bytes
            .map(u32::from_le_bytes)
            .ok_or_else(|| bad(path, KeyProblem::BodyCutShort))?;
        if key_k != c.k {
            return Err(bad(
                path,
                KeyProblem::KMismatch {
                    header_k: c.k,
                    key_k,
                },
            ));
        }
        // zkinfer keys never compress selectors; refusing them also bounds what reading allocates.
        match body.get(5) {
            Some(0) => {}
            Some(_) => return Err(bad(path, KeyProblem::CompressedSelectors)),
            None => return Err(bad(path, KeyProblem::BodyCutShort)),
        }
        let params = verifier_params(&header, path)?;
        let circuit_params = c.clone();
        let (vk, rest) = std::panic::catch_unwind(move || {
            let vk = VerifyingKey::<G1Affine>::read::<_, ModelCircuit>(
                &mut body,
                SerdeFormat::RawBytes,
                circuit_params,
            );
            (vk, body.len())
        })
        .map_err(|_| bad(path, KeyProblem::Unparseable))?;
        let vk = vk.map_err(|source| bad(path, KeyProblem::Read { source }))?;
        // halo2 trusts these counts when verifying; a short list would index out of bounds.
        let cs = vk.cs();
        let (fixed_expected, fixed_got) = (cs.num_fixed_columns(), vk.fixed_commitments().len());
        let permutation_expected = cs.permutation().get_columns().len();
        let permutation_got = vk.permutation().commitments().len();
        if fixed_got != fixed_expected || permutation_got != permutation_expected {
            return Err(bad(
                path,
                KeyProblem::CommitmentCounts {
                    fixed_expected,
                    fixed_got,
                    permutation_expected,
                    permutation_got,
                },
            ));
        }
        if rest != 0 {
            return Err(bad(path, KeyProblem::TrailingBytes { count: rest }));
        }
        let columns = &header.circuit.param_columns;
        let increasing = columns.windows(2).all(|w| w.first() < w.get(1));
        let committed = header.param_visibility == ParamVisibility::Committed;
        if !increasing
            || columns.iter().any(|&c| c >= fixed_expected)
            || (!committed && !columns.is_empty())
        {
            return Err(bad(
                path,
                KeyProblem::ParamColumns {
                    columns: columns.clone(),
                    visibility: header.param_visibility,
                    fixed: fixed_expected,
                },
            ));
        }
        Ok(VerifierKey {
            header,
            model_hash,
            vk,
            params,
        })
    }

    /// The key's digest: see [`KeyDigest`].
    pub fn digest(&self) -> KeyDigest {
        KeyDigest::of(&self.vk)
    }

    /// Rebuilds the verifying key of a compiled model, as `zkinfer setup` makes it, with
    /// halo2's `keygen_vk` (no proving key). `srs` must be the full SRS the key was set up
    /// with, sized to `header.circuit.k`; `header` is what setup records for this model and
    /// SRS. `origin` names the compiled model in errors.
    pub fn rebuild(
        graph: Arc<QGraph>,
        mut header: VkHeader,
        model_hash: ModelHash,
        srs: &ParamsKZG<Bn256>,
        origin: &Path,
    ) -> Result<Self, VerifyError> {
        use halo2_proofs::poly::commitment::Params;
        if srs.k() != header.circuit.k {
            return Err(bad(
                origin,
                KeyProblem::RebuildSrsSize {
                    srs_k: srs.k(),
                    circuit_k: header.circuit.k,
                },
            ));
        }
        graph
            .validate()
            .map_err(|source| bad(origin, KeyProblem::InvalidModel { source }))?;
        let params = verifier_params(&header, origin)?;
        let vk = if graph.param_visibility == ParamVisibility::Committed {
            // The architecture key, with the weight columns found as setup finds them.
            let keygen = |e: committed::CommittedError| match e {
                committed::CommittedError::Keygen(source) => {
                    bad(origin, KeyProblem::Keygen { source })
                }
                other => bad(
                    origin,
                    KeyProblem::Committed {
                        detail: other.to_string(),
                    },
                ),
            };
            let mut circuit = header.circuit.clone();
            circuit.param_columns =
                committed::param_columns(srs, &graph, &circuit).map_err(keygen)?;
            header.circuit = circuit;
            committed::architecture_key(srs, &graph, &header.circuit).map_err(keygen)?
        } else {
            let circuit = ModelCircuit::keygen(graph, header.circuit.clone());
            keygen_vk(srs, &circuit).map_err(|source| bad(origin, KeyProblem::Keygen { source }))?
        };
        Ok(VerifierKey {
            header,
            model_hash,
            vk,
            params,
        })
    }

    /// The length in bytes of every proof for this key (halo2 SHPLONK with zkinfer's EVM
    /// transcript: 64-byte points and 32-byte scalars, in the order halo2's verifier reads
    /// them; the public values are not part of the proof).
    pub fn proof_len(&self) -> usize {
        let cs = self.vk.cs();
        let lookups = cs.lookups().len();
        let perm_columns = cs.permutation().get_columns().len();
        // halo2 splits the permutation into sets of `degree - 2` columns.
        let perm_sets = perm_columns.div_ceil(cs.degree().saturating_sub(2).max(1));
        let points = cs.num_advice_columns()
            + 2 * lookups // permuted input and table
            + perm_sets // permutation products
            + lookups // lookup products
            + 1 // the vanishing argument's random polynomial
            + self.vk.get_domain().get_quotient_poly_degree() // quotient pieces
            + 2; // SHPLONK's h1 and h2
        let scalars = cs.advice_queries().len()
            + cs.fixed_queries().len()
            + 1 // the random polynomial's evaluation
            + perm_columns // permutation column evaluations
            + (3 * perm_sets).saturating_sub(1) // z(x), z(ωx) per set, z(ω^last·x) but the last
            + 5 * lookups;
        64 * points + 32 * scalars
    }

    /// The halo2 verifying key.
    pub fn halo2_key(&self) -> &VerifyingKey<G1Affine> {
        &self.vk
    }

    /// The key `proof` was made with: this key, or with committed parameters this key plus
    /// the proof's weight points (checked against its `param_hash`).
    pub fn for_proof(
        &self,
        proof: &zkinfer_ir::proof_file::ProofFile,
    ) -> Result<std::borrow::Cow<'_, VerifierKey>, VerifyError> {
        use crate::error::ProofMismatch;
        let columns = &self.header.circuit.param_columns;
        if self.header.param_visibility != ParamVisibility::Committed {
            if !proof.param_commitments.is_empty() {
                return Err(VerifyError::Mismatch(ProofMismatch::ParamPointCount {
                    expected: 0,
                    got: proof.param_commitments.len(),
                }));
            }
            return Ok(std::borrow::Cow::Borrowed(self));
        }
        if proof.param_commitments.len() != columns.len() {
            return Err(VerifyError::Mismatch(ProofMismatch::ParamPointCount {
                expected: columns.len(),
                got: proof.param_commitments.len(),
            }));
        }
        let points = proof
            .param_commitments
            .iter()
            .enumerate()
            .map(|(index, s)| committed::decode_point(s).ok_or(ProofMismatch::ParamPoint { index }))
            .collect::<Result<Vec<_>, _>>()
            .map_err(VerifyError::Mismatch)?;
        let digest = committed::param_digest(&points);
        let norm = |s: &str| s.trim_start_matches("0x").to_ascii_lowercase();
        match &proof.param_hash {
            Some(h) if norm(h) == norm(&digest) => {}
            other => {
                return Err(VerifyError::Mismatch(ProofMismatch::ParamDigest {
                    expected: digest,
                    got: other.clone().unwrap_or_default(),
                }))
            }
        }
        let vk = committed::with_points(&self.vk, columns, &points).ok_or(
            VerifyError::Mismatch(ProofMismatch::ParamPointCount {
                expected: columns.len(),
                got: points.len(),
            }),
        )?;
        Ok(std::borrow::Cow::Owned(VerifierKey {
            header: self.header.clone(),
            model_hash: self.model_hash,
            vk,
            params: self.params.clone(),
        }))
    }

    /// True when the key was made from a locally generated test SRS.
    pub fn insecure_srs(&self) -> bool {
        self.header.srs.insecure
    }
}
