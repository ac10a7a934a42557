//! Chunked models: a model split at tensor boundaries proves chunk by chunk, the bundle
//! verifies, and its links hold: a chunk proof from another input, swapped or dropped chunk
//! proofs, a link commitment changed by one bit, or a chunk proof under another chunk's key
//! are all refused, the tampered proofs by the Rust and the EVM verifier alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use zkinfer::ir::chunk::ChunkedProof;
use zkinfer::pipeline::chunked::{self, Chunking};
use zkinfer::pipeline::{
    compile_file, prove, setup, DeviceChoice, Input, PipelineError, Quiet, Salt, Search, SrsChoice,
};
use zkinfer::verifier::chunked::ChunkedError;
use zkinfer::verifier::evm::exec::verify_in_evm;
use zkinfer::verifier::{verify, VerifierKey};

struct Fixture {
    _tmp: tempfile::TempDir,
    dir: std::path::PathBuf,
    input: std::path::PathBuf,
}

/// The torch MLP fixture compiled into `n` chunks, with keys.
fn chunked_mlp(n: usize) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let fx = Path::new("tests/fixtures/ops/torch_mlp");
    let dir = tmp.path().join("build");
    compile_file(
        &fx.join("model.onnx"),
        &fx.join("input.json"),
        &dir,
        Default::default(),
        &Search::default(),
        &Quiet,
    )
    .unwrap();
    let m = chunked::write_chunks(&dir, Chunking::Count(n), &Quiet).unwrap();
    assert_eq!(m.manifest.chunks.len(), n);
    chunked::setup_chunks(&dir, &SrsChoice::InsecureTest, &Quiet).unwrap();
    Fixture {
        _tmp: tmp,
        dir,
        input: fx.join("input.json"),
    }
}

impl Fixture {
    fn prove(&self, row: usize) -> ChunkedProof {
        let input = Input::File {
            path: &self.input,
            row,
        };
        chunked::prove_chunks(&self.dir, &input, &Salt::Fresh, DeviceChoice::Cpu, &Quiet)
            .unwrap()
            .bundle
    }

    fn verify(&self, bundle: &ChunkedProof) -> Result<(), ChunkedError> {
        match chunked::verify_chunks_in(&self.dir, bundle, false) {
            Ok(_) => Ok(()),
            Err(PipelineError::ChunkRejected(e)) => Err(*e),
            Err(e) => panic!("not a bundle rejection: {e}"),
        }
    }

    fn key(&self, i: usize) -> VerifierKey {
        VerifierKey::read(&self.dir.join(format!("chunk-{i}/vk.bin"))).unwrap()
    }
}

fn flip_low_bit(h: &str) -> String {
    let (head, last) = h.split_at(h.len() - 1);
    let digit = u8::from_str_radix(last, 16).unwrap() ^ 1;
    format!("{head}{digit:x}")
}

#[test]
fn a_chunked_proof_verifies_and_gives_the_unchunked_output() {
    let f = chunked_mlp(2);
    let bundle = f.prove(0);
    assert_eq!(bundle.chunks.len(), 2);
    let (verified, gas) = chunked::verify_chunks_in(&f.dir, &bundle, true).unwrap();
    assert!(gas.unwrap() > 0);
    // The link: chunk 0 commits to its output, chunk 1 to its input, with one salt.
    assert_eq!(bundle.chunks[0].output_hash, bundle.chunks[1].input_hash);
    assert!(bundle.chunks[0].output.is_none() && bundle.chunks[1].input.is_none());
    // The same model, unchunked (the directory's own model.zkm), gives the same output.
    setup(&f.dir, &SrsChoice::InsecureTest, &Quiet).unwrap();
    let whole = prove(
        &f.dir,
        &Input::File {
            path: &f.input,
            row: 0,
        },
        &Salt::Fresh,
        DeviceChoice::Cpu,
        &Quiet,
    )
    .unwrap();
    assert_eq!(verified.output, whole.proof.output);
    assert!(verified.output.is_some());
}

