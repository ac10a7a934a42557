//! `zkinfer srs import` as a user drives it: an unpinned file is refused (no output), accepted
//! with `--allow-unpinned`, and the imported SRS sets up, proves and verifies the example with
//! a key that is not marked insecure. Damaged files give one-line errors and no output.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::cli::{fails, ok_both as ok, s};

#[test]
fn import_then_setup_prove_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let model = t.join("example.onnx");
    let input = t.join("input.json");
    std::fs::write(&model, zkinfer::example::model_bytes()).unwrap();
    std::fs::write(&input, zkinfer::example::input_json()).unwrap();
    let dir = t.join("build");
    ok(&[
        "compile",
        s(&model),
        "--calibration",
        s(&input),
        "--out",
        s(&dir),
    ]);
    let (plan, _) = ok(&["plan", s(&dir)]);
    let k: u32 = plan
        .strip_prefix("k = ")
        .and_then(|l| l.split_whitespace().next())
        .and_then(|k| k.parse().ok())
        .unwrap_or_else(|| panic!("no k in {plan}"));

    // A file in the external (perpetual-powers-of-tau-raw) layout, one k above the circuit's:
    // the payload of `srs gen`'s srs.bin after its 44-byte header and flags byte is exactly
    // halo2's RawBytes serialization.
    let generated = t.join("gen.bin");
    ok(&[
        "srs",
        "gen",
        "--k",
        &(k + 1).to_string(),
        "--out",
        s(&generated),
    ]);
    let external = std::fs::read(&generated).unwrap()[45..].to_vec();
    assert_eq!(&external[..4], &(k + 1).to_le_bytes());
    let ceremony = t.join("ceremony-raw");
    std::fs::write(&ceremony, &external).unwrap();
    let hash = hex::encode(zkinfer::ir::artifact::sha256(&external));

    // Not on the pinned list: refused, nothing written.
    let srs_bin = t.join("srs.bin");
    let import = ["srs", "import", s(&ceremony), "--out", s(&srs_bin)];
    let err = fails(&import);
    assert!(
        err.contains(&hash) && err.contains("--allow-unpinned"),
        "{err}"
    );
    assert!(!srs_bin.exists());

    // Allowed: written with the circuit's k, marked unpinned but not insecure.
    let k_arg = k.to_string();
    let mut allowed = import.to_vec();
    allowed.extend(["--allow-unpinned", "--k", &k_arg]);
    let (stdout, stderr) = ok(&allowed);
    assert!(stdout.contains(&hash), "{stdout}");
    assert!(stdout.contains(&format!("(k = {k})")), "{stdout}");
    assert!(stderr.contains("WARNING") && stderr.contains("not a known ceremony file"));
    assert!(stderr.contains("wrote"), "{stderr}");
    let loaded = zkinfer::prover::srs::read(&srs_bin).unwrap();
    assert_eq!(loaded.k(), k);
    assert!(!loaded.insecure && loaded.unpinned);

    // setup --srs with it; the key does not say insecure; prove and verify.
    let (_, setup_err) = ok(&["setup", s(&dir), "--srs", s(&srs_bin)]);
    assert!(setup_err.contains("--allow-unpinned"), "{setup_err}");
    let key = zkinfer::verifier::VerifierKey::read(&dir.join("vk.bin")).unwrap();
    assert!(!key.insecure_srs());
    let proof = t.join("proof.json");
    ok(&["prove", s(&dir), "--input", s(&input), "--out", s(&proof)]);
    let (verified, verify_err) = ok(&["verify", s(&dir.join("vk.bin")), s(&proof)]);
    assert!(verified.starts_with("verified"), "{verified}");
    assert!(!verify_err.contains("INSECURE"), "{verify_err}");

    // The raw ceremony file is not an srs.bin: setup says to import it.
    let err = fails(&["setup", s(&dir), "--srs", s(&ceremony)]);
    assert!(err.contains("srs import"), "{err}");
}

#[test]
fn damaged_files_are_named_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let generated = t.join("gen.bin");
    ok(&["srs", "gen", "--k", "5", "--out", s(&generated)]);
    let good = std::fs::read(&generated).unwrap()[45..].to_vec();
    let out = t.join("srs.bin");

    let mut truncated = good.clone();
    truncated.truncate(good.len() - 10);
    let mut trailing = good.clone();
    trailing.push(0);
    let mut wrong_k = good.clone();
    wrong_k[..4].copy_from_slice(&6u32.to_le_bytes());
    let mut flipped = good.clone();
    flipped[4 + 64 * 3 + 7] ^= 0x04;
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("truncated", truncated, "cut short"),
        ("trailing", trailing, "1 bytes after the end"),
        ("wrong_k", wrong_k, "k = 6"),
        ("flipped", flipped, "G1 power 3"),
    ];
    for (name, bytes, expect) in cases {
        let file = t.join(name);
        std::fs::write(&file, &bytes).unwrap();
        let err = fails(&[
            "srs",
            "import",
            s(&file),
            "--out",
            s(&out),
            "--allow-unpinned",
        ]);
        assert!(err.contains(expect) && err.contains(name), "{name}: {err}");
        assert_eq!(err.lines().filter(|l| l.contains("error:")).count(), 1);
        assert!(!out.exists(), "{name}");
    }
    let err = fails(&["srs", "import", s(&t.join("absent")), "--out", s(&out)]);
    assert!(err.contains("absent"), "{err}");
    assert!(!out.exists());
}
