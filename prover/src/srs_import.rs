//! Importing a ceremony SRS: the halo2 KZG parameter files published for the perpetual powers of
//! tau (and Hermez) ceremonies, checked against pinned SHA-256 hashes.
//!
//! # File format
//!
//! The files are what [halo2-kzg-srs](https://github.com/han0110/halo2-kzg-srs) converts the
//! ceremony transcripts to, i.e. halo2's `ParamsKZG::write_custom` output (the same layout
//! `ParamsKZG::read_custom` reads), in one of two point encodings:
//!
//! | bytes | content |
//! |---|---|
//! | 4 | `k`, u32 little-endian; `n = 2^k` |
//! | `n · G1` | `[τ^i]G1` for `i < n` |
//! | `n · G1` | `[L_i(τ)]G1`, the Lagrange basis of the `2^k`-th roots of unity |
//! | `G2` | `G2` generator |
//! | `G2` | `[τ]G2` |
//!
//! - **Uncompressed** (`perpetual-powers-of-tau-raw-<k>`, `hermez-raw-<k>`; halo2's
//!   `SerdeFormat::RawBytes`, read by EZKL): G1 = x ‖ y (64 bytes), G2 = x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1
//!   (128 bytes), each coordinate 32 bytes: its Montgomery form `a·2^256 mod p` as four
//!   little-endian u64 limbs. The point at infinity is all zeros.
//! - **Compressed** (`perpetual-powers-of-tau-<k>`, `hermez-<k>`; `SerdeFormat::Processed`):
//!   G1 = x (32 bytes), G2 = x.c0 ‖ x.c1 (64 bytes), canonical little-endian; in the last byte,
//!   bit 7 marks infinity and bit 6 is the parity of y (of y.c0 for G2).
//!
//! The two are told apart by the first G1 point, which must be the generator (1, 2); the file
//! length must then be exactly the one for `k` in that encoding.
//!
//! # Checks
//!
//! Every coordinate must be canonical (below the field modulus) and every point on its curve
//! (G1 has cofactor 1); G2 points must be in the order-r subgroup; no point may be at infinity.
//! The points are decoded here with checked field constructors, not halo2curves' compressed
//! decoders (its G2 decoder panics on a non-canonical coordinate). Then, before anything is
//! trusted, [`SrsFile::check_consistency`]:
//! - the G2 generator is the standard one, and `τ ∉ {0, 1}`;
//! - `e([τ]G1, G2) = e(G1, [τ]G2)`;
//! - all powers have the same ratio: `e(Σ c_i·g_(i+1), G2) = e(Σ c_i·g_i, [τ]G2)` for random
//!   `c_i` (so `g_i = [τ^i]G1` for every i, except with probability ~ n/r);
//! - the Lagrange points match the powers: `Σ d_i·[L_i(τ)]G1 = Σ a_j·g_j` with `a = IFFT(d)`
//!   for random `d_i` (the commitment to the polynomial with values `d` on the domain, both ways).

use std::io::Read;
use std::path::{Path, PathBuf};

use halo2_proofs::arithmetic::best_multiexp;
use halo2_proofs::halo2curves::bn256::{
    multi_miller_loop, Bn256, Fr, G1Affine, G2Affine, G2Prepared,
};
use halo2_proofs::halo2curves::ff::{Field, PrimeField};
use halo2_proofs::halo2curves::group::prime::PrimeCurveAffine;
use halo2_proofs::halo2curves::group::{Group, GroupEncoding};
use halo2_proofs::halo2curves::pairing::MillerLoopResult;
use halo2_proofs::halo2curves::serde::SerdeObject;
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::error::{Inconsistency, PointSection, SrsImportError};
use crate::srs::{LoadedSrs, Srs};

pub use crate::srs_format::{SrsFileFormat, MAX_K};

/// A ceremony file whose SHA-256 is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinnedSrs {
    /// The file's published name.
    pub name: &'static str,
    /// Its k.
    pub k: u32,
    /// Its SHA-256, lowercase hex.
    pub sha256: &'static str,
}

macro_rules! ppot_raw {
    ($($k:literal => $hash:literal),* $(,)?) => {
        &[$(PinnedSrs {
            name: concat!("perpetual-powers-of-tau-raw-", stringify!($k)),
            k: $k,
            sha256: $hash,
        }),*]
    };
}

