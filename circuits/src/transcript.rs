//! The EVM transcript: Keccak-256 over 32-byte big-endian words, as a Solidity verifier
//! computes it, so one proof serves the offline and the on-chain verifier.
//!
//! - absorbing a point appends `x ‖ y` (32 bytes big-endian each); a scalar appends its 32
//!   big-endian bytes;
//! - a challenge is `keccak256(state ‖ [0x01 if the state is exactly one word])` read as a
//!   big-endian integer mod r, and the hash becomes the new state;
//! - the proof stream holds points uncompressed (`x ‖ y`, 64 bytes) and scalars (32 bytes),
//!   both big-endian. Reading rejects coordinates or scalars that are not canonical (≥ the
//!   modulus) and points off the curve, so every proof has exactly one encoding.

use std::io::{self, Read, Write};

use halo2_proofs::halo2curves::bn256::{Fq, Fr, G1Affine};
use halo2_proofs::halo2curves::ff::{FromUniformBytes, PrimeField};
use halo2_proofs::halo2curves::group::prime::PrimeCurveAffine;
use halo2_proofs::halo2curves::CurveAffine;
use halo2_proofs::transcript::{
    EncodedChallenge, Transcript, TranscriptRead, TranscriptReadBuffer, TranscriptWrite,
    TranscriptWriterBuffer,
};
use sha3::{Digest, Keccak256};

/// A challenge squeezed from the EVM transcript.
#[derive(Debug, Clone, Copy)]
pub struct EvmChallenge(Fr);

impl EncodedChallenge<G1Affine> for EvmChallenge {
    type Input = Fr;

    fn new(challenge_input: &Fr) -> Self {
        EvmChallenge(*challenge_input)
    }

    fn get_scalar(&self) -> Fr {
        self.0
    }
}

/// The Keccak state shared by the reader and the writer.
#[derive(Debug, Clone, Default)]
struct State {
    buf: Vec<u8>,
}

/// A field element as 32 big-endian bytes: the EVM's word encoding.
pub fn be_bytes<F: PrimeField<Repr = [u8; 32]>>(f: &F) -> [u8; 32] {
    let mut b = f.to_repr();
    b.reverse();
    b
}

impl State {
    fn squeeze(&mut self) -> EvmChallenge {
        let mut hasher = Keccak256::new();
        hasher.update(&self.buf);
        if self.buf.len() == 32 {
            hasher.update([1u8]);
        }
        let hash: [u8; 32] = hasher.finalize().into();
        self.buf = hash.to_vec();
        let mut wide = [0u8; 64];
        for (dst, src) in wide.iter_mut().zip(hash.iter().rev()) {
            *dst = *src;
        }
        EvmChallenge(Fr::from_uniform_bytes(&wide))
    }

    fn absorb_point(&mut self, point: &G1Affine) -> io::Result<()> {
        let coords = Option::from(point.coordinates()).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "the point at infinity has no EVM encoding",
            )
        })?;
        let coords: halo2_proofs::halo2curves::Coordinates<G1Affine> = coords;
        self.buf.extend_from_slice(&be_bytes(coords.x()));
        self.buf.extend_from_slice(&be_bytes(coords.y()));
        Ok(())
    }

    fn absorb_scalar(&mut self, scalar: &Fr) {
        self.buf.extend_from_slice(&be_bytes(scalar));
    }
}

/// Writes a proof in the EVM transcript format.
#[derive(Debug)]
pub struct EvmTranscriptWrite<W: Write> {
    state: State,
    writer: W,
}

/// Reads a proof in the EVM transcript format.
#[derive(Debug)]
pub struct EvmTranscriptRead<R: Read> {
    state: State,
    reader: R,
}

/// The reader and the writer share one state machine; only the proof stream differs.
macro_rules! impl_transcript {
    ($ty:ident, $bound:path, $param:ident) => {
        impl<$param: $bound> Transcript<G1Affine, EvmChallenge> for $ty<$param> {
            fn squeeze_challenge(&mut self) -> EvmChallenge {
                self.state.squeeze()
            }
            fn common_point(&mut self, point: G1Affine) -> io::Result<()> {
                self.state.absorb_point(&point)
            }
            fn common_scalar(&mut self, scalar: Fr) -> io::Result<()> {
                self.state.absorb_scalar(&scalar);
                Ok(())
            }
        }
    };
}

impl_transcript!(EvmTranscriptWrite, Write, W);
impl_transcript!(EvmTranscriptRead, Read, R);

impl<W: Write> TranscriptWrite<G1Affine, EvmChallenge> for EvmTranscriptWrite<W> {
    fn write_point(&mut self, point: G1Affine) -> io::Result<()> {
        self.state.absorb_point(&point)?;
        let len = self.state.buf.len();
        let xy = self.state.buf.get(len - 64..).unwrap_or(&[]);
        self.writer.write_all(xy)
    }
    fn write_scalar(&mut self, scalar: Fr) -> io::Result<()> {
        self.state.absorb_scalar(&scalar);
        self.writer.write_all(&be_bytes(&scalar))
    }
}

impl<W: Write> TranscriptWriterBuffer<W, G1Affine, EvmChallenge> for EvmTranscriptWrite<W> {
    fn init(writer: W) -> Self {
        EvmTranscriptWrite {
            state: State::default(),
            writer,
        }
    }
    fn finalize(self) -> W {
        self.writer
    }
}