#[test]
fn broken_links_and_misplaced_chunk_proofs_are_refused() {
    let f = chunked_mlp(3);
    let a = f.prove(0);
    let b = f.prove(1);
    f.verify(&a).unwrap();
    f.verify(&b).unwrap();

    // Chunk 1's proof from another input: each proof is valid, the link is not.
    let mut mixed = a.clone();
    mixed.chunks[1] = b.chunks[1].clone();
    assert!(matches!(
        f.verify(&mixed),
        Err(ChunkedError::Link {
            index: 0,
            next: 1,
            ..
        })
    ));
    // Two chunk proofs swapped: chunk 0's key refuses chunk 1's proof.
    let mut swapped = a.clone();
    swapped.chunks.swap(0, 1);
    assert!(matches!(
        f.verify(&swapped),
        Err(ChunkedError::Chunk { index: 0, .. })
    ));
    // A chunk proof dropped.
    let mut dropped = a.clone();
    dropped.chunks.remove(1);
    assert!(matches!(
        f.verify(&dropped),
        Err(ChunkedError::Count {
            proofs: 2,
            chunks: 3,
            ..
        })
    ));
    // A chunk's proof made for another chunk (the last one twice): refused by its key.
    let mut other = a.clone();
    other.chunks[1] = a.chunks[2].clone();
    assert!(matches!(
        f.verify(&other),
        Err(ChunkedError::Chunk { index: 1, .. })
    ));
    // A link commitment changed by one bit, in the file and in the public values: both ends
    // agree, so only the proof can refuse it, and both verifiers do.
    let mut flipped = a.clone();
    let h = flip_low_bit(flipped.chunks[0].output_hash.as_deref().unwrap());
    let at = flipped.chunks[0]
        .instances
        .iter()
        .position(|i| Some(format!("0x{i}")) == flipped.chunks[0].output_hash)
        .unwrap();
    flipped.chunks[0].output_hash = Some(h.clone());
    flipped.chunks[0].instances[at] = h.trim_start_matches("0x").to_string();
    flipped.chunks[1].input_hash = Some(h.clone());
    let at1 = flipped.chunks[1]
        .instances
        .iter()
        .position(|i| Some(format!("0x{i}")) == a.chunks[1].input_hash)
        .unwrap();
    flipped.chunks[1].instances[at1] = h.trim_start_matches("0x").to_string();
    assert!(matches!(
        f.verify(&flipped),
        Err(ChunkedError::Chunk { index: 0, .. })
    ));
    for i in 0..2 {
        assert!(
            verify(&f.key(i), &flipped.chunks[i]).is_err(),
            "offline, chunk {i}"
        );
        assert!(
            verify_in_evm(&f.key(i), &flipped.chunks[i]).is_err(),
            "EVM, chunk {i}"
        );
    }
    // Only the file's commitment changed: refused before any cryptography.
    let mut relabelled = a.clone();
    relabelled.chunks[0].output_hash = Some(h);
    assert!(matches!(
        f.verify(&relabelled),
        Err(ChunkedError::Chunk { index: 0, .. })
    ));
    // A bundle of another model.
    let mut foreign = a.clone();
    foreign.model_hash = "00".repeat(32);
    assert!(matches!(
        f.verify(&foreign),
        Err(ChunkedError::Model { .. })
    ));
}

