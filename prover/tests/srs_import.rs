//! `srs import`: ceremony files in halo2-kzg-srs's formats, written here from a known secret
//! independently of halo2's writer (and checked against it), imported, and refused when corrupt
//! or unpinned.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use halo2_proofs::halo2curves::bn256::{Bn256, Fq, Fq2, Fr, G1Affine, G2Affine, G1, G2};
use halo2_proofs::halo2curves::ff::{Field, PrimeField};
use halo2_proofs::halo2curves::group::Curve;
use halo2_proofs::halo2curves::CurveAffine;
use halo2_proofs::poly::commitment::{Params, ParamsProver};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_proofs::SerdeFormat;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkinfer_prover::error::{Inconsistency, PointProblem, PointSection, SrsImportError};
use zkinfer_prover::srs;
use zkinfer_prover::srs_import::{import, PinnedSrs, SrsFileFormat, PINNED};

const K: u32 = 5;
const SEED: u64 = 7;

fn tmp(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("srs_import")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn put(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// The secret halo2's `setup` draws from this seed (its first use of the RNG).
fn tau(seed: u64) -> Fr {
    Fr::random(ChaCha20Rng::seed_from_u64(seed))
}

/// Montgomery form `x·2^256 mod p`, little-endian: the raw bytes of a coordinate.
fn mont(x: &Fq) -> [u8; 32] {
    (*x * Fq::from(2).pow_vartime([256])).to_repr()
}

fn raw_g1(p: &G1Affine) -> Vec<u8> {
    [mont(&p.x), mont(&p.y)].concat()
}

fn raw_g2(p: &G2Affine) -> Vec<u8> {
    [mont(&p.x.c0), mont(&p.x.c1), mont(&p.y.c0), mont(&p.y.c1)].concat()
}

/// `perpetual-powers-of-tau-raw-<k>` layout, from the secret, without halo2's writer.
fn external_raw(k: u32, tau: Fr) -> Vec<u8> {
    let n = 1u64 << k;
    let g1 = G1Affine::generator();
    let mut out = k.to_le_bytes().to_vec();
    let mut power = Fr::ONE;
    for _ in 0..n {
        out.extend(raw_g1(&(g1 * power).to_affine()));
        power *= tau;
    }
    // L_i(τ) = ω^i (τ^n - 1) / (n (τ - ω^i)), ω the 2^k-th root of unity halo2 uses.
    let mut omega = Fr::ROOT_OF_UNITY;
    for _ in k..Fr::S {
        omega = omega.square();
    }
    let tau_n_minus_1 = tau.pow_vartime([n]) - Fr::ONE;
    let n_inv = Fr::from(n).invert().unwrap();
    let mut omega_i = Fr::ONE;
    for _ in 0..n {
        let l = omega_i * tau_n_minus_1 * n_inv * (tau - omega_i).invert().unwrap();
        out.extend(raw_g1(&(g1 * l).to_affine()));
        omega_i *= omega;
    }
    let g2 = G2Affine::generator();
    out.extend(raw_g2(&g2));
    out.extend(raw_g2(&(g2 * tau).to_affine()));
    out
}

/// halo2's own params for the same secret.
fn halo2_params(k: u32, seed: u64) -> ParamsKZG<Bn256> {
    ParamsKZG::<Bn256>::setup(k, ChaCha20Rng::seed_from_u64(seed))
}

fn bytes_of(params: &ParamsKZG<Bn256>, format: SerdeFormat) -> Vec<u8> {
    let mut out = Vec::new();
    params.write_custom(&mut out, format).unwrap();
    out
}

fn pin(k: u32, bytes: &[u8]) -> PinnedSrs {
    let hash = hex::encode(zkinfer_ir::artifact::sha256(bytes));
    PinnedSrs {
        name: "test-file",
        k,
        sha256: Box::leak(hash.into_boxed_str()),
    }
}

/// Byte offset of G1 point `i` of the powers (`lagrange`: of the Lagrange points).
fn g1_offset(format: SrsFileFormat, k: u32, lagrange: bool, i: usize) -> usize {
    let n = 1usize << k;
    4 + (if lagrange { n } else { 0 } + i) * format.g1_len()
}

fn g2_offset(format: SrsFileFormat, k: u32, i: usize) -> usize {
    4 + 2 * (1usize << k) * format.g1_len() + i * format.g2_len()
}

/// Imports with any hash allowed (for the structural and consistency checks).
fn import_any(path: &Path) -> Result<zkinfer_prover::srs_import::Imported, SrsImportError> {
    import(path, &[], true, None)
}

#[test]
fn independent_writer_matches_halo2_raw_format() {
    for k in 4..=6 {
        let ours = external_raw(k, tau(SEED + u64::from(k)));
        let theirs = bytes_of(&halo2_params(k, SEED + u64::from(k)), SerdeFormat::RawBytes);
        assert_eq!(ours.len() as u64, SrsFileFormat::Raw.file_len(k));
        assert!(ours == theirs, "k = {k}: bytes differ");
    }
}

#[test]
fn pinned_raw_file_imports_as_a_secure_srs() {
    let dir = tmp("pinned_raw");
    let bytes = external_raw(K, tau(SEED));
    let path = put(&dir, "ppot-raw-5", &bytes);
    let pins = [pin(K, &bytes)];
    let imported = import(&path, &pins, false, None).unwrap();
    assert_eq!(imported.file_k, K);
    assert_eq!(imported.format, SrsFileFormat::Raw);
    assert_eq!(imported.sha256, zkinfer_ir::artifact::sha256(&bytes));
    assert_eq!(imported.pinned, Some(pins[0]));
    assert!(!imported.srs.insecure);
    assert!(!imported.srs.unpinned);
    assert_eq!(imported.srs.k(), K);
    let expected = bytes_of(&halo2_params(K, SEED), SerdeFormat::RawBytes);
    assert!(bytes_of(&imported.srs.params, SerdeFormat::RawBytes) == expected);

    // Through srs.bin and back: still not insecure, not unpinned, same params.
    let bin = put(&dir, "srs.bin", &srs::encode(&imported.srs));
    let back = srs::read(&bin).unwrap();
    assert!(!back.insecure && !back.unpinned);
    assert!(bytes_of(&back.params, SerdeFormat::RawBytes) == expected);
}

#[test]
fn compressed_file_imports_too() {
    let dir = tmp("compressed");
    let params = halo2_params(K, SEED);
    let bytes = bytes_of(&params, SerdeFormat::Processed);
    assert_eq!(bytes.len() as u64, SrsFileFormat::Compressed.file_len(K));
    let path = put(&dir, "ppot-5", &bytes);
    let imported = import(&path, &[pin(K, &bytes)], false, None).unwrap();
    assert_eq!(imported.format, SrsFileFormat::Compressed);
    assert!(
        bytes_of(&imported.srs.params, SerdeFormat::RawBytes)
            == bytes_of(&params, SerdeFormat::RawBytes)
    );
}

#[test]
fn hash_not_on_the_list_is_refused_unless_allowed() {
    let dir = tmp("unpinned");
    let bytes = external_raw(K, tau(SEED));
    let path = put(&dir, "other-5", &bytes);
    let hash = hex::encode(zkinfer_ir::artifact::sha256(&bytes));

    // The real list: this test file is not a ceremony file.
    let err = import(&path, PINNED, false, None).unwrap_err();
    match &err {
        SrsImportError::Unpinned { k, sha256, .. } => {
            assert_eq!(*k, K);
            assert_eq!(*sha256, hash);
        }
        e => panic!("{e}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("other-5") && msg.contains(&hash) && msg.contains("--allow-unpinned"));

    // A pin for another hash, or for the same hash at another k, does not match either.
    let other = pin(K, b"something else");
    assert!(matches!(
        import(&path, &[other], false, None),
        Err(SrsImportError::Unpinned { .. })
    ));
    let wrong_k = PinnedSrs {
        k: K + 1,
        ..pin(K, &bytes)
    };
    assert!(matches!(
        import(&path, &[wrong_k], false, None),
        Err(SrsImportError::Unpinned { .. })
    ));

    // Allowed: imported, marked unpinned, not insecure; the mark survives srs.bin.
    let imported = import(&path, PINNED, true, None).unwrap();
    assert!(imported.pinned.is_none());
    assert!(imported.srs.unpinned && !imported.srs.insecure);
    let bin = put(&dir, "srs.bin", &srs::encode(&imported.srs));
    let back = srs::read(&bin).unwrap();
    assert!(back.unpinned && !back.insecure);
}

#[test]
fn downsizing_matches_halo2() {
    let dir = tmp("downsize");
    let bytes = external_raw(6, tau(SEED));
    let path = put(&dir, "ppot-raw-6", &bytes);
    let pins = [pin(6, &bytes)];
    let imported = import(&path, &pins, false, Some(4)).unwrap();
    assert_eq!(imported.file_k, 6);
    assert_eq!(imported.srs.k(), 4);
    let mut expected = halo2_params(6, SEED);
    expected.downsize(4);
    assert!(
        bytes_of(&imported.srs.params, SerdeFormat::RawBytes)
            == bytes_of(&expected, SerdeFormat::RawBytes)
    );
    for want in [0, 7] {
        match import(&path, &pins, false, Some(want)) {
            Err(SrsImportError::BadTargetK { want: w, have, .. }) => {
                assert_eq!((w, have), (want, 6));
            }
            other => panic!("--k {want}: {other:?}"),
        }
    }
}

#[test]
fn structural_damage_is_named() {
    let dir = tmp("structure");
    let good = external_raw(K, tau(SEED));
    let expected = SrsFileFormat::Raw.file_len(K);

    let mut cut = good.clone();
    cut.pop();
    match import_any(&put(&dir, "cut", &cut)) {
        Err(SrsImportError::Truncated {
            k,
            format,
            len,
            expected: e,
            ..
        }) => {
            assert_eq!(
                (k, format, len, e),
                (K, SrsFileFormat::Raw, expected - 1, expected)
            );
        }
        other => panic!("{other:?}"),
    }
    let half = &good[..good.len() / 2];
    assert!(matches!(
        import_any(&put(&dir, "half", half)),
        Err(SrsImportError::Truncated { .. })
    ));

    let mut long = good.clone();
    long.extend_from_slice(&[0, 0, 0]);
    match import_any(&put(&dir, "long", &long)) {
        Err(SrsImportError::TrailingBytes { k, extra, .. }) => assert_eq!((k, extra), (K, 3)),
        other => panic!("{other:?}"),
    }

    // Wrong k in the header: the length no longer fits.
    let mut bigger = good.clone();
    bigger[..4].copy_from_slice(&(K + 1).to_le_bytes());
    match import_any(&put(&dir, "k_plus_1", &bigger)) {
        Err(SrsImportError::Truncated { k, .. }) => assert_eq!(k, K + 1),
        other => panic!("{other:?}"),
    }
    let mut smaller = good.clone();
    smaller[..4].copy_from_slice(&(K - 1).to_le_bytes());
    match import_any(&put(&dir, "k_minus_1", &smaller)) {
        Err(SrsImportError::TrailingBytes { k, .. }) => assert_eq!(k, K - 1),
        other => panic!("{other:?}"),
    }
    for bad_k in [0, 29, 64, u32::MAX] {
        let mut b = good.clone();
        b[..4].copy_from_slice(&bad_k.to_le_bytes());
        match import_any(&put(&dir, "bad_k", &b)) {
            Err(SrsImportError::BadK { k, max, .. }) => assert_eq!((k, max), (bad_k, 28)),
            other => panic!("k = {bad_k}: {other:?}"),
        }
    }
    for short in [&[][..], &good[..3], &good[..30]] {
        assert!(matches!(
            import_any(&put(&dir, "short", short)),
            Err(SrsImportError::TooShort { .. })
        ));
    }
    let mut first = good.clone();
    first[4] ^= 1;
    let err = import_any(&put(&dir, "first_point", &first)).unwrap_err();
    assert!(matches!(err, SrsImportError::UnknownFormat { .. }), "{err}");
    match import_any(&dir.join("missing")) {
        Err(SrsImportError::Io { path, .. }) => assert!(path.ends_with("missing")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_flipped_byte_in_a_point_is_named() {
    let dir = tmp("flipped_point");
    let good = external_raw(K, tau(SEED));
    let raw = SrsFileFormat::Raw;
    let cases = [
        (g1_offset(raw, K, false, 3) + 5, PointSection::Power, 3),
        (g1_offset(raw, K, true, 2) + 40, PointSection::Lagrange, 2),
        (g2_offset(raw, K, 0) + 70, PointSection::G2, 0),
        (g2_offset(raw, K, 1) + 1, PointSection::G2, 1),
    ];
    for (at, section, index) in cases {
        let mut b = good.clone();
        b[at] ^= 0x10;
        let path = put(&dir, "flipped", &b);
        // Pinned list with the good file: the damaged one is named by its point, not its hash.
        let err = import(&path, &[pin(K, &good)], false, None).unwrap_err();
        match &err {
            SrsImportError::BadPoint {
                section: s,
                index: i,
                offset,
                problem,
                ..
            } => {
                assert_eq!((*s, *i), (section, index), "{err}");
                let start = match section {
                    PointSection::G2 => g2_offset(raw, K, index as usize),
                    s => g1_offset(raw, K, s == PointSection::Lagrange, index as usize),
                };
                assert_eq!(*offset, start as u64);
                assert!(
                    matches!(
                        problem,
                        PointProblem::NotOnCurve | PointProblem::NotCanonical
                    ),
                    "{err}"
                );
            }
            e => panic!("{e}"),
        }
        assert!(err.to_string().contains("flipped"), "{err}");
    }

    // A coordinate above the modulus; the point at infinity.
    let mut above = good.clone();
    let at = g1_offset(raw, K, false, 1);
    above[at..at + 32].fill(0xff);
    assert!(matches!(
        import_any(&put(&dir, "above", &above)),
        Err(SrsImportError::BadPoint {
            problem: PointProblem::NotCanonical,
            ..
        })
    ));
    let mut zero = good.clone();
    let at = g1_offset(raw, K, false, 2);
    zero[at..at + 64].fill(0);
    assert!(matches!(
        import_any(&put(&dir, "zero", &zero)),
        Err(SrsImportError::BadPoint {
            section: PointSection::Power,
            index: 2,
            problem: PointProblem::Infinity,
            ..
        })
    ));

    // A G2 point on the curve but outside the order-r subgroup.
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let off_subgroup = loop {
        let x = Fq2::random(&mut rng);
        let y2 = x.square() * x + G2Affine::b();
        if let Some(y) = Option::<Fq2>::from(y2.sqrt()) {
            let p = Option::<G2Affine>::from(G2Affine::from_xy(x, y)).unwrap();
            let times_r: G2 = p * (-Fr::ONE) + p;
            if !bool::from(halo2_proofs::halo2curves::group::Group::is_identity(
                &times_r,
            )) {
                break p;
            }
        }
    };
    let mut b = good.clone();
    let at = g2_offset(raw, K, 1);
    b[at..at + 128].copy_from_slice(&raw_g2(&off_subgroup));
    assert!(matches!(
        import_any(&put(&dir, "subgroup", &b)),
        Err(SrsImportError::BadPoint {
            section: PointSection::G2,
            index: 1,
            problem: PointProblem::NotInSubgroup,
            ..
        })
    ));
}

#[test]
fn hostile_compressed_points_are_refused_without_panicking() {
    let dir = tmp("compressed_hostile");
    let good = bytes_of(&halo2_params(K, SEED), SerdeFormat::Processed);
    let c = SrsFileFormat::Compressed;
    // halo2curves' own G2 decoder panics on a coordinate above the modulus.
    for half in [0, 32] {
        let mut b = good.clone();
        let at = g2_offset(c, K, 1) + half;
        b[at..at + 32].fill(0xff);
        b[g2_offset(c, K, 1) + 63] &= 0x3f;
        assert!(matches!(
            import_any(&put(&dir, "g2_above", &b)),
            Err(SrsImportError::BadPoint {
                section: PointSection::G2,
                index: 1,
                problem: PointProblem::NotCanonical,
                ..
            })
        ));
    }
    // Infinity flag; infinity flag with x left in place.
    let mut inf = good.clone();
    let at = g1_offset(c, K, false, 1);
    inf[at..at + 32].fill(0);
    inf[at + 31] = 0x80;
    assert!(matches!(
        import_any(&put(&dir, "inf", &inf)),
        Err(SrsImportError::BadPoint {
            problem: PointProblem::Infinity,
            ..
        })
    ));
    let mut flagged = good.clone();
    flagged[g1_offset(c, K, true, 0) + 31] |= 0x80;
    assert!(matches!(
        import_any(&put(&dir, "flagged", &flagged)),
        Err(SrsImportError::BadPoint {
            section: PointSection::Lagrange,
            index: 0,
            ..
        })
    ));
}

#[test]
fn valid_points_that_do_not_fit_together_are_refused() {
    let dir = tmp("consistency");
    let good = external_raw(K, tau(SEED));
    let raw = SrsFileFormat::Raw;
    let g1 = G1Affine::generator();
    let g2 = G2Affine::generator();
    let replace_g1 = |lagrange: bool, i: usize, p: G1Affine| {
        let mut b = good.clone();
        let at = g1_offset(raw, K, lagrange, i);
        b[at..at + 64].copy_from_slice(&raw_g1(&p));
        b
    };
    let replace_g2 = |i: usize, p: G2Affine| {
        let mut b = good.clone();
        let at = g2_offset(raw, K, i);
        b[at..at + 128].copy_from_slice(&raw_g2(&p));
        b
    };
    let t = tau(SEED);
    let power = |i: u64| (g1 * t.pow_vartime([i])).to_affine();
    let shifted = |p: G1Affine| (G1::from(p) + g1).to_affine();
    assert_eq!(halo2_params(K, SEED).get_g()[2], power(2));

    let cases: Vec<(&str, Vec<u8>, Inconsistency)> = vec![
        (
            "g2",
            replace_g2(0, (g2 * Fr::from(2)).to_affine()),
            Inconsistency::G2NotGenerator,
        ),
        ("tau_is_1", replace_g2(1, g2), Inconsistency::Degenerate),
        (
            "s_g2",
            replace_g2(1, (g2 * t + g2).to_affine()),
            Inconsistency::TauMismatch,
        ),
        (
            "g1",
            replace_g1(false, 1, shifted(power(1))),
            Inconsistency::TauMismatch,
        ),
        (
            "power_3",
            replace_g1(false, 3, shifted(power(3))),
            Inconsistency::PowersNotGeometric,
        ),
        (
            "last_power",
            replace_g1(false, (1 << K) - 1, power(1 << K)),
            Inconsistency::PowersNotGeometric,
        ),
        (
            "lagrange_7",
            replace_g1(true, 7, power(7)),
            Inconsistency::LagrangeMismatch,
        ),
    ];
    for (name, bytes, check) in cases {
        let path = put(&dir, name, &bytes);
        match import(&path, &[pin(K, &bytes)], false, None) {
            Err(SrsImportError::Inconsistent { check: c, path: p }) => {
                assert_eq!(c, check, "{name}");
                assert_eq!(p, path);
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn every_sampled_bit_flip_is_refused() {
    let dir = tmp("bit_flips");
    for (format, good) in [
        (SrsFileFormat::Raw, external_raw(4, tau(SEED))),
        (
            SrsFileFormat::Compressed,
            bytes_of(&halo2_params(4, SEED), SerdeFormat::Processed),
        ),
    ] {
        assert!(import(&put(&dir, "good", &good), &[pin(4, &good)], false, None).is_ok());
        let path = dir.join("flipped");
        for at in (0..good.len()).step_by(5) {
            let bit = (at * 7) % 8;
            let mut b = good.clone();
            b[at] ^= 1 << bit;
            std::fs::write(&path, &b).unwrap();
            let result = import_any(&path);
            assert!(result.is_err(), "{format}: byte {at} bit {bit} accepted");
        }
    }
}
