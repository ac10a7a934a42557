//! The verifying key as the data the on-chain verifier reads.
//!
//! The Solidity verifier is the same code for every model. Everything circuit-specific lives
//! in one byte string that the verifier copies from a separate key contract:
//!
//! - a header of 32-byte words (counts, calldata offsets, domain constants, SRS points);
//! - the fixed and permutation commitments;
//! - one word per permutation column saying where its evaluation is;
//! - the multi-opening plan: the evaluation points and, per rotation set, its points,
//!   interpolation constants and the commitments it opens;
//! - the constraint program: every gate polynomial, the permutation and every lookup, as a
//!   small stack program folded with the challenge `y` exactly as halo2 folds them.
//!
//! Calldata is the public values (one word each), then the proof. Every proof element sits at
//! an offset the header fixes, so the transcript hashes contiguous calldata ranges.

use std::ops::Range;

use halo2_proofs::halo2curves::bn256::{Fr, G1Affine};
use halo2_proofs::halo2curves::ff::{Field, PrimeField};
use halo2_proofs::halo2curves::group::prime::PrimeCurveAffine;
use halo2_proofs::plonk::{Any, ConstraintSystem};
use halo2_proofs::poly::Rotation;
use zkinfer_circuits::vk_header::points;

use super::program::{program, unsupported, QueryIndex};
use zkinfer_circuits::transcript::be_bytes;

use super::words::{word_u64, words_g1, words_g2, Word};
use crate::error::{UnsupportedCircuit, VerifyError};
use crate::key::VerifierKey;

/// Format version of the key data (header word 0).
pub const KEY_DATA_VERSION: u64 = 1;

/// A reference is a 4-byte big-endian word: the kind in the top byte, an offset below.
/// Kind 0: a commitment or evaluation in calldata at that offset.
const KIND_CALLDATA: u32 = 0;
/// Kind 1: a commitment in the key data at that byte offset, or (for evaluations) the
/// expected quotient evaluation.
const KIND_KEY: u32 = 1;
/// Kind 2: the quotient commitment `Σ x^{n·i}·H_i`, or (for evaluations) the public-value
/// column's evaluation.
const KIND_SPECIAL: u32 = 2;
/// Kind 3: a commitment that is the point at infinity (an all-zero column): no multiplication.
const KIND_SKIP: u32 = 3;

/// EIP-170's limit on a contract's code size.
pub const MAX_CONTRACT_SIZE: usize = 24_576;

/// Number of header words.
pub const HEADER_WORDS: usize = 48;

/// The header, word by word (the Solidity side reads the same indices). Words 2, 19 and
/// 40..48 are unused and zero.
#[allow(missing_docs)]
pub mod hdr {
    pub const VERSION: usize = 0;
    pub const NUM_INSTANCES: usize = 1;
    pub const K: usize = 3;
    pub const OMEGA: usize = 4;
    pub const N_INV: usize = 5;
    pub const TRANSCRIPT_REPR: usize = 6;
    pub const DELTA: usize = 7;
    pub const CHUNK_LEN: usize = 8;
    pub const NUM_PERM_SETS: usize = 9;
    pub const NUM_PERM_COLS: usize = 10;
    pub const NUM_H: usize = 11;
    pub const BLINDING: usize = 12;
    pub const OMEGA_INV: usize = 13;
    pub const O_ADVICE: usize = 14;
    pub const O_LOOKUP_PERMUTED: usize = 15;
    pub const O_PERM_Z: usize = 16;
    pub const O_H: usize = 17;
    pub const O_EVALS: usize = 18;
    pub const O_PERM_COMMON: usize = 20;
    pub const O_PERM_SETS: usize = 21;
    pub const O_LOOKUP_EVALS: usize = 22;
    pub const O_W1: usize = 23;
    pub const O_W2: usize = 24;
    pub const CALLDATA_LEN: usize = 25;
    pub const G1_X: usize = 26;
    pub const G1_Y: usize = 27;
    /// Four words: `-G2` in the pairing precompile's order.
    pub const NEG_G2: usize = 28;
    /// Four words: `τ·G2`.
    pub const S_G2: usize = 32;
    pub const PERM_COLS: usize = 36;
    pub const OPENING_PLAN: usize = 37;
    pub const PROGRAM: usize = 38;
    pub const PROGRAM_END: usize = 39;
}

