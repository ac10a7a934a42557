//! The CLI as a user drives it: the four commands on the bundled example (and on the shared
//! reference models when `../shared` is present), clear errors, and no partial files.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::cli::{fails, ok, ok_both, s, with_closed_stdout};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// compile → setup → prove → verify → run for `model`; returns (dir, proof path).
fn full_flow(tmp: &Path, model: &Path, input: &Path) -> (PathBuf, PathBuf) {
    let dir = tmp.join("build");
    let proof = tmp.join("proof.json");
    ok(&[
        "compile",
        s(model),
        "--calibration",
        s(input),
        "--out",
        s(&dir),
    ]);
    for f in ["model.zkm", "report.json"] {
        assert!(dir.join(f).exists(), "{f}");
    }
    ok(&["setup", s(&dir), "--insecure-test-srs"]);
    ok(&["prove", s(&dir), "--input", s(input), "--out", s(&proof)]);
    let verified = ok(&["verify", s(&dir.join("vk.bin")), s(&proof)]);
    assert!(verified.starts_with("verified"), "{verified}");
    // The same proof through the Solidity verifier in the embedded EVM.
    let evm = ok(&["verify", "--evm", s(&dir.join("vk.bin")), s(&proof)]);
    assert!(evm.starts_with("verified (EVM)"), "{evm}");
    let gas: u64 = evm
        .lines()
        .find_map(|l| l.strip_prefix("gas: "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|g| g.parse().ok())
        .unwrap_or_else(|| panic!("no gas line in {evm}"));
    assert!((100_000..30_000_000).contains(&gas), "{gas}");
    let sol = tmp.join("Verifier.sol");
    let exported = ok(&["export-verifier", s(&dir), "--out", s(&sol)]);
    assert!(exported.contains("key contract"), "{exported}");
    let source = std::fs::read_to_string(&sol).unwrap();
    assert!(source.contains("contract ModelVerifier is ZkinferVerifier"));
    // `run` prints exactly the proven output.
    let run: Value = serde_json::from_str(&ok(&["run", s(&dir), "--input", s(input)])).unwrap();
    let proven: Value = serde_json::from_str(&std::fs::read_to_string(&proof).unwrap()).unwrap();
    assert_eq!(run["ints"], proven["output"]["ints"]);
    assert_eq!(run["floats"], proven["output"]["floats"]);
    let on_cpu = ["run", s(&dir), "--input", s(input), "--device", "cpu"];
    let run_cpu: Value = serde_json::from_str(&ok(&on_cpu)).unwrap();
    assert_eq!(run_cpu["ints"], proven["output"]["ints"]);
    #[cfg(not(feature = "cuda"))]
    {
        let err = fails(&["run", s(&dir), "--input", s(input), "--device", "cuda"]);
        assert!(err.contains("--features cuda"), "{err}");
        let out = tmp.join("never.json");
        let prove_cuda = [
            "prove",
            s(&dir),
            "--input",
            s(input),
            "--out",
            s(&out),
            "--device",
            "cuda",
        ];
        let err = fails(&prove_cuda);
        assert!(err.contains("device `cuda` is unavailable"), "{err}");
        assert!(!out.exists());
    }
    (dir, proof)
}

fn write_example(tmp: &Path) -> (PathBuf, PathBuf) {
    let model = tmp.join("example.onnx");
    let input = tmp.join("input.json");
    std::fs::write(&model, zkinfer::example::model_bytes()).unwrap();
    std::fs::write(&input, zkinfer::example::input_json()).unwrap();
    (model, input)
}

#[test]
fn example_flow_and_tampered_proof_files() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, input) = write_example(tmp.path());
    let (dir, proof) = full_flow(tmp.path(), &model, &input);
    let vk = dir.join("vk.bin");
    // A reader that stops early (`zkinfer plan dir | head -1`) ends the command quietly.
    for args in [vec!["plan", s(&dir)], vec!["verify", s(&vk), s(&proof)]] {
        let out = with_closed_stdout(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "zkinfer {args:?} with stdout closed: {stderr}"
        );
        assert!(
            stderr.is_empty(),
            "zkinfer {args:?} with stdout closed: {stderr}"
        );
    }
    let original: Value = serde_json::from_str(&std::fs::read_to_string(&proof).unwrap()).unwrap();
    let tampered = tmp.path().join("tampered.json");

    // One flipped byte of the proof.
    let mut p = original.clone();
    let mut bytes = hex::decode(p["proof"].as_str().unwrap()).unwrap();
    bytes[100] ^= 0x01;
    p["proof"] = Value::String(hex::encode(bytes));
    std::fs::write(&tampered, p.to_string()).unwrap();
    let err = fails(&["verify", s(&vk), s(&tampered)]);
    assert!(err.contains("proof rejected"), "{err}");
    let err = fails(&["verify", "--evm", s(&vk), s(&tampered)]);
    assert!(err.contains("EVM verifier rejected the proof"), "{err}");

    // One changed output value.
    let mut p = original.clone();
    p["output"]["ints"][0] = Value::from(p["output"]["ints"][0].as_i64().unwrap() + 1);
    std::fs::write(&tampered, p.to_string()).unwrap();
    let err = fails(&["verify", s(&vk), s(&tampered)]);
    assert!(err.contains("output") || err.contains("instances"), "{err}");

    // Not a proof at all.
    std::fs::write(&tampered, "{}").unwrap();
    fails(&["verify", s(&vk), s(&tampered)]);

    // Calldata: the instances as 32-byte words, then the proof bytes; raw and hex agree.
    let raw = tmp.path().join("calldata.bin");
    let text = tmp.path().join("calldata.hex");
    ok(&["encode-calldata", s(&proof), "--out", s(&raw)]);
    ok(&["encode-calldata", s(&proof), "--out", s(&text), "--hex"]);
    let data = std::fs::read(&raw).unwrap();
    let proof_bytes = hex::decode(original["proof"].as_str().unwrap()).unwrap();
    let instances = original["instances"].as_array().unwrap();
    assert_eq!(data.len(), 32 * instances.len() + proof_bytes.len());
    assert_eq!(hex::encode(&data[..32]), instances[0].as_str().unwrap());
    assert!(data.ends_with(&proof_bytes));
    let hex_text = std::fs::read_to_string(&text).unwrap();
    assert_eq!(hex_text.trim(), format!("0x{}", hex::encode(&data)));
    fails(&[
        "encode-calldata",
        s(&tampered),
        "--out",
        s(&tmp.path().join("never.bin")),
    ]);
    assert!(!tmp.path().join("never.bin").exists());

    // export-verifier: a missing or damaged key is named and leaves no file.
    let never = tmp.path().join("never.sol");
    let err = fails(&[
        "export-verifier",
        s(&tmp.path().join("nothing")),
        "--out",
        s(&never),
    ]);
    assert!(err.contains("nothing"), "{err}");
    fails(&["export-verifier", s(&proof), "--out", s(&never)]);
    assert!(!never.exists());
}

