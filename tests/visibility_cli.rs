//! Visibility through the CLI: `compile --input-visibility/--output-visibility/--param-visibility`,
//! `zkinfer hash`, `verify --expect-*-hash` (a hash off by one bit is refused), and the shared
//! models proved with everything hashed or private.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::cli::{fails, ok, s as arg};

use std::path::Path;

use zkinfer::ir::proof_file::ProofFile;

fn flip_low_bit(h: &str) -> String {
    let (head, last) = h.split_at(h.len() - 1);
    let digit = u8::from_str_radix(last, 16).unwrap() ^ 1;
    format!("{head}{digit:x}")
}

#[test]
fn the_cli_hashes_salts_and_checks_the_expected_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let fx = Path::new("tests/fixtures/ops/torch_mlp");
    let (onnx, input) = (fx.join("model.onnx"), fx.join("input.json"));
    let dir = tmp.path().join("build");
    let proof = tmp.path().join("proof.json");
    let bad = fails(&[
        "compile",
        arg(&onnx),
        "--calibration",
        arg(&input),
        "--out",
        arg(&dir),
        "--input-visibility",
        "secret",
    ]);
    assert!(bad.contains("`secret`"), "{bad}");
    ok(&[
        "compile",
        arg(&onnx),
        "--calibration",
        arg(&input),
        "--out",
        arg(&dir),
        "--input-visibility",
        "hashed",
        "--output-visibility",
        "hashed",
        "--param-visibility",
        "hashed",
    ]);
    ok(&["setup", arg(&dir), "--insecure-test-srs"]);
    // No --salt: a fresh one is drawn and written beside the proof.
    ok(&[
        "prove",
        arg(&dir),
        "--input",
        arg(&input),
        "--out",
        arg(&proof),
    ]);
    let salt = tmp.path().join("proof.json.salt");
    let json = std::fs::read_to_string(&proof).unwrap();
    let salt_text = std::fs::read_to_string(&salt).unwrap();
    assert!(
        !json.contains(salt_text.trim()),
        "the salt must not enter the proof"
    );
    // The data owner's hash, computed without any proof, is the proof's.
    let h = ok(&[
        "hash",
        arg(&dir),
        "--input",
        arg(&input),
        "--salt",
        arg(&salt),
    ]);
    let h = h.trim();
    assert!(json.contains(h), "{h} not in {json}");
    let vk = dir.join("vk.bin");
    ok(&["verify", arg(&vk), arg(&proof), "--expect-input-hash", h]);
    ok(&[
        "verify",
        "--evm",
        arg(&vk),
        arg(&proof),
        "--expect-input-hash",
        h,
    ]);
    // The output's commitment, as the proof file and `prove` show it.
    let out_hash = ProofFile::read(&proof).unwrap().output_hash.unwrap();
    let shown = ok(&[
        "verify",
        arg(&vk),
        arg(&proof),
        "--expect-output-hash",
        &out_hash,
    ]);
    assert!(shown.contains(&out_hash), "{shown}");
    let e = fails(&[
        "verify",
        arg(&vk),
        arg(&proof),
        "--expect-output-hash",
        &flip_low_bit(&out_hash),
    ]);
    assert!(e.contains("output hash"), "{e}");
    // The weights' commitment, printed before any proof, is the proof's.
    let params_hash = ok(&["hash", arg(&dir)]);
    let params_hash = params_hash.trim();
    assert!(json.contains(params_hash), "{params_hash} not in {json}");
    ok(&[
        "verify",
        arg(&vk),
        arg(&proof),
        "--expect-param-hash",
        params_hash,
    ]);
    let e = fails(&[
        "verify",
        arg(&vk),
        arg(&proof),
        "--expect-param-hash",
        &flip_low_bit(params_hash),
    ]);
    assert!(e.contains("param hash"), "{e}");
    // Another sample's hash is not this proof's.
    let other = ok(&[
        "hash",
        arg(&dir),
        "--input",
        arg(&input),
        "--row",
        "1",
        "--salt",
        arg(&salt),
    ]);
    let e = fails(&[
        "verify",
        arg(&vk),
        arg(&proof),
        "--expect-input-hash",
        other.trim(),
    ]);
    assert!(e.contains("not the expected"), "{e}");
    // Proving again with the same salt gives the same commitment.
    let again = tmp.path().join("again.json");
    ok(&[
        "prove",
        arg(&dir),
        "--input",
        arg(&input),
        "--out",
        arg(&again),
        "--salt",
        arg(&salt),
    ]);
    assert!(std::fs::read_to_string(&again).unwrap().contains(h));
    assert!(!tmp.path().join("again.json.salt").exists());
    // A bad salt file is a clear error and leaves no proof.
    let junk = tmp.path().join("junk.salt");
    std::fs::write(&junk, "not a field element").unwrap();
    let out = tmp.path().join("none.json");
    let e = fails(&[
        "prove",
        arg(&dir),
        "--input",
        arg(&input),
        "--out",
        arg(&out),
        "--salt",
        arg(&junk),
    ]);
    assert!(e.contains("junk.salt"), "{e}");
    assert!(!out.exists());
}

