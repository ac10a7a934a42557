//! Running the `zkinfer` binary as a user does, for the CLI tests.

use std::path::Path;
use std::process::{Command, Output};

/// Runs `zkinfer args`.
pub fn zkinfer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(args)
        .output()
        .expect("run zkinfer")
}

/// Runs a command that must succeed; returns (stdout, stderr).
pub fn ok_both(args: &[&str]) -> (String, String) {
    let out = zkinfer(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "zkinfer {args:?} failed: {stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

/// Runs a command that must succeed; returns stdout.
pub fn ok(args: &[&str]) -> String {
    ok_both(args).0
}

/// Runs a command that must fail with a clean error, not a panic; returns (stderr, stdout).
pub fn fails_both(args: &[&str]) -> (String, String) {
    let out = zkinfer(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "zkinfer {args:?} should fail");
    assert!(stderr.contains("error:"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    (stderr, String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs a command that must fail with a clean error; returns stderr.
pub fn fails(args: &[&str]) -> String {
    fails_both(args).0
}

/// A path as the `&str` an argument list takes.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Runs `zkinfer args` with its stdout a pipe whose reader has already gone
/// (`zkinfer plan dir | head -0`).
pub fn with_closed_stdout(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run zkinfer");
    drop(child.stdout.take());
    child.wait_with_output().expect("wait for zkinfer")
}