#[test]
fn mismatched_artifacts_are_named_before_any_cryptography() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, input) = write_example(tmp.path());
    let (dir, proof) = full_flow(tmp.path(), &model, &input);
    // A second compile of the same model at another scale is another model.
    let other = tmp.path().join("other");
    ok(&[
        "compile",
        s(&model),
        "--calibration",
        s(&input),
        "--out",
        s(&other),
        "--scale",
        "12",
    ]);
    ok(&["setup", s(&other), "--insecure-test-srs"]);
    let err = fails(&["verify", s(&other.join("vk.bin")), s(&proof)]);
    assert!(err.contains("is for model"), "{err}");
    // A proving key from another model.
    std::fs::copy(other.join("pk.bin"), dir.join("pk.bin")).unwrap();
    let out = tmp.path().join("p2.json");
    let err = fails(&["prove", s(&dir), "--input", s(&input), "--out", s(&out)]);
    assert!(err.contains("belongs to model"), "{err}");
    assert!(!out.exists(), "no partial proof file");
    // A VK passed where a proof is expected, and vice versa.
    fails(&["verify", s(&proof), s(&proof)]);
}

#[test]
fn bad_inputs_give_clear_errors_and_no_files() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, input) = write_example(tmp.path());
    let dir = tmp.path().join("build");
    ok(&[
        "compile",
        s(&model),
        "--calibration",
        s(&input),
        "--out",
        s(&dir),
    ]);
    ok(&["setup", s(&dir), "--insecure-test-srs"]);
    let out = tmp.path().join("proof.json");

    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, r#"{"input_data": [[1, 2, 3]]}"#).unwrap();
    let err = fails(&["prove", s(&dir), "--input", s(&bad), "--out", s(&out)]);
    assert!(err.contains("needs 16"), "{err}");
    std::fs::write(
        &bad,
        r#"{"input_data": [[1e6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]}"#,
    )
    .unwrap();
    let err = fails(&["prove", s(&dir), "--input", s(&bad), "--out", s(&out)]);
    assert!(err.contains("outside the compiled range"), "{err}");
    std::fs::write(&bad, "not json").unwrap();
    fails(&["prove", s(&dir), "--input", s(&bad), "--out", s(&out)]);
    assert!(!out.exists(), "no partial proof file");

    // An ONNX op we do not support: the error names the op and the node; nothing is written.
    let unsupported = tmp.path().join("nms.onnx");
    {
        use zkinfer::compiler::onnx::encode::{graph, model_bytes, node, value_info_fixed};
        let bytes = model_bytes(graph(
            vec![node(
                "NonMaxSuppression",
                "/post/NonMaxSuppression",
                &["x"],
                &["y"],
                vec![],
            )],
            vec![],
            value_info_fixed("x", &[1, 16]),
            value_info_fixed("y", &[1, 16]),
        ));
        std::fs::write(&unsupported, bytes).unwrap();
    }
    let empty = tmp.path().join("never");
    let err = fails(&[
        "compile",
        s(&unsupported),
        "--calibration",
        s(&input),
        "--out",
        s(&empty),
    ]);
    assert!(
        err.contains("NonMaxSuppression") && err.contains("/post/NonMaxSuppression"),
        "{err}"
    );
    assert!(!empty.exists(), "nothing written for a failed compile");
    std::fs::write(&unsupported, b"\x08\x01garbage").unwrap();
    fails(&[
        "compile",
        s(&unsupported),
        "--calibration",
        s(&input),
        "--out",
        s(&tmp.path().join("x")),
    ]);
    fails(&["setup", s(&tmp.path().join("missing"))]);
}