/// SHA-256 of the halo2-kzg-srs conversions of the perpetual powers of tau ceremony,
/// `perpetual-powers-of-tau-raw-<k>` (uncompressed), k = 1..=26.
///
/// Source: EZKL (github.com/zkonduit/ezkl), `src/srs_sha.rs`, `PUBLIC_SRS_SHA256_HASHES`,
/// added in zkonduit/ezkl PR #662 ("add sha256 checks to srs downloads"). EZKL downloads
/// `https://trusted-setup-halo2kzg.s3.eu-central-1.amazonaws.com/perpetual-powers-of-tau-raw-<k>`
/// (`PUBLIC_SRS_URL` in its `src/pfsys/srs.rs`), stores the bytes as they are and checks their
/// SHA-256 against this table. The values were copied from there; they were not recomputed
/// here (zkinfer downloads nothing). No published hashes were found for the compressed files
/// or for the Hermez conversions (`hermez-raw-<k>`), so those import only with
/// `--allow-unpinned`.
pub const PINNED: &[PinnedSrs] = ppot_raw! {
    1 => "cafb2aa72c200ddc4e28aacabb8066e829207e2484b8d17059a566232f8a297b",
    2 => "8194ec51da5d332d2e17283ade34920644774452c2fadf33742e8c739e275d8e",
    3 => "0729e815bce2ac4dfad7819982c6479c3b22c32b71f64dca05e8fdd90e8535ef",
    4 => "2c0785da20217fcafd3b12cc363a95eb2529037cc8a9bddf8fb15025cbc8cdc9",
    5 => "5b950e3b76e7a9923d69f6d6585ce6b5f9458e5ec57a71c9de5005d32d544692",
    6 => "85030b2924111fc60acaf4fb8a7bad89531fbe0271aeab0c21e545f71eee273d",
    7 => "e65f95150519fe01c2bedf8f832f5249822ef84c9c017307419e10374ff9eeb1",
    8 => "446092fd1d6030e5bb2f2a8368267d5ed0fbdb6a766f6c5e4a4841827ad3106f",
    9 => "493d088951882ad81af11e08c791a38a37c0ffff14578cf2c7fb9b7bca654d8b",
    10 => "9705d450e5dfd06adb673705f7bc34418ec86339203198beceb2ae7f1ffefedb",
    11 => "257fa566ed9bc0767d3e63e92b5e966829fa3347d320a32055dc31ee7d33f8a4",
    12 => "28b151069f41abc121baa6d2eaa8f9e4c4d8326ddbefee2bd9c0776b80ac6fad",
    13 => "d5d94bb25bdc024f649213593027d861042ee807cafd94b49b54f1663f8f267d",
    14 => "c09129f064c08ecb07ea3689a2247dcc177de6837e7d2f5f946e30453abbccef",
    15 => "90807800a1c3b248a452e1732c45ee5099f38b737356f5542c0584ec9c3ebb45",
    16 => "2a1a494630e71bc026dd5c0eab4c1b9a5dbc656228c1f0d48f5dbd3909b161d3",
    17 => "41509f380362a8d14401c5ae92073154922fe23e45459ce6f696f58607655db7",
    18 => "d0148475717a2ba269784a178cb0ab617bc77f16c58d4a3cbdfe785b591c7034",
    19 => "d1a1655b4366a766d1578beb257849a92bf91cb1358c1a2c37ab180c5d3a204d",
    20 => "54ef75911da76d7a6b7ea341998aaf66cb06c679c53e0a88a4fe070dd3add963",
    21 => "486e044cf98704e07f41137d2b89698dc03d1fbf34d13b60902fea19a6013b4b",
    22 => "1ee9b4396db3e4e2516ac5016626ab6ba967f091d5d23afbdb7df122a0bb9d0c",
    23 => "748e48b9b6d06f9c82d26bf551d0af43ee2e801e4be56d7ccb20312e267fd1d6",
    24 => "f94fa4afa2f5147680f907d4dd96a8826206c26bd3328cd379feaed614b234de",
    25 => "dec49a69893fbcd66cd06296b2d936a6aceb431c130b2e52675fe4274b504f57",
    26 => "b198a51d48b88181508d8e4ea9dea39db285e4585663b29b7e4ded0c22a94875",
};

/// A parsed, point-checked ceremony file; not yet checked for consistency or provenance.
#[derive(Debug)]
pub struct SrsFile {
    path: PathBuf,
    k: u32,
    format: SrsFileFormat,
    sha256: [u8; 32],
    g: Vec<G1Affine>,
    g_lagrange: Vec<G1Affine>,
    g2: G2Affine,
    s_g2: G2Affine,
}

