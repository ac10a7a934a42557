#!/usr/bin/env python3
"""Proves every op fixture with a zkinfer binary and prints the BENCHMARKS.md table:
model, ops, k, prove time (median of `bench --runs`), and the largest |proven - onnxruntime|.

    cargo build --release
    python3 scripts/bench_fixtures.py target/release/zkinfer [tests/fixtures/ops [NAME...]] > table.md

With names, only those fixtures are run.
"""

import json
import os
import re
import subprocess
import sys
import tempfile


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stdout}\n{r.stderr}")
    return r.stdout + r.stderr


def main():
    zk = sys.argv[1]
    root = sys.argv[2] if len(sys.argv) > 2 else "tests/fixtures/ops"
    only = set(sys.argv[3:])
    print("| model | ops | k | prove s | max abs error vs onnxruntime |")
    print("|---|---|---|---|---|")
    for name in sorted(os.listdir(root)):
        d = os.path.join(root, name)
        if not os.path.exists(os.path.join(d, "model.onnx")) or (only and name not in only):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            build = os.path.join(tmp, "build")
            inp = os.path.join(d, "input.json")
            run([zk, "compile", os.path.join(d, "model.onnx"), "--calibration", inp, "--out", build])
            run([zk, "setup", build, "--insecure-test-srs"])
            proof = os.path.join(tmp, "proof.json")
            run([zk, "prove", build, "--input", inp, "--out", proof])
            bench = run([zk, "bench", build, "--input", inp, "--runs", "3"])
            prove_s = float(re.search(r"prove_s \(median of \d+\): ([0-9.]+)", bench).group(1))
            k = json.load(open(os.path.join(build, "report.json")))["plan"]["params"]["k"]
            got = json.load(open(proof))["output"]["floats"]
        expected = json.load(open(os.path.join(d, "expected.json")))
        want = [v for o in expected["outputs"] for v in o["values"]]
        err = max(abs(g - w) for g, w in zip(got, want))
        ops = ", ".join(expected["ops"])
        print(f"| {name} | {ops} | {k} | {prove_s:.3f} | {err:.1e} |", flush=True)


if __name__ == "__main__":
    main()