/// The key data of one model and the calldata layout it implies.
#[derive(Debug, Clone)]
pub struct EvmKey {
    /// The bytes the key contract serves.
    pub data: Vec<u8>,
    /// Number of public values (inputs then outputs) at the start of calldata.
    pub instance_count: usize,
    /// Exact calldata length in bytes.
    pub calldata_len: usize,
    /// Number of points the verifier multiplies (one precompile call each).
    pub msm_terms: usize,
    /// Calldata ranges holding curve points (`x ‖ y`, 64 bytes each).
    pub point_ranges: Vec<Range<usize>>,
    /// Calldata ranges holding scalars (32 bytes each): the public values, the evaluations.
    pub scalar_ranges: Vec<Range<usize>>,
}

/// The most distinct opening points (rotations) the verifier's plan holds.
const MAX_OPENING_POINTS: usize = 32;

fn reference(kind: u32, offset: usize) -> Result<[u8; 4], VerifyError> {
    let at = u32::try_from(offset)
        .ok()
        .filter(|o| *o < 1 << 24)
        .ok_or(unsupported(UnsupportedCircuit::CalldataOffset {
            offset,
            bits: 24,
        }))?;
    Ok(((kind << 24) | at).to_be_bytes())
}

fn count(n: usize) -> Result<[u8; 4], VerifyError> {
    u32::try_from(n)
        .map(u32::to_be_bytes)
        .map_err(|_| unsupported(UnsupportedCircuit::CountTooLarge { count: n }))
}

/// Where a commitment is: in calldata, in the key data, or the quotient combination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Commitment {
    Calldata(usize),
    Key(usize),
    Quotient,
}

/// Where an evaluation is: in calldata, or the expected quotient evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Eval {
    Calldata(usize),
    Quotient,
}

/// A commitment with the rotations it is opened at and the evaluation at each.
type Opened = (Commitment, Vec<(i32, Eval)>);

struct Query {
    commitment: Commitment,
    rotation: i32,
    eval: Eval,
}

/// Calldata offsets of every proof part.
struct Layout {
    advice: usize,
    lookup_permuted: usize,
    perm_z: usize,
    lookup_z: usize,
    random: usize,
    h: usize,
    evals: usize,
    random_eval: usize,
    perm_common: usize,
    perm_sets: usize,
    lookup_evals: usize,
    w1: usize,
    w2: usize,
    end: usize,
}

impl Layout {
    #[allow(clippy::too_many_arguments)]
    fn new(
        instances: usize,
        advice: usize,
        lookups: usize,
        perm_sets: usize,
        h: usize,
        queries: usize,
        perm_cols: usize,
    ) -> Self {
        let advice_at = 32 * instances;
        let lookup_permuted = advice_at + 64 * advice;
        let perm_z = lookup_permuted + 128 * lookups;
        let lookup_z = perm_z + 64 * perm_sets;
        let random = lookup_z + 64 * lookups;
        let h_at = random + 64;
        let evals = h_at + 64 * h;
        let random_eval = evals + 32 * queries;
        let perm_common = random_eval + 32;
        let perm_sets_at = perm_common + 32 * perm_cols;
        let lookup_evals = perm_sets_at + 32 * (3 * perm_sets).saturating_sub(1);
        let w1 = lookup_evals + 160 * lookups;
        let w2 = w1 + 64;
        Layout {
            advice: advice_at,
            lookup_permuted,
            perm_z,
            lookup_z,
            random,
            h: h_at,
            evals,
            random_eval,
            perm_common,
            perm_sets: perm_sets_at,
            lookup_evals,
            w1,
            w2,
            end: w2 + 64,
        }
    }
}

