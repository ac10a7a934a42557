//! Decoding one G1 or G2 point of a ceremony file (uncompressed or compressed), with the
//! checks each point gets: canonical coordinates, on the curve, in the subgroup.

use halo2_proofs::halo2curves::bn256::{Fq, Fq2, Fr, G1Affine, G2Affine, G2};
use halo2_proofs::halo2curves::ff::{Field, PrimeField};
use halo2_proofs::halo2curves::group::GroupEncoding;
use halo2_proofs::halo2curves::serde::SerdeObject;
use halo2_proofs::halo2curves::CurveAffine;

use crate::error::PointProblem;
use crate::srs_format::SrsFileFormat;

pub(super) fn decode_g1(format: SrsFileFormat, b: &[u8]) -> Result<G1Affine, PointProblem> {
    let point = match format {
        SrsFileFormat::Raw => {
            let x = Fq::from_raw_bytes(&b[..32]).ok_or(PointProblem::NotCanonical)?;
            let y = Fq::from_raw_bytes(&b[32..64]).ok_or(PointProblem::NotCanonical)?;
            if bool::from(x.is_zero() & y.is_zero()) {
                return Err(PointProblem::Infinity);
            }
            Option::from(G1Affine::from_xy(x, y)).ok_or(PointProblem::NotOnCurve)?
        }
        SrsFileFormat::Compressed => {
            let (bytes, infinity, odd) = split_flags::<32>(b);
            let x = fq_canonical(&bytes).ok_or(PointProblem::NotCanonical)?;
            if infinity {
                return Err(PointProblem::Infinity);
            }
            let y2 = x.square() * x + G1Affine::b();
            let y: Fq = Option::from(y2.sqrt()).ok_or(PointProblem::NotOnCurve)?;
            let y = if fq_is_odd(&y) == odd { y } else { -y };
            let point: G1Affine =
                Option::from(G1Affine::from_xy(x, y)).ok_or(PointProblem::NotOnCurve)?;
            // Only the one encoding halo2 writes is accepted.
            if point.to_bytes().as_ref() != b {
                return Err(PointProblem::NotCanonical);
            }
            point
        }
    };
    Ok(point)
}

pub(super) fn decode_g2(format: SrsFileFormat, b: &[u8]) -> Result<G2Affine, PointProblem> {
    let point = match format {
        SrsFileFormat::Raw => {
            let x = Fq2::from_raw_bytes(&b[..64]).ok_or(PointProblem::NotCanonical)?;
            let y = Fq2::from_raw_bytes(&b[64..128]).ok_or(PointProblem::NotCanonical)?;
            if bool::from(x.is_zero() & y.is_zero()) {
                return Err(PointProblem::Infinity);
            }
            Option::from(G2Affine::from_xy(x, y)).ok_or(PointProblem::NotOnCurve)?
        }
        SrsFileFormat::Compressed => {
            let (bytes, infinity, odd) = split_flags::<64>(b);
            let c0 = fq_canonical(&bytes[..32]).ok_or(PointProblem::NotCanonical)?;
            let c1 = fq_canonical(&bytes[32..]).ok_or(PointProblem::NotCanonical)?;
            if infinity {
                return Err(PointProblem::Infinity);
            }
            let x = Fq2 { c0, c1 };
            let y2 = x.square() * x + G2Affine::b();
            let y: Fq2 = Option::from(y2.sqrt()).ok_or(PointProblem::NotOnCurve)?;
            // halo2curves takes the parity of y.c0 (its `to_bytes()[0] & 1`).
            let y = if fq_is_odd(&y.c0) == odd { y } else { -y };
            let point: G2Affine =
                Option::from(G2Affine::from_xy(x, y)).ok_or(PointProblem::NotOnCurve)?;
            if point.to_bytes().as_ref() != b {
                return Err(PointProblem::NotCanonical);
            }
            point
        }
    };
    // G2 has a cofactor: [r]P = O, checked as [r - 1]P = -P.
    let times_r_minus_1: G2 = point * (-Fr::ONE);
    if times_r_minus_1 != G2::from(-point) {
        return Err(PointProblem::NotInSubgroup);
    }
    Ok(point)
}

/// The bytes with the two flag bits of the last byte cleared, and the flags (infinity, odd y).
fn split_flags<const L: usize>(b: &[u8]) -> ([u8; L], bool, bool) {
    let mut bytes = [0u8; L];
    bytes.copy_from_slice(&b[..L]);
    let last = bytes[L - 1];
    bytes[L - 1] &= 0b0011_1111;
    (bytes, last >> 7 == 1, (last >> 6) & 1 == 1)
}

/// A canonical little-endian Fq (32 bytes), or `None` if not below the modulus.
fn fq_canonical(b: &[u8]) -> Option<Fq> {
    let mut repr = <Fq as PrimeField>::Repr::default();
    repr.as_mut().copy_from_slice(b);
    Option::from(Fq::from_repr(repr))
}

fn fq_is_odd(x: &Fq) -> bool {
    x.to_repr().as_ref()[0] & 1 == 1
}