/// One shared reference model (optional): all commands succeed, `run` equals the proof's
/// output, the argmax agrees with onnxruntime's, and the output is within the reported error
/// of onnxruntime's and within twice EZKL's error for the same model.
fn shared_model_matches_onnxruntime(name: &str, twice_ezkl: f64) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/models")
        .join(name);
    if !root.join("network.onnx").exists() {
        eprintln!("../shared/models/{name} not present; skipping");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (dir, proof) = full_flow(
        tmp.path(),
        &root.join("network.onnx"),
        &root.join("input.json"),
    );
    let proven: Value = serde_json::from_str(&std::fs::read_to_string(proof).unwrap()).unwrap();
    let ort: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("ort_output.json")).unwrap())
            .unwrap();
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let reported = report["accuracy"]["output_max_abs_error"].as_f64().unwrap();
    let ours: Vec<f64> = proven["output"]["floats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let theirs: Vec<f64> = ort["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(ours.len(), theirs.len());
    let err = ours
        .iter()
        .zip(&theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    eprintln!("{name}: max |ours - onnxruntime| = {err:.3e} (reported {reported:.3e})");
    // onnxruntime runs in f32, our reference in f64: allow f32 rounding on top of the report.
    assert!(
        err <= reported + 1e-5,
        "{name}: error vs onnxruntime {err:e} exceeds the reported {reported:e}"
    );
    assert!(
        err < twice_ezkl,
        "{name}: {err:e}, 2x EZKL is {twice_ezkl:e}"
    );
    if ours.len() > 1 {
        let argmax = |v: &[f64]| zkinfer::compiler::quantize::argmax(v);
        assert_eq!(argmax(&ours), argmax(&theirs), "{name}: argmax");
    }
}

#[test]
fn shared_mlp_small_matches_onnxruntime() {
    shared_model_matches_onnxruntime("mlp_small", 6.6e-4);
}

#[test]
fn shared_cnn_mnist_matches_onnxruntime() {
    shared_model_matches_onnxruntime("cnn_mnist", 1.8e-4);
}

#[test]
fn shared_mlp_sigmoid_matches_onnxruntime() {
    shared_model_matches_onnxruntime("mlp_sigmoid", 2.8e-4);
}

#[test]
fn shared_tiny_transformer_matches_onnxruntime() {
    shared_model_matches_onnxruntime("tiny_transformer", 1.58e-3);
}

/// A table argument outside its calibrated domain at prove time: a one-line error naming the
/// node, the value and the domain, a non-zero exit, and no proof file.
#[test]
fn table_argument_outside_the_calibrated_domain_is_named() {
    use zkinfer::compiler::onnx::encode::{
        float_tensor, graph, model_bytes, node, value_info_fixed,
    };
    let tmp = tempfile::tempdir().unwrap();
    // y = tanh(x0 - x1): calibrated where x0 = x1, so the table covers a narrow domain.
    let model = tmp.path().join("tanh.onnx");
    let bytes = model_bytes(graph(
        vec![
            node("MatMul", "/diff", &["x", "w"], &["d"], vec![]),
            node("Tanh", "/act/Tanh", &["d"], &["y"], vec![]),
        ],
        vec![float_tensor("w", &[2, 1], &[1.0, -1.0])],
        value_info_fixed("x", &[1, 2]),
        value_info_fixed("y", &[1, 1]),
    ));
    std::fs::write(&model, bytes).unwrap();
    let calib = tmp.path().join("calib.json");
    std::fs::write(&calib, r#"{"input_data": [[0.5, 0.5], [-0.25, -0.25]]}"#).unwrap();
    let dir = tmp.path().join("build");
    ok(&[
        "compile",
        s(&model),
        "--calibration",
        s(&calib),
        "--out",
        s(&dir),
    ]);
    ok(&["setup", s(&dir), "--insecure-test-srs"]);
    let wide = tmp.path().join("wide.json");
    std::fs::write(&wide, r#"{"input_data": [[0.5, -0.5]]}"#).unwrap();
    let out = tmp.path().join("proof.json");
    let err = fails(&["prove", s(&dir), "--input", s(&wide), "--out", s(&out)]);
    assert!(
        err.contains("`/act/Tanh`")
            && err.contains("tanh table's domain")
            && err.contains("recompile"),
        "{err}"
    );
    assert!(
        !out.exists(),
        "no proof file for an input outside the domain"
    );
    // Inside the domain the same model proves.
    let inside = tmp.path().join("inside.json");
    std::fs::write(&inside, r#"{"input_data": [[0.1, 0.1]]}"#).unwrap();
    ok(&["prove", s(&dir), "--input", s(&inside), "--out", s(&out)]);
    assert!(ok(&["verify", s(&dir.join("vk.bin")), s(&out)]).starts_with("verified"));
}

#[test]
fn a_large_function_table_is_interpolated_and_still_proves() {
    // The tanh fixture's plain table at the finest scale has 63,550 rows (k = 16); the
    // compile search replaces it with two interpolation tables of under a thousand rows,
    // no less accurate, and the result proves and verifies.
    let tmp = tempfile::tempdir().unwrap();
    let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ops/tanh");
    let (onnx, input) = (fx.join("model.onnx"), fx.join("input.json"));
    let (dir, _) = full_flow(tmp.path(), &onnx, &input);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let bits = report["interpolation_bits"]["Tanh#0"].as_u64().unwrap();
    assert!(bits >= 4, "{report}");
    let k = report["plan"]["params"]["k"].as_u64().unwrap();
    assert!(k <= 12, "k = {k}");
    let chosen = report["accuracy"]["output_max_abs_error"].as_f64().unwrap();
    let plain_best = report["search"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["interpolation_bits"].is_null())
        .map(|c| c["output_max_abs_error"].as_f64().unwrap())
        .fold(f64::INFINITY, f64::min);
    assert!(chosen <= plain_best, "{chosen} > {plain_best}");
}

#[test]
fn demo_runs_a_bundled_model_by_name_and_names_the_choices_otherwise() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    let (stdout, stderr) = ok_both(&["demo", "--model", "cnn", "--out", s(&out)]);
    let said = format!("{stdout}{stderr}");
    assert!(
        said.contains("bundled model `cnn`") && said.contains("verified (EVM)"),
        "{said}"
    );
    assert!(out.join("cnn.onnx").exists() && out.join("Verifier.sol").exists());
    let e = fails(&["demo", "--model", "lstm", "--out", s(&tmp.path().join("x"))]);
    assert!(
        e.contains("`lstm`") && e.contains("mlp, cnn, transformer, trees"),
        "{e}"
    );
    assert!(
        !tmp.path().join("x").exists(),
        "nothing written for an unknown model"
    );
}