/// The result of [`import`].
#[derive(Debug)]
pub struct Imported {
    /// The SRS, downsized if asked; `insecure` is false.
    pub srs: LoadedSrs,
    /// The file's k.
    pub file_k: u32,
    /// Its point encoding.
    pub format: SrsFileFormat,
    /// SHA-256 of the file.
    pub sha256: [u8; 32],
    /// The pinned entry it matched (`None`: imported with `allow_unpinned`).
    pub pinned: Option<PinnedSrs>,
}

/// Reads, pins and checks a ceremony file: [`SrsFile::read`], the `--k` bound,
/// [`SrsFile::pinned_in`] (`pins`: normally [`PINNED`]), [`SrsFile::check_consistency`],
/// then [`SrsFile::into_srs`].
///
/// A file whose hash is not in `pins` is refused unless `allow_unpinned`; it is then marked
/// `unpinned`.
pub fn import(
    path: &Path,
    pins: &[PinnedSrs],
    allow_unpinned: bool,
    k: Option<u32>,
) -> Result<Imported, SrsImportError> {
    let file = SrsFile::read(path)?;
    if let Some(want) = k {
        file.check_target_k(want)?;
    }
    let pinned = file.pinned_in(pins).copied();
    if pinned.is_none() && !allow_unpinned {
        return Err(file.unpinned_error());
    }
    file.check_consistency()?;
    let (file_k, format, sha256) = (file.k, file.format, file.sha256);
    let srs = file.into_srs(pinned.is_some(), k)?;
    Ok(Imported {
        srs,
        file_k,
        format,
        sha256,
        pinned,
    })
}