/// Every opening, in the order halo2's verifier lists them.
fn queries(
    cs: &ConstraintSystem<Fr>,
    lay: &Layout,
    fixed_at: usize,
    perm_at: usize,
    perm_sets: usize,
) -> Vec<Query> {
    let mut out = Vec::new();
    let mut push = |commitment, rotation, eval| {
        out.push(Query {
            commitment,
            rotation,
            eval,
        })
    };
    for (q, (column, rotation)) in cs.advice_queries().iter().enumerate() {
        push(
            Commitment::Calldata(lay.advice + 64 * column.index()),
            rotation.0,
            Eval::Calldata(lay.evals + 32 * q),
        );
    }
    let last = -(cs.blinding_factors() as i32 + 1);
    for set in 0..perm_sets {
        let z = Commitment::Calldata(lay.perm_z + 64 * set);
        let at = lay.perm_sets + 96 * set;
        push(z, 0, Eval::Calldata(at));
        push(z, 1, Eval::Calldata(at + 32));
    }
    for set in (0..perm_sets.saturating_sub(1)).rev() {
        let z = Commitment::Calldata(lay.perm_z + 64 * set);
        push(z, last, Eval::Calldata(lay.perm_sets + 96 * set + 64));
    }
    for l in 0..cs.lookups().len() {
        let z = Commitment::Calldata(lay.lookup_z + 64 * l);
        let input = Commitment::Calldata(lay.lookup_permuted + 128 * l);
        let table = Commitment::Calldata(lay.lookup_permuted + 128 * l + 64);
        let at = lay.lookup_evals + 160 * l;
        push(z, 0, Eval::Calldata(at));
        push(input, 0, Eval::Calldata(at + 64));
        push(table, 0, Eval::Calldata(at + 128));
        push(input, -1, Eval::Calldata(at + 96));
        push(z, 1, Eval::Calldata(at + 32));
    }
    let advice_queries = cs.advice_queries().len();
    for (q, (column, rotation)) in cs.fixed_queries().iter().enumerate() {
        push(
            Commitment::Key(fixed_at + 64 * column.index()),
            rotation.0,
            Eval::Calldata(lay.evals + 32 * (advice_queries + q)),
        );
    }
    for c in 0..cs.permutation().get_columns().len() {
        push(
            Commitment::Key(perm_at + 64 * c),
            0,
            Eval::Calldata(lay.perm_common + 32 * c),
        );
    }
    push(Commitment::Quotient, 0, Eval::Quotient);
    push(
        Commitment::Calldata(lay.random),
        0,
        Eval::Calldata(lay.random_eval),
    );
    out
}

fn rotate(omega: Fr, omega_inv: Fr, rotation: i32) -> Fr {
    let base = if rotation < 0 { omega_inv } else { omega };
    base.pow_vartime([u64::from(rotation.unsigned_abs())])
}

/// The multi-opening plan: points, then rotation sets as halo2's SHPLONK verifier forms them.
/// Returns the words and the number of points multiplied in the final MSM.
fn opening_plan(
    queries: &[Query],
    omega: Fr,
    omega_inv: Fr,
    quotient_pieces: usize,
    identity_in_key: &[usize],
) -> Result<(Vec<u8>, usize), VerifyError> {
    let mut rotations: Vec<i32> = Vec::new();
    // Commitments in order of first appearance, each with its rotations and evaluations.
    let mut commitments: Vec<Opened> = Vec::new();
    for q in queries {
        if !rotations.contains(&q.rotation) {
            rotations.push(q.rotation);
        }
        match commitments.iter_mut().find(|(c, _)| *c == q.commitment) {
            Some((_, opened)) => opened.push((q.rotation, q.eval)),
            None => commitments.push((q.commitment, vec![(q.rotation, q.eval)])),
        }
    }
    // Group commitments by their set of rotations, in order of first appearance.
    let mut sets: Vec<(Vec<i32>, Vec<Opened>)> = Vec::new();
    for (c, mut opened) in commitments {
        opened.sort_by_key(|(r, _)| *r);
        let key: Vec<i32> = opened.iter().map(|(r, _)| *r).collect();
        match sets.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push((c, opened)),
            None => sets.push((key, vec![(c, opened)])),
        }
    }
    if rotations.len() > MAX_OPENING_POINTS {
        return Err(unsupported(UnsupportedCircuit::TooManyOpeningPoints {
            points: rotations.len(),
            max: MAX_OPENING_POINTS,
        }));
    }
    let point_index = |r: i32| rotations.iter().position(|x| *x == r).unwrap_or(0);
    let mut out = Vec::new();
    out.extend(count(rotations.len())?);
    for r in &rotations {
        out.extend(be_bytes(&rotate(omega, omega_inv, *r)));
    }
    out.extend(count(sets.len())?);
    let mut msm_terms = 3;
    for (set_rotations, members) in &sets {
        out.extend(count(set_rotations.len())?);
        let mask = set_rotations
            .iter()
            .fold(0u32, |m, r| m | (1u32 << point_index(*r)));
        out.extend(mask.to_be_bytes());
        for r in set_rotations {
            out.extend(count(point_index(*r))?);
        }
        // Interpolation constants: Π_{k≠j} 1/(ω^{r_j} − ω^{r_k}); the runtime multiplies by
        // x^{-(m-1)} since the points are ω^r·x.
        for (j, rj) in set_rotations.iter().enumerate() {
            let wj = rotate(omega, omega_inv, *rj);
            let mut denom = Fr::ONE;
            for (k, rk) in set_rotations.iter().enumerate() {
                if k != j {
                    denom *= wj - rotate(omega, omega_inv, *rk);
                }
            }
            let inv: Option<Fr> = denom.invert().into();
            out.extend(be_bytes(
                &inv.ok_or(unsupported(UnsupportedCircuit::RepeatedOpeningPoint))?,
            ));
        }
        out.extend(count(members.len())?);
        for (c, opened) in members {
            out.extend(match c {
                Commitment::Calldata(o) => reference(KIND_CALLDATA, *o)?,
                Commitment::Key(o) if identity_in_key.contains(o) => reference(KIND_SKIP, 0)?,
                Commitment::Key(o) => reference(KIND_KEY, *o)?,
                Commitment::Quotient => reference(KIND_SPECIAL, 0)?,
            });
            msm_terms += match c {
                Commitment::Quotient => quotient_pieces,
                Commitment::Key(o) if identity_in_key.contains(o) => 0,
                _ => 1,
            };
            for (_, e) in opened {
                out.extend(match e {
                    Eval::Calldata(o) => reference(KIND_CALLDATA, *o)?,
                    Eval::Quotient => reference(KIND_KEY, 0)?,
                });
            }
        }
    }
    Ok((out, msm_terms))
}

