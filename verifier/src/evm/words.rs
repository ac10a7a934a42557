//! Big-endian 32-byte words, the unit of EVM calldata and of the on-chain key data.

use halo2_proofs::halo2curves::bn256::{Fq, Fr, G1Affine, G2Affine};
use halo2_proofs::halo2curves::ff::PrimeField;
use halo2_proofs::halo2curves::{Coordinates, CurveAffine};

/// One EVM word.
pub type Word = [u8; 32];

/// A small integer as a word.
pub fn word_u64(v: u64) -> Word {
    let mut w = [0u8; 32];
    w[24..].copy_from_slice(&v.to_be_bytes());
    w
}

/// A scalar-field element as a word (big-endian).
pub fn word_fr(f: &Fr) -> Word {
    let mut w = f.to_repr();
    w.reverse();
    w
}

/// A base-field element as a word (big-endian).
pub fn word_fq(f: &Fq) -> Word {
    let mut w = f.to_repr();
    w.reverse();
    w
}

/// `x ‖ y` of a G1 point; the point at infinity is `(0, 0)`, as the EVM precompiles read it.
pub fn words_g1(p: &G1Affine) -> [Word; 2] {
    let c: Option<Coordinates<G1Affine>> = p.coordinates().into();
    c.map(|c| [word_fq(c.x()), word_fq(c.y())])
        .unwrap_or([[0u8; 32]; 2])
}

/// A G2 point in the pairing precompile's order: `x.c1, x.c0, y.c1, y.c0`.
pub fn words_g2(p: &G2Affine) -> [Word; 4] {
    [
        word_fq(&p.x.c1),
        word_fq(&p.x.c0),
        word_fq(&p.y.c1),
        word_fq(&p.y.c0),
    ]
}