impl SrsFile {
    /// Reads and decodes `path`, checking its length and every point; also hashes it.
    ///
    /// Allocates only after the length on disk matches the header's k, and at most that length;
    /// peak memory is about twice the file size (its bytes, then the decoded points).
    pub fn read(path: &Path) -> Result<SrsFile, SrsImportError> {
        let io = |source| SrsImportError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut f = std::fs::File::open(path).map_err(io)?;
        let len = f.metadata().map_err(io)?.len();
        // k and the first G1 point in the larger encoding.
        let mut head = [0u8; 4 + 64];
        let got = read_up_to(&mut f, &mut head).map_err(io)?;
        if got < 4 + 32 {
            return Err(SrsImportError::TooShort {
                path: path.to_path_buf(),
                len: got as u64,
            });
        }
        let k = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        if !(1..=MAX_K).contains(&k) {
            return Err(SrsImportError::BadK {
                path: path.to_path_buf(),
                k,
                max: MAX_K,
            });
        }
        let format = detect_format(&head[4..got]).ok_or_else(|| SrsImportError::UnknownFormat {
            path: path.to_path_buf(),
        })?;
        let expected = format.file_len(k);
        if len < expected {
            return Err(SrsImportError::Truncated {
                path: path.to_path_buf(),
                k,
                format,
                len,
                expected,
            });
        }
        if len > expected {
            return Err(SrsImportError::TrailingBytes {
                path: path.to_path_buf(),
                k,
                format,
                expected,
                extra: len - expected,
            });
        }
        // The length on disk is right: read exactly that much (and notice if it changed).
        let expected_usize = usize::try_from(expected).map_err(|_| SrsImportError::Truncated {
            path: path.to_path_buf(),
            k,
            format,
            len,
            expected,
        })?;
        let mut bytes = Vec::with_capacity(expected_usize);
        bytes.extend_from_slice(&head[..got]);
        (&mut f)
            .take(expected - got as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        let read = bytes.len() as u64;
        if read < expected {
            return Err(SrsImportError::Truncated {
                path: path.to_path_buf(),
                k,
                format,
                len: read,
                expected,
            });
        }
        if read > expected {
            return Err(SrsImportError::TrailingBytes {
                path: path.to_path_buf(),
                k,
                format,
                expected,
                extra: read - expected,
            });
        }
        let sha256 = zkinfer_ir::artifact::sha256(&bytes);
        let file = decode(path, k, format, &bytes)?;
        Ok(SrsFile { sha256, ..file })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's k.
    pub fn k(&self) -> u32 {
        self.k
    }

    /// Its point encoding.
    pub fn format(&self) -> SrsFileFormat {
        self.format
    }

    /// SHA-256 of the whole file.
    pub fn sha256(&self) -> [u8; 32] {
        self.sha256
    }

    /// The SHA-256 as lowercase hex.
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }

    /// The entry of `pins` with this file's k and hash, if any.
    pub fn pinned_in<'a>(&self, pins: &'a [PinnedSrs]) -> Option<&'a PinnedSrs> {
        let hash = self.sha256_hex();
        pins.iter()
            .find(|p| p.k == self.k && p.sha256.eq_ignore_ascii_case(&hash))
    }

    /// The error for a file that is not pinned.
    pub fn unpinned_error(&self) -> SrsImportError {
        SrsImportError::Unpinned {
            path: self.path.clone(),
            k: self.k,
            sha256: self.sha256_hex(),
        }
    }

    /// Checks that the file can be downsized to `k`.
    pub fn check_target_k(&self, k: u32) -> Result<(), SrsImportError> {
        if k == 0 || k > self.k {
            return Err(SrsImportError::BadTargetK {
                path: self.path.clone(),
                want: k,
                have: self.k,
            });
        }
        Ok(())
    }

    /// Checks that the points are the powers of one τ and its Lagrange basis (see the module
    /// documentation). Randomized: a wrong file passes with probability about n / 2^254.
    pub fn check_consistency(&self) -> Result<(), SrsImportError> {
        let fail = |check| SrsImportError::Inconsistent {
            path: self.path.clone(),
            check,
        };
        let n = self.g.len();
        if self.g2 != G2Affine::generator() {
            return Err(fail(Inconsistency::G2NotGenerator));
        }
        if self.s_g2 == self.g2 || self.g[1] == self.g[0] {
            return Err(fail(Inconsistency::Degenerate));
        }
        // e([τ]G1, G2) = e(G1, [τ]G2).
        if !pairings_equal(&self.g[1], &self.g2, &self.g[0], &self.s_g2) {
            return Err(fail(Inconsistency::TauMismatch));
        }
        let mut rng = ChaCha20Rng::from_entropy();
        // Same ratio between every pair of consecutive powers.
        let c: Vec<Fr> = (0..n - 1).map(|_| Fr::random(&mut rng)).collect();
        let lhs: G1Affine = best_multiexp(&c, &self.g[..n - 1]).into();
        let rhs: G1Affine = best_multiexp(&c, &self.g[1..]).into();
        if !pairings_equal(&rhs, &self.g2, &lhs, &self.s_g2) {
            return Err(fail(Inconsistency::PowersNotGeometric));
        }
        // Lagrange points: Σ d_i [L_i(τ)] = Σ IFFT(d)_j [τ^j].
        let d: Vec<Fr> = (0..n).map(|_| Fr::random(&mut rng)).collect();
        let by_lagrange = best_multiexp(&d, &self.g_lagrange);
        let mut a = d;
        ifft(&mut a, self.k);
        let by_powers = best_multiexp(&a, &self.g);
        if by_lagrange != by_powers {
            return Err(fail(Inconsistency::LagrangeMismatch));
        }
        Ok(())
    }

    /// The SRS (`insecure` false; `unpinned` unless `pinned`), downsized to `k` if given.
    /// Downsizing recomputes the Lagrange points from the powers (halo2's `downsize`).
    pub fn into_srs(self, pinned: bool, k: Option<u32>) -> Result<LoadedSrs, SrsImportError> {
        if let Some(want) = k {
            self.check_target_k(want)?;
        }
        let mut srs = LoadedSrs {
            params: params_from_parts(self.k, self.g, self.g_lagrange, self.g2, self.s_g2),
            insecure: false,
            unpinned: !pinned,
        };
        if let Some(want) = k {
            crate::srs::downsize(&mut srs, want);
        }
        Ok(srs)
    }
}

/// `ParamsKZG` from its parts. `ParamsKZG::from_parts` is a method whose receiver it ignores;
/// a one-point SRS from a fixed seed is the cheapest receiver.
fn params_from_parts(
    k: u32,
    g: Vec<G1Affine>,
    g_lagrange: Vec<G1Affine>,
    g2: G2Affine,
    s_g2: G2Affine,
) -> Srs {
    let receiver = ParamsKZG::<Bn256>::setup(0, ChaCha20Rng::seed_from_u64(0));
    let params = receiver.from_parts(k, g, Some(g_lagrange), g2, s_g2);
    debug_assert_eq!(params.k(), k);
    params
}

