//! The model identity is the key digest, a cryptographic fact: `verify --model DIR` rebuilds
//! the verifying key from the compiled model and its SRS and accepts the proof only when the
//! digests match. `setup`, `verify` and `export-verifier` print the same digest.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::cli::{fails_both as fails, ok, s};
use std::path::{Path, PathBuf};

/// The `key digest: 0x…` value a command printed.
fn digest(stdout: &str) -> String {
    let d = stdout
        .lines()
        .find_map(|l| l.strip_prefix("key digest: "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no key digest in {stdout}"))
        .to_string();
    assert!(
        d.len() == 66 && d.starts_with("0x") && d[2..].chars().all(|c| c.is_ascii_hexdigit()),
        "{d}"
    );
    d
}

/// compile (with `extra` flags) → setup with a fresh test SRS → prove, in `tmp/name`.
/// Returns the directory, the proof and the digest `setup` printed.
fn build(tmp: &Path, name: &str, extra: &[&str]) -> (PathBuf, PathBuf, String) {
    let model = tmp.join("example.onnx");
    let input = tmp.join("input.json");
    if !model.exists() {
        std::fs::write(&model, zkinfer::example::model_bytes()).unwrap();
        std::fs::write(&input, zkinfer::example::input_json()).unwrap();
    }
    let dir = tmp.join(name);
    let mut args = vec![
        "compile",
        s(&model),
        "--calibration",
        s(&input),
        "--out",
        s(&dir),
    ];
    args.extend(extra);
    ok(&args);
    let setup = ok(&["setup", s(&dir), "--insecure-test-srs"]);
    let proof = tmp.join(format!("{name}.json"));
    ok(&["prove", s(&dir), "--input", s(&input), "--out", s(&proof)]);
    (dir, proof, digest(&setup))
}

#[test]
fn verify_model_accepts_the_right_dir_and_names_both_digests_otherwise() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, proof, setup_digest) = build(tmp.path(), "build", &[]);
    let vk = dir.join("vk.bin");

    // The right compiled model: verified, with the digest setup printed.
    let out = ok(&["verify", s(&vk), s(&proof), "--model", s(&dir)]);
    assert!(out.starts_with("verified"), "{out}");
    assert_eq!(digest(&out), setup_digest);
    // Plain verify and the EVM path print the same digest; so does export-verifier.
    assert_eq!(digest(&ok(&["verify", s(&vk), s(&proof)])), setup_digest);
    let evm = ok(&["verify", "--evm", s(&vk), s(&proof), "--model", s(&dir)]);
    assert!(evm.starts_with("verified (EVM)"), "{evm}");
    assert_eq!(digest(&evm), setup_digest);
    let sol = tmp.path().join("Verifier.sol");
    let exported = ok(&["export-verifier", s(&dir), "--out", s(&sol)]);
    assert_eq!(digest(&exported), setup_digest);
    assert!(std::fs::read_to_string(&sol)
        .unwrap()
        .contains(&setup_digest));
    // The model.zkm path works as well as its directory.
    ok(&[
        "verify",
        s(&vk),
        s(&proof),
        "--model",
        s(&dir.join("model.zkm")),
    ]);

    // A different model (same ONNX at another scale: other weights in the fixed columns). Its
    // key and proof agree, so it verifies alone; against `dir` it is refused.
    let (other, other_proof, other_digest) = build(tmp.path(), "other", &["--scale", "12"]);
    assert_ne!(other_digest, setup_digest);
    let other_vk = other.join("vk.bin");
    assert!(ok(&["verify", s(&other_vk), s(&other_proof)]).starts_with("verified"));
    for evm in [false, true] {
        let mut args = vec!["verify", s(&other_vk), s(&other_proof), "--model", s(&dir)];
        if evm {
            args.push("--evm");
        }
        let (err, stdout) = fails(&args);
        assert!(err.contains("key digest mismatch"), "{err}");
        assert!(
            err.contains(&other_digest) && err.contains(&setup_digest),
            "{err}"
        );
        assert!(!stdout.contains("verified"), "{stdout}");
    }

    // The same compiled model set up with another SRS is another key.
    let resetup = tmp.path().join("resetup");
    std::fs::create_dir(&resetup).unwrap();
    std::fs::copy(dir.join("model.zkm"), resetup.join("model.zkm")).unwrap();
    let resetup_digest = digest(&ok(&["setup", s(&resetup), "--insecure-test-srs"]));
    assert_ne!(resetup_digest, setup_digest);
    let resetup_proof = tmp.path().join("resetup.json");
    let input = tmp.path().join("input.json");
    ok(&[
        "prove",
        s(&resetup),
        "--input",
        s(&input),
        "--out",
        s(&resetup_proof),
    ]);
    let resetup_vk = resetup.join("vk.bin");
    let (err, _) = fails(&[
        "verify",
        s(&resetup_vk),
        s(&resetup_proof),
        "--model",
        s(&dir),
    ]);
    assert!(
        err.contains("key digest mismatch")
            && err.contains(&resetup_digest)
            && err.contains(&setup_digest),
        "{err}"
    );
    // With the SRS it was set up with, it is that model's key.
    let out = ok(&[
        "verify",
        s(&resetup_vk),
        s(&resetup_proof),
        "--model",
        s(&dir),
        "--srs",
        s(&resetup.join("srs.bin")),
    ]);
    assert_eq!(digest(&out), resetup_digest);

    // A key whose labels were edited keeps its halo2 digest, but its labels digest (the last
    // public value, fixed in the circuit) no longer matches: verify alone refuses it.
    let relabelled = tmp.path().join("relabelled.bin");
    let bytes = std::fs::read(&vk).unwrap();
    let label = b"\"source_sha256\":\"";
    let at = bytes.windows(label.len()).position(|w| w == label).unwrap() + label.len();
    let mut edited = bytes.clone();
    edited[at..at + 64].copy_from_slice(&[b'0'; 64]);
    std::fs::write(&relabelled, &edited).unwrap();
    let (alone, _) = fails(&["verify", s(&relabelled), s(&proof)]);
    assert!(alone.contains("other labels"), "{alone}");
    let (err, _) = fails(&["verify", s(&relabelled), s(&proof), "--model", s(&dir)]);
    assert!(err.contains("source_sha256"), "{err}");
}

