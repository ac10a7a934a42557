//! The proving key file: written and read in streams (never whole in memory), and refused
//! with a named error when damaged, cut short or made for another model.

#![allow(clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use halo2_proofs::SerdeFormat;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkinfer_circuits::plan;
use zkinfer_ir::testkit::two_operands;
use zkinfer_ir::{ArtifactError, QOp};
use zkinfer_prover::keys::{read_pk, setup, write_pk};
use zkinfer_prover::srs::generate_insecure_seeded;

const MODEL: [u8; 32] = [7; 32];

/// A small key written to `dir/pk.bin`; returns its path and the VK's bytes.
fn written_key(dir: &Path) -> (std::path::PathBuf, Vec<u8>) {
    let graph = two_operands(QOp::Mul, 4, 4, 50, 4, 1 << 12);
    let params = plan(&graph).expect("plan").params;
    let srs = generate_insecure_seeded(params.k, ChaCha20Rng::seed_from_u64(3));
    let keys = setup(Arc::new(graph), &params, &srs).expect("setup");
    let path = dir.join("pk.bin");
    write_pk(&path, &keys.pk, &params, &MODEL).expect("write");
    (path, keys.pk.get_vk().to_bytes(SerdeFormat::RawBytes))
}

fn read(path: &Path) -> Result<Vec<u8>, ArtifactError> {
    read_pk(path, &MODEL, Path::new("model.zkm"))
        .map(|(pk, _)| pk.get_vk().to_bytes(SerdeFormat::RawBytes))
}

fn corrupt_detail(result: Result<Vec<u8>, ArtifactError>) -> String {
    match result {
        Err(ArtifactError::Corrupt { detail, .. }) => detail,
        other => panic!("expected a corrupt-file error, got {other:?}"),
    }
}

#[test]
fn a_written_key_reads_back_and_leaves_no_temporary_file() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (path, vk) = written_key(tmp.path());
    assert_eq!(read(&path).expect("read"), vk);
    let names: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("pk.bin")]);
}

#[test]
fn a_flipped_byte_in_the_key_is_a_checksum_mismatch() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (path, _) = written_key(tmp.path());
    let mut bytes = std::fs::read(&path).expect("bytes");
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    std::fs::write(&path, &bytes).expect("write");
    assert!(corrupt_detail(read(&path)).contains("checksum mismatch"));
}

#[test]
fn a_key_cut_short_anywhere_is_refused_without_panicking() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (path, _) = written_key(tmp.path());
    let bytes = std::fs::read(&path).expect("bytes");
    for len in [0, 10, 44, 47, 60, bytes.len() / 2, bytes.len() - 1] {
        std::fs::write(&path, &bytes[..len]).expect("write");
        let err = read(&path).expect_err("a short file");
        assert!(
            matches!(err, ArtifactError::Corrupt { .. }),
            "length {len}: {err:?}"
        );
    }
}

#[test]
fn a_key_of_another_model_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (path, _) = written_key(tmp.path());
    let err = read_pk(&path, &[8; 32], Path::new("model.zkm")).expect_err("another model");
    assert!(err.to_string().contains("belongs to model"), "{err}");
}

#[test]
fn an_implausible_header_length_is_refused_before_allocating() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (path, _) = written_key(tmp.path());
    let mut bytes = std::fs::read(&path).expect("bytes");
    // The header length follows the 44-byte envelope.
    bytes[44..48].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&path, &bytes).expect("write");
    assert!(corrupt_detail(read(&path)).contains("more than the"));
}