fn read_word<R: Read>(reader: &mut R) -> io::Result<[u8; 32]> {
    let mut be = [0u8; 32];
    reader.read_exact(&mut be)?;
    be.reverse();
    Ok(be)
}

impl<R: Read> TranscriptRead<G1Affine, EvmChallenge> for EvmTranscriptRead<R> {
    fn read_point(&mut self) -> io::Result<G1Affine> {
        let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
        let x: Option<Fq> = Option::from(Fq::from_repr(read_word(&mut self.reader)?));
        let y: Option<Fq> = Option::from(Fq::from_repr(read_word(&mut self.reader)?));
        let (x, y) = x
            .zip(y)
            .ok_or_else(|| invalid("point coordinate is not below the field modulus"))?;
        let point: G1Affine = Option::from(G1Affine::from_xy(x, y))
            .ok_or_else(|| invalid("point is not on the curve"))?;
        if bool::from(point.is_identity()) {
            return Err(invalid("point at infinity"));
        }
        self.state.absorb_point(&point)?;
        Ok(point)
    }
    fn read_scalar(&mut self) -> io::Result<Fr> {
        let scalar: Fr =
            Option::from(Fr::from_repr(read_word(&mut self.reader)?)).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    "scalar is not below the field modulus",
                )
            })?;
        self.state.absorb_scalar(&scalar);
        Ok(scalar)
    }
}

impl<R: Read> TranscriptReadBuffer<R, G1Affine, EvmChallenge> for EvmTranscriptRead<R> {
    fn init(reader: R) -> Self {
        EvmTranscriptRead {
            state: State::default(),
            reader,
        }
    }
}

impl<R: Read> EvmTranscriptRead<R> {
    /// Gives the reader back (to check that the whole proof was consumed).
    pub fn into_reader(self) -> R {
        self.reader
    }
}

#[cfg(test)]
mod tests {
    use halo2_proofs::halo2curves::group::Curve;

    use super::*;

    #[test]
    fn writer_and_reader_agree_and_match_the_evm_rules() {
        let p = (G1Affine::generator() * Fr::from(7u64)).to_affine();
        let s = Fr::from(123456789u64);
        let mut w = EvmTranscriptWrite::init(Vec::new());
        w.common_scalar(Fr::from(5u64)).expect("absorb");
        w.write_point(p).expect("point");
        let c1 = w.squeeze_challenge().get_scalar();
        w.write_scalar(s).expect("scalar");
        let c2 = w.squeeze_challenge().get_scalar();
        let proof = w.finalize();
        assert_eq!(proof.len(), 64 + 32);

        let mut r = EvmTranscriptRead::init(proof.as_slice());
        r.common_scalar(Fr::from(5u64)).expect("absorb");
        assert_eq!(r.read_point().expect("point"), p);
        assert_eq!(r.squeeze_challenge().get_scalar(), c1);
        assert_eq!(r.read_scalar().expect("scalar"), s);
        assert_eq!(r.squeeze_challenge().get_scalar(), c2);

        // The first challenge is keccak(5 ‖ x ‖ y) mod r, computed independently here.
        let mut data = be_bytes(&Fr::from(5u64)).to_vec();
        data.extend_from_slice(&proof[..64]);
        let hash: [u8; 32] = Keccak256::digest(&data).into();
        let mut wide = [0u8; 64];
        wide[..32].copy_from_slice(&hash.iter().rev().copied().collect::<Vec<_>>());
        assert_eq!(c1, Fr::from_uniform_bytes(&wide));
        // After a squeeze the state is one 32-byte word; absorbing `s` makes it two.
        let c2_expected = {
            let mut d = hash.to_vec();
            d.extend_from_slice(&be_bytes(&s));
            let h: [u8; 32] = Keccak256::digest(&d).into();
            let mut wide = [0u8; 64];
            wide[..32].copy_from_slice(&h.iter().rev().copied().collect::<Vec<_>>());
            Fr::from_uniform_bytes(&wide)
        };
        assert_eq!(c2, c2_expected);
        // Two squeezes in a row: the lone 32-byte state gets the 0x01 suffix.
        let mut state = State { buf: hash.to_vec() };
        let mut d = hash.to_vec();
        d.push(1);
        let h: [u8; 32] = Keccak256::digest(&d).into();
        let mut wide = [0u8; 64];
        wide[..32].copy_from_slice(&h.iter().rev().copied().collect::<Vec<_>>());
        assert_eq!(state.squeeze().get_scalar(), Fr::from_uniform_bytes(&wide));
    }

    #[test]
    fn non_canonical_encodings_are_rejected() {
        let p = (G1Affine::generator() * Fr::from(3u64)).to_affine();
        let mut w = EvmTranscriptWrite::init(Vec::new());
        w.write_point(p).expect("point");
        let good = w.finalize();
        // x + p (the field modulus) is the same residue but not canonical.
        let mut bad = good.clone();
        bad[..32].fill(0xff);
        assert!(EvmTranscriptRead::init(bad.as_slice())
            .read_point()
            .is_err());
        // Off the curve.
        let mut off = good.clone();
        off[63] ^= 1;
        assert!(EvmTranscriptRead::init(off.as_slice())
            .read_point()
            .is_err());
        // Identity (0, 0) is not on the curve.
        assert!(EvmTranscriptRead::init([0u8; 64].as_slice())
            .read_point()
            .is_err());
        assert!(EvmTranscriptRead::init([0xffu8; 32].as_slice())
            .read_scalar()
            .is_err());
        assert!(EvmTranscriptRead::init(&good[..40]).read_point().is_err());
    }
}