#[test]
fn verify_model_needs_the_compiled_dir_and_checks_the_onnx_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, proof, setup_digest) = build(tmp.path(), "build", &[]);
    let vk = dir.join("vk.bin");
    let onnx = tmp.path().join("example.onnx");

    // An ONNX file is not a compiled model: the error says why and what to pass.
    let (err, _) = fails(&["verify", s(&vk), s(&proof), "--model", s(&onnx)]);
    assert!(
        err.contains("directory written by `zkinfer compile`") && err.contains("calibration"),
        "{err}"
    );
    // The compiled dir plus the source file: its SHA-256 is the one the model records.
    let out = ok(&[
        "verify",
        s(&vk),
        s(&proof),
        "--model",
        s(&dir),
        "--onnx",
        s(&onnx),
    ]);
    assert!(out.starts_with("verified"), "{out}");
    assert_eq!(digest(&out), setup_digest);
    // Another file is refused, naming both hashes.
    let wrong = tmp.path().join("wrong.onnx");
    let mut bytes = std::fs::read(&onnx).unwrap();
    bytes.push(0);
    std::fs::write(&wrong, &bytes).unwrap();
    let (err, stdout) = fails(&[
        "verify",
        s(&vk),
        s(&proof),
        "--model",
        s(&dir),
        "--onnx",
        s(&wrong),
    ]);
    assert!(
        err.contains("was compiled from a file with SHA-256"),
        "{err}"
    );
    assert!(!stdout.contains("verified"), "{stdout}");

    // No SRS next to the model and none given: a clear error.
    let bare = tmp.path().join("bare");
    std::fs::create_dir(&bare).unwrap();
    std::fs::copy(dir.join("model.zkm"), bare.join("model.zkm")).unwrap();
    let (err, _) = fails(&["verify", s(&vk), s(&proof), "--model", s(&bare)]);
    assert!(err.contains("--srs"), "{err}");
    // A missing path.
    let (err, _) = fails(&[
        "verify",
        s(&vk),
        s(&proof),
        "--model",
        s(&tmp.path().join("nowhere")),
    ]);
    assert!(err.contains("nowhere"), "{err}");
}