#[test]
fn the_cli_compiles_plans_proves_and_verifies_a_chunked_model() {
    use common::cli::{fails, ok, s as arg};
    let tmp = tempfile::tempdir().unwrap();
    let fx = Path::new("tests/fixtures/ops/torch_mlp");
    let (onnx, input) = (fx.join("model.onnx"), fx.join("input.json"));
    let dir = tmp.path().join("build");
    let proof = tmp.path().join("proof.json");
    let compiled = ok(&[
        "compile",
        arg(&onnx),
        "--calibration",
        arg(&input),
        "--out",
        arg(&dir),
        "--chunks",
        "2",
    ]);
    assert!(compiled.contains("split into 2 chunks"), "{compiled}");
    let plan = ok(&["plan", arg(&dir)]);
    assert!(
        plan.contains("chunk 0 (chunk-0): k = ") && plan.contains("chunk 1"),
        "{plan}"
    );
    ok(&["setup", arg(&dir), "--insecure-test-srs"]);
    let proved = ok(&[
        "prove",
        arg(&dir),
        "--input",
        arg(&input),
        "--out",
        arg(&proof),
        "--jobs",
        "2",
    ]);
    assert!(proved.contains("chunk 1: proved"), "{proved}");
    assert!(
        !tmp.path().join("proof.json.parts").exists(),
        "the run's state is removed"
    );
    let verified = ok(&["verify", arg(&dir), arg(&proof)]);
    assert!(
        verified.contains("verified: 2 chunk proofs and 1 links"),
        "{verified}"
    );
    let evm = ok(&["verify", "--evm", arg(&dir), arg(&proof)]);
    assert!(evm.contains("gas: "), "{evm}");
    // One Solidity verifier per chunk; the directory itself has none.
    let sol = tmp.path().join("Verifier.sol");
    let e = fails(&["export-verifier", arg(&dir), "--out", arg(&sol)]);
    assert!(e.contains("chunked model") && e.contains("chunk-0"), "{e}");
    assert!(!sol.exists());
    ok(&[
        "export-verifier",
        arg(&dir.join("chunk-0")),
        "--out",
        arg(&sol),
    ]);
    assert!(sol.exists());
    // Too many chunks for the model's boundaries: a clear error naming the option.
    let e = fails(&[
        "compile",
        arg(&onnx),
        "--calibration",
        arg(&input),
        "--out",
        arg(&tmp.path().join("many")),
        "--chunks",
        "50",
    ]);
    assert!(
        e.contains("--chunks") && e.contains("valid boundaries"),
        "{e}"
    );
    assert!(
        !tmp.path().join("many").exists(),
        "a refused split writes nothing"
    );
    // Compiled again unsplit, the directory loses its stale manifest.
    ok(&[
        "compile",
        arg(&onnx),
        "--calibration",
        arg(&input),
        "--out",
        arg(&dir),
    ]);
    assert!(!dir.join("chunks.json").exists());
}

#[test]
fn an_interrupted_run_proves_only_the_missing_chunks() {
    let f = chunked_mlp(3);
    let state = f.dir.join("proof.json.parts");
    let input = |row| Input::File {
        path: &f.input,
        row,
    };
    let run = |row| {
        chunked::prove_chunks_with(
            &f.dir,
            &input(row),
            &Salt::Fresh,
            DeviceChoice::Cpu,
            2,
            Some(&state),
            &Quiet,
        )
        .unwrap()
    };
    let first = run(0);
    assert!(first.prove_s.iter().all(|s| *s > 0.0));
    // A crash after chunks 0 and 2: chunk 1's proof never reached the state directory.
    std::fs::remove_file(state.join("chunk-1.json")).unwrap();
    let again = run(0);
    assert_eq!(again.prove_s[0], 0.0);
    assert_eq!(again.prove_s[2], 0.0);
    assert!(again.prove_s[1] > 0.0);
    // The kept proofs and the new one share the first attempt's salt: the bundle verifies.
    assert_eq!(again.fresh_salt, first.fresh_salt);
    assert_eq!(again.bundle.chunks[0], first.bundle.chunks[0]);
    f.verify(&again.bundle).unwrap();
    // Another input: nothing is kept.
    let other = run(1);
    assert!(other.prove_s.iter().all(|s| *s > 0.0));
    f.verify(&other.bundle).unwrap();
}

#[test]
fn a_manifest_naming_other_directories_is_refused() {
    let f = chunked_mlp(2);
    let bundle = f.prove(0);
    let path = f.dir.join("chunks.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("\"chunk-1\"", "\"../elsewhere\"")).unwrap();
    let e = chunked::verify_chunks_in(&f.dir, &bundle, false).unwrap_err();
    assert!(matches!(e, PipelineError::KeyMismatch(_)), "{e}");
    assert!(e.to_string().contains("chunk-0, chunk-1"), "{e}");
}
