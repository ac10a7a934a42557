//! Poseidon over BN254 with the circom parameters (width 3: two inputs, x⁵ S-box, 8 full and
//! 57 partial rounds), natively, and the commitment zkinfer publishes for a hashed tensor.
//!
//! The permutation is written here; its round constants and MDS matrix are circomlib's, taken
//! from the `light-poseidon` crate, so `poseidon2(a, b)` equals circomlib's `Poseidon(2)` and
//! light-poseidon's `Poseidon::new_circom(2)`.
//!
//! **Commitment of a tensor** `v` (integers with `|v_i| ≤ B`), with salt `s` (0 when none):
//! 1. each value is offset to `u_i = v_i + B ∈ [0, 2^b)`, `b = bits(2B)`;
//! 2. consecutive values are packed `m = ⌊253 / b⌋` to a field element, the first one most
//!    significant: `e_k = Σ_j u_{km+j} · 2^{b·(len_k − 1 − j)}` over the `len_k ≤ m` values of
//!    chunk `k`;
//! 3. `H_0 = s`, `H_{k+1} = poseidon2(H_k, e_k)`; the commitment is the last `H`.
//!
//! Packing is injective because the circuit range-checks (or statically bounds) every `u_i`
//! below `2^b` and `m·b ≤ 253` keeps each `e_k` below the field modulus.

use std::sync::OnceLock;

use ark_ff::{BigInteger, PrimeField as ArkPrimeField};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::{Field, PrimeField};

use crate::field::{fr_from_i128, pow2};

/// State width.
pub const WIDTH: usize = 3;
/// Full rounds (half before, half after the partial rounds).
pub const FULL_ROUNDS: usize = 8;
/// Partial rounds.
pub const PARTIAL_ROUNDS: usize = 57;
/// Bits a packed field element may hold.
pub const PACK_BITS: u32 = 253;

/// Round constants (one row of `WIDTH` per round) and the MDS matrix.
#[derive(Debug)]
pub struct Params {
    /// `rc[r][i]` is added to state element `i` at the start of round `r`.
    pub rc: Vec<[Fr; WIDTH]>,
    /// `mds[i][j]`: the new state `i` is `Σ_j mds[i][j] · state_j`.
    pub mds: [[Fr; WIDTH]; WIDTH],
}

fn from_ark(x: &ark_bn254::Fr) -> Fr {
    let mut repr = [0u8; 32];
    for (dst, src) in repr.iter_mut().zip(x.into_bigint().to_bytes_le()) {
        *dst = src;
    }
    // Canonical bytes of a BN254 scalar are a canonical halo2 scalar (same modulus).
    Option::from(Fr::from_repr(repr)).unwrap_or(Fr::ZERO)
}

/// The circom parameters for width 3, converted once.
pub fn params() -> &'static Params {
    static PARAMS: OnceLock<Params> = OnceLock::new();
    PARAMS.get_or_init(|| {
        let p = light_poseidon::parameters::bn254_x5::get_poseidon_parameters::<ark_bn254::Fr>(
            WIDTH as u8,
        );
        let mut rc = vec![[Fr::ZERO; WIDTH]; FULL_ROUNDS + PARTIAL_ROUNDS];
        let mut mds = [[Fr::ZERO; WIDTH]; WIDTH];
        if let Ok(p) = p {
            for (r, row) in rc.iter_mut().enumerate() {
                for (i, c) in row.iter_mut().enumerate() {
                    if let Some(v) = p.ark.get(r * WIDTH + i) {
                        *c = from_ark(v);
                    }
                }
            }
            for (dst, src) in mds.iter_mut().zip(&p.mds) {
                for (d, s) in dst.iter_mut().zip(src) {
                    *d = from_ark(s);
                }
            }
        }
        Params { rc, mds }
    })
}

/// Whether round `r` is a full round.
pub fn is_full(r: usize) -> bool {
    !(FULL_ROUNDS / 2..FULL_ROUNDS / 2 + PARTIAL_ROUNDS).contains(&r)
}

/// `x⁵`.
pub fn sbox(x: Fr) -> Fr {
    let x2 = x.square();
    x2.square() * x
}

/// One round on `state`: add the round constants, S-box (all elements in a full round, the
/// first in a partial one), then the MDS matrix.
pub fn round(p: &Params, r: usize, state: [Fr; WIDTH]) -> [Fr; WIDTH] {
    let rc = p.rc.get(r).copied().unwrap_or([Fr::ZERO; WIDTH]);
    let mut s = [Fr::ZERO; WIDTH];
    for (i, v) in s.iter_mut().enumerate() {
        let x = state[i] + rc[i];
        *v = if i == 0 || is_full(r) { sbox(x) } else { x };
    }
    let mut out = [Fr::ZERO; WIDTH];
    for (o, row) in out.iter_mut().zip(&p.mds) {
        *o = row.iter().zip(&s).map(|(m, x)| *m * x).sum();
    }
    out
}

/// The permutation.
pub fn permute(state: [Fr; WIDTH]) -> [Fr; WIDTH] {
    let p = params();
    (0..FULL_ROUNDS + PARTIAL_ROUNDS).fold(state, |s, r| round(p, r, s))
}