/// Builds the key data of `key`.
pub fn build(key: &VerifierKey) -> Result<EvmKey, VerifyError> {
    let vk = &key.vk;
    let cs = vk.cs();
    let domain = vk.get_domain();
    if cs.num_challenges() != 0 {
        return Err(unsupported(UnsupportedCircuit::Challenges));
    }
    if cs.num_instance_columns() != 1 {
        return Err(unsupported(UnsupportedCircuit::InstanceColumns {
            columns: cs.num_instance_columns(),
        }));
    }
    if let Some((c, r)) = cs
        .instance_queries()
        .iter()
        .find(|(c, r)| c.index() != 0 || r.0 != 0)
    {
        return Err(unsupported(UnsupportedCircuit::InstanceQuery {
            column: c.index(),
            rotation: r.0,
        }));
    }
    let chunk = cs.degree().saturating_sub(2).max(1);
    let perm_columns = cs.permutation().get_columns();
    let perm_sets = perm_columns.len().div_ceil(chunk);
    if perm_sets == 0 {
        return Err(unsupported(UnsupportedCircuit::NoCopyConstraints));
    }
    let instances = key.header.instance_count();
    let quotient_pieces = domain.get_quotient_poly_degree();
    let lay = Layout::new(
        instances,
        cs.num_advice_columns(),
        cs.lookups().len(),
        perm_sets,
        quotient_pieces,
        cs.advice_queries().len() + cs.fixed_queries().len(),
        perm_columns.len(),
    );
    let qi = QueryIndex {
        cs,
        evals_at: lay.evals,
    };

    // Sections after the header: fixed commitments, permutation commitments, permutation
    // column references, the opening plan, the program.
    let fixed_at = 32 * HEADER_WORDS;
    let perm_at = fixed_at + 64 * vk.fixed_commitments().len();
    let perm_cols_at = perm_at + 64 * vk.permutation().commitments().len();
    let plan_at = perm_cols_at + 4 * perm_columns.len();

    let mut perm_refs = Vec::new();
    for c in &perm_columns {
        perm_refs.extend(match c.column_type() {
            Any::Advice(_) => reference(KIND_CALLDATA, qi.advice(c.index(), Rotation::cur())?)?,
            Any::Fixed => reference(KIND_CALLDATA, qi.fixed(c.index(), Rotation::cur())?)?,
            Any::Instance => reference(KIND_SPECIAL, 0)?,
        });
    }
    let omega = domain.get_omega();
    let omega_inv = domain.get_omega_inv();
    let all_queries = queries(cs, &lay, fixed_at, perm_at, perm_sets);
    // Commitments to all-zero columns are the point at infinity: they add nothing to the MSM.
    let identity_in_key: Vec<usize> = vk
        .fixed_commitments()
        .iter()
        .enumerate()
        .map(|(i, c)| (fixed_at + 64 * i, c))
        .chain(
            vk.permutation()
                .commitments()
                .iter()
                .enumerate()
                .map(|(i, c)| (perm_at + 64 * i, c)),
        )
        .filter(|(_, c)| bool::from(c.is_identity()))
        .map(|(at, _)| at)
        .collect();
    let (plan, msm_terms) = opening_plan(
        &all_queries,
        omega,
        omega_inv,
        quotient_pieces,
        &identity_in_key,
    )?;
    let program_at = plan_at + plan.len();
    let program = program(cs, &qi)?;

    let n = 1u64 << domain.k();
    let n_inv: Option<Fr> = Fr::from(n).invert().into();
    let g1 = points::decode_g1(&key.header.srs.g1)
        .ok_or(unsupported(UnsupportedCircuit::G1Generator))?;
    let mut header = vec![[0u8; 32]; HEADER_WORDS];
    let mut set = |i: usize, w: Word| {
        if let Some(slot) = header.get_mut(i) {
            *slot = w;
        }
    };
    set(hdr::VERSION, word_u64(KEY_DATA_VERSION));
    set(hdr::NUM_INSTANCES, word_u64(instances as u64));
    set(hdr::K, word_u64(u64::from(domain.k())));
    set(hdr::OMEGA, be_bytes(&omega));
    set(hdr::N_INV, be_bytes(&n_inv.unwrap_or(Fr::ZERO)));
    set(hdr::TRANSCRIPT_REPR, be_bytes(&vk.transcript_repr()));
    set(hdr::DELTA, be_bytes(&Fr::DELTA));
    set(hdr::CHUNK_LEN, word_u64(chunk as u64));
    set(hdr::NUM_PERM_SETS, word_u64(perm_sets as u64));
    set(hdr::NUM_PERM_COLS, word_u64(perm_columns.len() as u64));
    set(hdr::NUM_H, word_u64(quotient_pieces as u64));
    set(hdr::BLINDING, word_u64(cs.blinding_factors() as u64));
    set(hdr::OMEGA_INV, be_bytes(&omega_inv));
    set(hdr::O_ADVICE, word_u64(lay.advice as u64));
    set(hdr::O_LOOKUP_PERMUTED, word_u64(lay.lookup_permuted as u64));
    set(hdr::O_PERM_Z, word_u64(lay.perm_z as u64));
    set(hdr::O_H, word_u64(lay.h as u64));
    set(hdr::O_EVALS, word_u64(lay.evals as u64));
    set(hdr::O_PERM_COMMON, word_u64(lay.perm_common as u64));
    set(hdr::O_PERM_SETS, word_u64(lay.perm_sets as u64));
    set(hdr::O_LOOKUP_EVALS, word_u64(lay.lookup_evals as u64));
    set(hdr::O_W1, word_u64(lay.w1 as u64));
    set(hdr::O_W2, word_u64(lay.w2 as u64));
    set(hdr::CALLDATA_LEN, word_u64(lay.end as u64));
    let [gx, gy] = words_g1(&g1);
    set(hdr::G1_X, gx);
    set(hdr::G1_Y, gy);
    let neg_g2 = -key.params.g2();
    for (i, w) in words_g2(&neg_g2).into_iter().enumerate() {
        set(hdr::NEG_G2 + i, w);
    }
    for (i, w) in words_g2(&key.params.s_g2()).into_iter().enumerate() {
        set(hdr::S_G2 + i, w);
    }
    set(hdr::PERM_COLS, word_u64(perm_cols_at as u64));
    set(hdr::OPENING_PLAN, word_u64(plan_at as u64));
    set(hdr::PROGRAM, word_u64(program_at as u64));
    set(
        hdr::PROGRAM_END,
        word_u64((program_at + program.len()) as u64),
    );

    let mut data: Vec<u8> = header.concat();
    let g1_words = |p: &G1Affine| words_g1(p).concat();
    for c in vk.fixed_commitments() {
        data.extend(g1_words(c));
    }
    for c in vk.permutation().commitments() {
        data.extend(g1_words(c));
    }
    data.extend(perm_refs);
    data.extend(plan);
    data.extend(program);
    // The key contract's code is a STOP byte and the data; EIP-170 caps it.
    if data.len() + 1 > MAX_CONTRACT_SIZE {
        return Err(unsupported(UnsupportedCircuit::KeyDataTooLarge {
            size: data.len(),
            max: MAX_CONTRACT_SIZE - 1,
        }));
    }
    Ok(EvmKey {
        data,
        instance_count: instances,
        calldata_len: lay.end,
        msm_terms,
        point_ranges: vec![lay.advice..lay.evals, lay.w1..lay.end],
        scalar_ranges: vec![0..lay.advice, lay.evals..lay.w1],
    })
}
