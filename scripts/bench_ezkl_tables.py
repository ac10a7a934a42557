#!/usr/bin/env python3
"""zkinfer and EZKL side by side, in one run, on the op fixtures that use a function table.

For each fixture (tests/fixtures/ops/NAME, or every fixture whose zkinfer plan has a function
table when no name is given) it runs, one after the other on the same machine:

- zkinfer: `compile` (default settings), `setup --insecure-test-srs`, one `prove`, then
  `bench --runs 3` (the median prove time, witness and key loading included);
- EZKL (Python API): `gen_settings`, `calibrate_settings(target="resources")`, `compile_circuit`,
  `gen_srs` at the calibrated logrows, `setup`, `gen_witness`, then three timed `prove` calls
  (median; key loading included);

and prints one Markdown row: k, median prove seconds and the largest |output - onnxruntime| for
both, and EZKL's time over zkinfer's. Usage, from the repository root:

    python3 -m venv /tmp/ezvenv && /tmp/ezvenv/bin/pip install ezkl==23.0.5 onnx numpy
    cargo build --release
    /tmp/ezvenv/bin/python scripts/bench_ezkl_tables.py target/release/zkinfer [NAME...] > table.md

OLD=path/to/another/zkinfer adds that binary's k and error as a "before" column (one proof,
untimed). SKIP_EZKL=1 leaves EZKL out and TIMED=0 skips the timed proofs: with both, a quick
table of k and error per fixture for one binary. ROOT=../shared/models runs the shared models
instead (`network.onnx`, onnxruntime's output in `ort_output.json`), for example

    ROOT=../shared/models OLD=old/zkinfer /tmp/ezvenv/bin/python scripts/bench_ezkl_tables.py \
        target/release/zkinfer mlp_small mlp_medium cnn_mnist tiny_transformer
"""

import asyncio
import inspect
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.environ.get("ROOT", "tests/fixtures/ops")


def model_file(d):
    """The fixture's ONNX file: `model.onnx`, or `network.onnx` in the shared models."""
    m = os.path.join(d, "model.onnx")
    return m if os.path.exists(m) else os.path.join(d, "network.onnx")


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{r.stdout}\n{r.stderr}")
    return r.stdout + r.stderr


def expected(name):
    """The fixture's description and onnxruntime's flat output values."""
    d = os.path.join(ROOT, name)
    if not os.path.exists(os.path.join(d, "expected.json")):
        with open(os.path.join(d, "ort_output.json")) as f:
            e = json.load(f)
        return {"ops": ["shared model"]}, e["output"]
    with open(os.path.join(d, "expected.json")) as f:
        e = json.load(f)
    return e, [v for o in e["outputs"] for v in o["values"]]


def max_err(got, want):
    return max(abs(float(g) - w) for g, w in zip(got, want))


def zkinfer(zk, name, tmp, timed=True):
    """k, median prove seconds (None untimed), max error and function-table rows of a binary."""
    d = os.path.join(ROOT, name)
    build = os.path.join(tmp, "build")
    inp = os.path.join(d, "input.json")
    run([zk, "compile", model_file(d), "--calibration", inp, "--out", build])
    with open(os.path.join(build, "report.json")) as f:
        plan = json.load(f)["plan"]
    run([zk, "setup", build, "--insecure-test-srs"])
    proof = os.path.join(tmp, "proof.json")
    run([zk, "prove", build, "--input", inp, "--out", proof])
    prove_s = None
    if timed:
        bench = run([zk, "bench", build, "--input", inp, "--runs", "3"])
        prove_s = float(re.search(r"prove_s \(median of \d+\): ([0-9.]+)", bench).group(1))
    with open(proof) as f:
        got = json.load(f)["output"]["floats"]
    return plan["params"]["k"], prove_s, max_err(got, expected(name)[1]), plan["fn_table_rows"]


def wait(x):
    return asyncio.run(x) if inspect.isawaitable(x) else x


def ezkl_side(name, tmp):
    """EZKL's k, median prove seconds and max error on the fixture."""
    import ezkl

    d = os.path.abspath(os.path.join(ROOT, name))
    model, data = model_file(d), os.path.join(d, "input.json")
    p = lambda f: os.path.join(tmp, f)  # noqa: E731
    ezkl.gen_settings(model, p("settings.json"))
    wait(ezkl.calibrate_settings(data, model, p("settings.json"), "resources"))
    with open(p("settings.json")) as f:
        k = json.load(f)["run_args"]["logrows"]
    ezkl.compile_circuit(model, p("model.compiled"), p("settings.json"))
    ezkl.gen_srs(p("kzg.srs"), k)
    ezkl.setup(p("model.compiled"), p("vk.key"), p("pk.key"), p("kzg.srs"))
    wait(ezkl.gen_witness(data, p("model.compiled"), p("witness.json")))
    times = []
    for _ in range(3):
        t = time.perf_counter()
        ezkl.prove(p("witness.json"), p("model.compiled"), p("pk.key"), p("proof.json"), p("kzg.srs"))
        times.append(time.perf_counter() - t)
    if not ezkl.verify(p("proof.json"), p("settings.json"), p("vk.key"), p("kzg.srs")):
        raise RuntimeError("EZKL's proof did not verify")
    with open(p("witness.json")) as f:
        outs = json.load(f)["pretty_elements"]["rescaled_outputs"]
    got = [v for o in outs for v in o]
    return k, statistics.median(times), max_err(got, expected(name)[1])


def main():
    zk = sys.argv[1]
    old = os.environ.get("OLD")
    timed = os.environ.get("TIMED", "1") != "0"
    with_ezkl = os.environ.get("SKIP_EZKL", "0") != "1"
    names = sys.argv[2:] or sorted(n for n in os.listdir(ROOT) if os.path.exists(os.path.join(ROOT, n, "model.onnx")))
    head = "| model | ops |"
    if old:
        head += " before: k / error |"
    head += " zkinfer k | zkinfer prove s | zkinfer error |"
    if with_ezkl:
        head += " EZKL k | EZKL prove s | EZKL error | EZKL / zkinfer |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for name in names:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                k, s, err, fn_rows = zkinfer(zk, name, tmp, timed)
            except RuntimeError as e:
                print(f"| {name} | zkinfer failed: {str(e).splitlines()[0]} |", flush=True)
                continue
        if not sys.argv[2:] and fn_rows == 0:
            continue
        ops = ", ".join(expected(name)[0]["ops"])
        row = f"| {name} | {ops} |"
        if old:
            with tempfile.TemporaryDirectory() as tmp:
                ok, _, oerr, _ = zkinfer(old, name, tmp, timed=False)
            row += f" {ok} / {oerr:.1e} |"
        row += f" {k} | {'-' if s is None else f'{s:.3f}'} | {err:.1e} |"
        if not with_ezkl:
            print(row, flush=True)
            continue
        with tempfile.TemporaryDirectory() as tmp:
            try:
                ek, es, eerr = ezkl_side(name, tmp)
                ratio = "-" if s is None else f"{es / s:.1f}x"
                row += f" {ek} | {es:.2f} | {eerr:.1e} | {ratio} |"
            except BaseException as e:  # EZKL refuses some ops, or panics (pyo3's PanicException)
                if isinstance(e, KeyboardInterrupt):
                    raise
                row += f" EZKL failed: {str(e).splitlines()[0][:80]} | | | |"
        print(row, flush=True)


if __name__ == "__main__":
    main()