#[test]
fn the_cli_sets_and_checks_per_input_visibility() {
    let tmp = tempfile::tempdir().unwrap();
    let fx = Path::new("tests/fixtures/ops/two_inputs_two_outputs");
    let (onnx, input) = (fx.join("model.onnx"), fx.join("input.json"));
    let dir = tmp.path().join("build");
    let proof = tmp.path().join("proof.json");
    let compile = |spec: &str| {
        vec![
            "compile".to_string(),
            arg(&onnx).into(),
            "--calibration".into(),
            arg(&input).into(),
            "--out".into(),
            arg(&dir).into(),
            "--input-visibility".into(),
            spec.into(),
        ]
    };
    fn run(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    let e = fails(&run(&compile("a=hashed,mask=public")));
    assert!(e.contains("`mask`") && e.contains("a, b"), "{e}");
    let e = fails(&run(&compile("a=secret")));
    assert!(e.contains("`secret`"), "{e}");
    assert!(!dir.join("model.zkm").exists());
    ok(&run(&compile("b=private,a=hashed")));
    let plan = ok(&["plan", arg(&dir)]);
    assert!(plan.contains("input a hashed, b private"), "{plan}");
    ok(&["setup", arg(&dir), "--insecure-test-srs"]);
    ok(&[
        "prove",
        arg(&dir),
        "--input",
        arg(&input),
        "--out",
        arg(&proof),
    ]);
    let salt = tmp.path().join("proof.json.salt");
    let h = ok(&[
        "hash",
        arg(&dir),
        "--input",
        arg(&input),
        "--salt",
        arg(&salt),
    ]);
    let h = h.trim();
    assert!(h.starts_with("a=0x"), "{h}");
    let vk = dir.join("vk.bin");
    ok(&["verify", arg(&vk), arg(&proof), "--expect-input-hash", h]);
    let bare = h.trim_start_matches("a=");
    ok(&[
        "verify",
        "--evm",
        arg(&vk),
        arg(&proof),
        "--expect-input-hash",
        bare,
    ]);
    let e = fails(&[
        "verify",
        arg(&vk),
        arg(&proof),
        "--expect-input-hash",
        &flip_low_bit(bare),
    ]);
    assert!(e.contains("not the expected"), "{e}");
    let json = std::fs::read_to_string(&proof).unwrap();
    assert!(!json.contains("\"input\""), "{json}");
}

/// A shared reference model (optional) through compile, setup, prove, verify and
/// `verify --evm` with the visibility `flags`; every commitment the proof shows is checked
/// with its `--expect-*-hash` flag, the weights' against `zkinfer hash DIR`.
fn shared_model_in_mode(name: &str, flags: &[&str]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/models")
        .join(name);
    if !root.join("network.onnx").exists() {
        eprintln!("../shared/models/{name} not present; skipping");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (onnx, input) = (root.join("network.onnx"), root.join("input.json"));
    let dir = tmp.path().join("build");
    let proof = tmp.path().join("proof.json");
    let mut compile = vec![
        "compile",
        arg(&onnx),
        "--calibration",
        arg(&input),
        "--out",
        arg(&dir),
    ];
    compile.extend(flags);
    ok(&compile);
    ok(&["setup", arg(&dir), "--insecure-test-srs"]);
    ok(&[
        "prove",
        arg(&dir),
        "--input",
        arg(&input),
        "--out",
        arg(&proof),
    ]);
    let p = ProofFile::read(&proof).unwrap();
    let vk = dir.join("vk.bin");
    let mut verify = vec!["verify".to_string(), arg(&vk).into(), arg(&proof).into()];
    for (flag, hash) in [
        ("--expect-input-hash", &p.input_hash),
        ("--expect-output-hash", &p.output_hash),
        ("--expect-param-hash", &p.param_hash),
    ] {
        if let Some(h) = hash {
            verify.extend([flag.to_string(), h.clone()]);
        }
    }
    if let Some(h) = &p.param_hash {
        assert_eq!(ok(&["hash", arg(&dir)]).trim(), h);
    }
    let args: Vec<&str> = verify.iter().map(String::as_str).collect();
    ok(&args);
    let mut evm = args.clone();
    evm.insert(1, "--evm");
    ok(&evm);
}

#[test]
fn shared_mlp_small_with_everything_hashed() {
    shared_model_in_mode(
        "mlp_small",
        &[
            "--input-visibility",
            "hashed",
            "--output-visibility",
            "hashed",
            "--param-visibility",
            "hashed",
        ],
    );
}

#[test]
fn shared_cnn_mnist_with_everything_private() {
    shared_model_in_mode(
        "cnn_mnist",
        &[
            "--input-visibility",
            "private",
            "--output-visibility",
            "private",
            "--param-visibility",
            "private",
        ],
    );
}

#[test]
fn the_cli_proves_with_committed_parameters() {
    let tmp = tempfile::tempdir().unwrap();
    let fx = Path::new("tests/fixtures/ops/torch_mlp");
    let (onnx, input) = (fx.join("model.onnx"), fx.join("input.json"));
    let dir = tmp.path().join("build");
    let proof = tmp.path().join("proof.json");
    ok(&[
        "compile",
        arg(&onnx),
        "--calibration",
        arg(&input),
        "--out",
        arg(&dir),
        "--param-visibility",
        "committed",
    ]);
    let setup = ok(&["setup", arg(&dir), "--insecure-test-srs"]);
    let digest = setup
        .lines()
        .find_map(|l| l.strip_prefix("weight set digest: "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no digest in {setup}"))
        .to_string();
    assert_eq!(ok(&["hash", arg(&dir)]).trim(), digest);
    ok(&[
        "prove",
        arg(&dir),
        "--input",
        arg(&input),
        "--out",
        arg(&proof),
    ]);
    let p = ProofFile::read(&proof).unwrap();
    assert_eq!(p.param_hash.as_deref(), Some(digest.as_str()));
    assert!(!p.param_commitments.is_empty());
    let vk = dir.join("vk.bin");
    for evm in [false, true] {
        let mut args = vec!["verify", arg(&vk), arg(&proof), "--expect-param-hash"];
        args.push(&digest);
        if evm {
            args.insert(1, "--evm");
        }
        ok(&args);
    }
    let e = fails(&[
        "verify",
        arg(&vk),
        arg(&proof),
        "--expect-param-hash",
        &flip_low_bit(&digest),
    ]);
    assert!(e.contains("param hash"), "{e}");
    // The architecture key rebuilt from the compiled model is vk.bin.
    ok(&["verify", arg(&vk), arg(&proof), "--model", arg(&dir)]);
    // A contract pins one weight set: without a proof of it, a clear error and no file.
    let sol = tmp.path().join("Verifier.sol");
    let e = fails(&["export-verifier", arg(&dir), "--out", arg(&sol)]);
    assert!(e.contains("--weights-from"), "{e}");
    assert!(!sol.exists());
    ok(&[
        "export-verifier",
        arg(&dir),
        "--out",
        arg(&sol),
        "--weights-from",
        arg(&proof),
    ]);
    assert!(sol.exists());
}

#[test]
fn shared_cnn_mnist_with_committed_parameters() {
    shared_model_in_mode("cnn_mnist", &["--param-visibility", "committed"]);
}