/// circom's `Poseidon(2)`: the first element of the permutation of `[0, a, b]`.
pub fn poseidon2(a: Fr, b: Fr) -> Fr {
    permute([Fr::ZERO, a, b])[0]
}

/// Bits per packed value of a tensor bounded by `bound`: `bits(2·bound)`, at least 1.
pub fn value_bits(bound: u64) -> u32 {
    (u64::BITS - bound.saturating_mul(2).leading_zeros()).max(1)
}

/// Values per packed field element.
pub fn per_element(bound: u64) -> usize {
    (PACK_BITS / value_bits(bound)).max(1) as usize
}

/// The packed field elements of `values` (see the module docs).
pub fn pack(values: &[i64], bound: u64) -> Vec<Fr> {
    let b = value_bits(bound);
    let shift = pow2(b);
    let offset = i128::from(bound);
    values
        .chunks(per_element(bound))
        .map(|chunk| {
            chunk.iter().fold(Fr::ZERO, |acc, &v| {
                acc * shift + fr_from_i128(i128::from(v) + offset)
            })
        })
        .collect()
}

/// The commitment to `values` (bounded by `bound`) with `salt`.
pub fn commit(values: &[i64], bound: u64, salt: Fr) -> Fr {
    pack(values, bound).into_iter().fold(salt, poseidon2)
}

/// The commitment to a model's parameters: each tensor of [`zkinfer_ir::QGraph::param_tensors`] in
/// turn, the chain of each starting from the previous tensor's commitment (from 0 for the
/// first). Unsalted: weights are not guessable, and the same model must give the same
/// commitment in every proof.
pub fn commit_params(graph: &zkinfer_ir::QGraph) -> Fr {
    graph
        .param_tensors()
        .iter()
        .fold(Fr::zero(), |h, t| commit(t.values, t.bound, h))
}

/// A field element as 32 big-endian bytes in hex with `0x` (how commitments are printed, and
/// how the EVM reads a public value).
pub fn to_hex(f: &Fr) -> String {
    let mut bytes = f.to_repr();
    bytes.as_mut().reverse();
    format!("0x{}", hex::encode(bytes.as_ref()))
}

/// Parses [`to_hex`]'s form (the `0x` is optional); `None` unless 32 bytes holding a
/// canonical field element.
pub fn from_hex(s: &str) -> Option<Fr> {
    let mut bytes = hex::decode(s.trim().trim_start_matches("0x")).ok()?;
    if bytes.len() != 32 {
        return None;
    }
    bytes.reverse();
    let mut repr = [0u8; 32];
    repr.copy_from_slice(&bytes);
    Option::from(Fr::from_repr(repr))
}

#[cfg(test)]
mod tests {
    use super::*;
    use light_poseidon::{Poseidon, PoseidonHasher};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    fn to_ark(f: &Fr) -> ark_bn254::Fr {
        ark_bn254::Fr::from_le_bytes_mod_order(f.to_repr().as_ref())
    }

    #[test]
    fn matches_circomlib_test_vector() {
        // circomlib's poseidon([1, 2]).
        assert_eq!(
            to_hex(&poseidon2(Fr::from(1), Fr::from(2))),
            "0x115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a"
        );
    }

    #[test]
    fn matches_light_poseidon_on_random_inputs() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let mut reference = Poseidon::<ark_bn254::Fr>::new_circom(2).expect("width 3");
        for _ in 0..200 {
            let (a, b) = (Fr::random(&mut rng), Fr::random(&mut rng));
            let want = reference.hash(&[to_ark(&a), to_ark(&b)]).expect("hash");
            assert_eq!(to_ark(&poseidon2(a, b)), want);
        }
        // Small and negative integers, as tensors carry them.
        for _ in 0..100 {
            let (a, b) = (rng.gen_range(-1000i64..1000), rng.gen_range(-1000i64..1000));
            let (fa, fb) = (crate::field::fr_from_i64(a), crate::field::fr_from_i64(b));
            let want = reference.hash(&[to_ark(&fa), to_ark(&fb)]).expect("hash");
            assert_eq!(to_ark(&poseidon2(fa, fb)), want);
        }
    }

    #[test]
    fn packing_is_positional_and_chunked() {
        // B = 3: b = 3 bits, u = v + 3.
        assert_eq!(value_bits(3), 3);
        assert_eq!(per_element(3), 84);
        // u = (0, 3, 6): the first value is the most significant.
        assert_eq!(pack(&[-3, 0, 3], 3), [Fr::from((3 << 3) + 6)]);
        // 62-bit values: four to an element.
        let big = (1u64 << 60) - 1;
        assert_eq!(per_element(big), 4);
        assert_eq!(pack(&[1; 9], big).len(), 3);
        // The commitment chains the packed elements from the salt.
        let salt = Fr::from(99);
        let e = pack(&[-3, 0, 3], 3);
        assert_eq!(commit(&[-3, 0, 3], 3, salt), poseidon2(salt, e[0]));
        assert_ne!(commit(&[-3, 0, 3], 3, salt), commit(&[-3, 0, 2], 3, salt));
        assert_ne!(
            commit(&[-3, 0, 3], 3, salt),
            commit(&[-3, 0, 3], 3, Fr::ZERO)
        );
    }
}
