//! Big-endian 32-byte words, the unit of EVM calldata and of the on-chain key data.

use halo2_proofs::halo2curves::bn256::{G1Affine, G2Affine};
use halo2_proofs::halo2curves::{Coordinates, CurveAffine};
use zkinfer_circuits::transcript::be_bytes;

/// One EVM word.
pub type Word = [u8; 32];

/// A small integer as a word.
pub fn word_u64(v: u64) -> Word {
    let mut w = [0u8; 32];
    w[24..].copy_from_slice(&v.to_be_bytes());
    w
}

/// `x ‖ y` of a G1 point; the point at infinity is `(0, 0)`, as the EVM precompiles read it.
pub fn words_g1(p: &G1Affine) -> [Word; 2] {
    let c: Option<Coordinates<G1Affine>> = p.coordinates().into();
    c.map(|c| [be_bytes(c.x()), be_bytes(c.y())])
        .unwrap_or([[0u8; 32]; 2])
}

/// A G2 point in the pairing precompile's order: `x.c1, x.c0, y.c1, y.c0`.
pub fn words_g2(p: &G2Affine) -> [Word; 4] {
    [
        be_bytes(&p.x.c1),
        be_bytes(&p.x.c0),
        be_bytes(&p.y.c1),
        be_bytes(&p.y.c0),
    ]
}