/// `e(a, b) == e(c, d)`, with one final exponentiation.
fn pairings_equal(a: &G1Affine, b: &G2Affine, c: &G1Affine, d: &G2Affine) -> bool {
    let b = G2Prepared::from(*b);
    let d = G2Prepared::from(*d);
    let neg_c = -*c;
    bool::from(
        multi_miller_loop(&[(a, &b), (&neg_c, &d)])
            .final_exponentiation()
            .is_identity(),
    )
}

/// In-place inverse FFT over the `2^k`-th roots of unity, the domain halo2 uses for `k`
/// (`ω = ROOT_OF_UNITY^(2^(S-k))`): `a_j ← (1/n) Σ_i a_i ω^(-ij)`. Written out here (radix 2)
/// so that the check does not lean on halo2's own FFT.
fn ifft(a: &mut [Fr], k: u32) {
    let n = a.len();
    if n < 2 {
        return;
    }
    for i in 0..n {
        let j = i.reverse_bits() >> (usize::BITS - k);
        if i < j {
            a.swap(i, j);
        }
    }
    let mut omega_inv = Fr::ROOT_OF_UNITY_INV;
    for _ in k..Fr::S {
        omega_inv = omega_inv.square();
    }
    let mut len = 2;
    while len <= n {
        let step = omega_inv.pow_vartime([(n / len) as u64]);
        for block in a.chunks_mut(len) {
            let (lo, hi) = block.split_at_mut(len / 2);
            let mut w = Fr::ONE;
            for (u, v) in lo.iter_mut().zip(hi.iter_mut()) {
                let t = *v * w;
                *v = *u - t;
                *u += t;
                w *= step;
            }
        }
        len <<= 1;
    }
    let n_inv = Fr::TWO_INV.pow_vartime([u64::from(k)]);
    for x in a.iter_mut() {
        *x *= n_inv;
    }
}

/// Reads until `buf` is full or the end of the file; returns the count.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(m) => got += m,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// The encoding whose G1 generator `first` starts with (`first` holds at least 32 bytes).
fn detect_format(first: &[u8]) -> Option<SrsFileFormat> {
    let generator = G1Affine::generator();
    let raw = generator.to_raw_bytes();
    if first.len() >= raw.len() && first[..raw.len()] == raw[..] {
        return Some(SrsFileFormat::Raw);
    }
    let compressed = generator.to_bytes();
    let c = compressed.as_ref();
    if first.len() >= c.len() && &first[..c.len()] == c {
        return Some(SrsFileFormat::Compressed);
    }
    None
}

/// Decodes all points of a file whose length is already checked.
fn decode(
    path: &Path,
    k: u32,
    format: SrsFileFormat,
    bytes: &[u8],
) -> Result<SrsFile, SrsImportError> {
    let n = 1usize << k;
    let g1_len = format.g1_len();
    let g2_len = format.g2_len();
    let bad = |section, index: usize, offset: usize, problem| SrsImportError::BadPoint {
        path: path.to_path_buf(),
        section,
        index: index as u64,
        offset: offset as u64,
        problem,
    };
    let g1_section = |section, start: usize| -> Result<Vec<G1Affine>, SrsImportError> {
        let mut points = Vec::with_capacity(n);
        for i in 0..n {
            let offset = start + i * g1_len;
            let point = decode_g1(format, &bytes[offset..offset + g1_len])
                .map_err(|problem| bad(section, i, offset, problem))?;
            points.push(point);
        }
        Ok(points)
    };
    let g = g1_section(PointSection::Power, 4)?;
    let g_lagrange = g1_section(PointSection::Lagrange, 4 + n * g1_len)?;
    let g2_start = 4 + 2 * n * g1_len;
    let mut g2s = [G2Affine::identity(); 2];
    for (i, out) in g2s.iter_mut().enumerate() {
        let offset = g2_start + i * g2_len;
        *out = decode_g2(format, &bytes[offset..offset + g2_len])
            .map_err(|problem| bad(PointSection::G2, i, offset, problem))?;
    }
    Ok(SrsFile {
        path: path.to_path_buf(),
        k,
        format,
        sha256: [0; 32],
        g,
        g_lagrange,
        g2: g2s[0],
        s_g2: g2s[1],
    })
}

mod points;
use points::{decode_g1, decode_g2};

#[cfg(test)]
mod tests;
