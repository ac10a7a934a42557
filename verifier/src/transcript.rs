//! A Keccak transcript reader that also rejects non-canonical point encodings.
//!
//! halo2curves decodes a compressed G1 point even when an unused flag bit is set, so two
//! byte strings can carry the same proof. This reader re-encodes every point it reads and
//! requires the bytes to match, so any changed proof byte is rejected.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

use halo2_proofs::halo2curves::bn256::{Fr, G1Affine};
use halo2_proofs::halo2curves::group::GroupEncoding;
use halo2_proofs::transcript::{
    Challenge255, Keccak256Read, Transcript, TranscriptRead, TranscriptReadBuffer,
};

/// Reads from a byte slice and publishes how far it got.
#[derive(Debug)]
struct Tracked<'a> {
    data: &'a [u8],
    pos: Rc<Cell<usize>>,
}

impl Read for Tracked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = self.data.get(self.pos.get()..).unwrap_or(&[]);
        let n = buf.len().min(rest.len());
        for (dst, src) in buf.iter_mut().zip(rest) {
            *dst = *src;
        }
        self.pos.set(self.pos.get() + n);
        Ok(n)
    }
}

/// The canonical-encoding Keccak transcript reader.
#[derive(Debug)]
pub struct CanonicalRead<'a> {
    inner: Keccak256Read<Tracked<'a>, G1Affine, Challenge255<G1Affine>>,
    data: &'a [u8],
    pos: Rc<Cell<usize>>,
}

impl<'a> CanonicalRead<'a> {
    /// Starts reading `proof`.
    pub fn new(proof: &'a [u8]) -> Self {
        let pos = Rc::new(Cell::new(0));
        let inner = Keccak256Read::init(Tracked {
            data: proof,
            pos: pos.clone(),
        });
        CanonicalRead {
            inner,
            data: proof,
            pos,
        }
    }

    /// Bytes not consumed so far.
    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos.get())
    }
}

impl Transcript<G1Affine, Challenge255<G1Affine>> for CanonicalRead<'_> {
    fn squeeze_challenge(&mut self) -> Challenge255<G1Affine> {
        self.inner.squeeze_challenge()
    }

    fn common_point(&mut self, point: G1Affine) -> io::Result<()> {
        self.inner.common_point(point)
    }

    fn common_scalar(&mut self, scalar: Fr) -> io::Result<()> {
        self.inner.common_scalar(scalar)
    }
}

impl TranscriptRead<G1Affine, Challenge255<G1Affine>> for CanonicalRead<'_> {
    fn read_point(&mut self) -> io::Result<G1Affine> {
        let before = self.pos.get();
        let point = self.inner.read_point()?;
        let raw = self.data.get(before..self.pos.get());
        if raw != Some(point.to_bytes().as_ref()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "non-canonical point encoding",
            ));
        }
        Ok(point)
    }

    fn read_scalar(&mut self) -> io::Result<Fr> {
        // halo2 already rejects scalars that are not below the modulus.
        self.inner.read_scalar()
    }
}
