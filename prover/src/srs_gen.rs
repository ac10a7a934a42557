//! Fast generation of an insecure test SRS, identical to `ParamsKZG::setup` for the same RNG.
//!
//! `setup` computes every `[τ^i]G` and every `[L_i(τ)]G` with a generic double-and-add
//! multiplication and one field inversion per Lagrange point. Both sets multiply the same
//! base `G`, so here each scalar is split into bytes and added up from a table of
//! `d·2^(8j)·G` (32 mixed additions per point), and the Lagrange denominators are inverted in
//! one batch.

use halo2_proofs::arithmetic::parallelize;
use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine, G2Affine, G1};
use halo2_proofs::halo2curves::ff::{BatchInvert, Field, PrimeField};
use halo2_proofs::halo2curves::group::prime::PrimeCurveAffine;
use halo2_proofs::halo2curves::group::{Curve, Group};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand::RngCore;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// Bits of the scalar consumed per table lookup.
const WINDOW_BITS: usize = 8;
/// Windows in a 256-bit scalar.
const WINDOWS: usize = 256 / WINDOW_BITS;
/// Entries per window: `0·B, 1·B, …, 255·B`.
const ENTRIES: usize = 1 << WINDOW_BITS;

/// `table[j·ENTRIES + d] = d · 2^(8j) · G`, affine.
fn window_table(base: G1Affine) -> Vec<G1Affine> {
    let mut projective = Vec::with_capacity(WINDOWS * ENTRIES);
    let mut window_base: G1 = base.to_curve();
    for _ in 0..WINDOWS {
        let mut acc = G1::identity();
        for _ in 0..ENTRIES {
            projective.push(acc);
            acc += window_base;
        }
        // acc = 256 · window_base: the next window's base.
        window_base = acc;
    }
    let mut table = vec![G1Affine::identity(); projective.len()];
    G1::batch_normalize(&projective, &mut table);
    table
}

/// `[s]G` for every scalar, from the window table of `G`.
fn multiply_all(table: &[G1Affine], scalars: &[Fr]) -> Vec<G1Affine> {
    let mut projective = vec![G1::identity(); scalars.len()];
    parallelize(&mut projective, |chunk, start| {
        for (out, s) in chunk.iter_mut().zip(&scalars[start..]) {
            let repr = s.to_repr();
            let mut acc = G1::identity();
            for (j, &byte) in repr.as_ref().iter().enumerate() {
                if byte != 0 {
                    acc += table[j * ENTRIES + usize::from(byte)];
                }
            }
            *out = acc;
        }
    });
    let mut affine = vec![G1Affine::identity(); scalars.len()];
    parallelize(&mut affine, |chunk, start| {
        G1::batch_normalize(&projective[start..start + chunk.len()], chunk);
    });
    affine
}

/// The same parameters as `ParamsKZG::<Bn256>::setup(k, rng)`, computed faster.
///
/// `k` must be at most 2-adicity of `Fr` (28), as for `setup`.
pub fn insecure_params(k: u32, mut rng: impl RngCore) -> ParamsKZG<Bn256> {
    let n = 1usize << k;
    let s = Fr::random(&mut rng);

    // τ^i for i < n.
    let mut powers = vec![Fr::ZERO; n];
    parallelize(&mut powers, |chunk, start| {
        let mut current = s.pow_vartime([start as u64]);
        for p in chunk.iter_mut() {
            *p = current;
            current *= s;
        }
    });

    // L_i(τ) = (τ^n − 1)/n · ω^i / (τ − ω^i), with ω the n-th root of unity `setup` uses.
    let mut omega = Fr::ROOT_OF_UNITY_INV.invert().unwrap_or(Fr::ONE);
    for _ in k..Fr::S {
        omega = omega.square();
    }
    let n_inv = Fr::from(n as u64).invert().unwrap_or(Fr::ZERO);
    let multiplier = (s.pow_vartime([n as u64]) - Fr::ONE) * n_inv;
    let mut roots = vec![Fr::ZERO; n];
    parallelize(&mut roots, |chunk, start| {
        let mut current = omega.pow_vartime([start as u64]);
        for r in chunk.iter_mut() {
            *r = current;
            current *= omega;
        }
    });
    // τ − ω^i is zero only if τ is a root of unity (probability n/r); batch inversion would
    // then leave it zero, as `setup` would panic.
    let mut denominators: Vec<Fr> = roots.iter().map(|r| s - r).collect();
    denominators.iter_mut().batch_invert();
    let lagrange: Vec<Fr> = roots
        .iter()
        .zip(&denominators)
        .map(|(r, d)| multiplier * r * d)
        .collect();

    let g1 = G1Affine::generator();
    let table = window_table(g1);
    let g = multiply_all(&table, &powers);
    let g_lagrange = multiply_all(&table, &lagrange);
    let g2 = G2Affine::generator();
    let s_g2 = (g2 * s).to_affine();
    // `from_parts` is a method; a size-2 instance from a fixed seed serves as the receiver.
    ParamsKZG::<Bn256>::setup(1, ChaCha20Rng::seed_from_u64(0)).from_parts(
        k,
        g,
        Some(g_lagrange),
        g2,
        s_g2,
    )
}

#[cfg(test)]
mod tests {
    use halo2_proofs::SerdeFormat;

    use super::*;

    fn bytes(params: &ParamsKZG<Bn256>) -> Vec<u8> {
        let mut out = Vec::new();
        params
            .write_custom(&mut out, SerdeFormat::RawBytes)
            .expect("write to a Vec");
        out
    }

    #[test]
    fn matches_halo2_setup_bit_for_bit() {
        for (k, seed) in [(1, 7), (4, 1), (7, 2), (9, 3)] {
            let ours = insecure_params(k, ChaCha20Rng::seed_from_u64(seed));
            let theirs = ParamsKZG::<Bn256>::setup(k, ChaCha20Rng::seed_from_u64(seed));
            assert_eq!(bytes(&ours), bytes(&theirs), "k = {k}");
        }
    }

    #[test]
    fn different_seeds_give_different_parameters() {
        let a = insecure_params(4, ChaCha20Rng::seed_from_u64(1));
        let b = insecure_params(4, ChaCha20Rng::seed_from_u64(2));
        assert_ne!(bytes(&a), bytes(&b));
    }

    #[test]
    fn window_table_holds_multiples_of_the_base() {
        let table = window_table(G1Affine::generator());
        let g = G1Affine::generator();
        assert_eq!(table[0], G1Affine::identity());
        assert_eq!(table[3], (g * Fr::from(3)).to_affine());
        let shifted = Fr::from(5) * Fr::from(1u64 << 16);
        assert_eq!(table[2 * ENTRIES + 5], (g * shifted).to_affine());
    }
}
