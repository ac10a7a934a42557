#!/usr/bin/env python3
"""EZKL 23.0.5 on the deep-model fixtures (tests/fixtures/deep/NAME), for the side-by-side columns
of BENCHMARKS.md "Deep models at default settings".

For each fixture it proves the first sample of `input.json` (the one `expected.json` holds
onnxruntime's output for) with EZKL's Python API: `gen_settings`, `calibrate_settings(target=
"resources")` on that sample, `compile_circuit`, `gen_srs` at the calibrated
logrows, `setup`, `gen_witness`, then one `prove` and `verify`. The preparation and the proof run
in two child processes, each under `/usr/bin/time` (wall seconds, peak RSS) and a time limit
(LIMIT seconds each, default 1800: the issue's 30 minutes). One Markdown row per model: EZKL's k,
setup s (settings to keys), prove s, prove peak RSS and the largest |output - onnxruntime|, or
where it stopped and why. Usage, from the repository root:

    python3 -m venv /tmp/ezvenv && /tmp/ezvenv/bin/pip install ezkl==23.0.5 onnx numpy
    /tmp/ezvenv/bin/python scripts/bench_ezkl_deep.py gpt_decoder_tiny resnet_tiny ...
"""

import asyncio
import inspect
import json
import os
import signal
import subprocess
import sys
import tempfile

ROOT = "tests/fixtures/deep"
LIMIT = int(os.environ.get("LIMIT", "1800"))


def wait(x):
    return asyncio.run(x) if inspect.isawaitable(x) else x


def graph_inputs(model):
    import onnx

    m = onnx.load(model)
    inits = {i.name for i in m.graph.initializer}
    return [i.name for i in m.graph.input if i.name not in inits]


def prepare(d, tmp):
    """Child: settings, calibration, circuit, SRS, keys and the witness of the first sample."""
    import ezkl

    model = os.path.join(d, "model.onnx")
    p = lambda f: os.path.join(tmp, f)  # noqa: E731
    with open(os.path.join(d, "input.json")) as f:
        lists = json.load(f)["input_data"]
    n = len(graph_inputs(model))
    with open(p("first.json"), "w") as f:
        json.dump({"input_data": lists[:n]}, f)
    ezkl.gen_settings(model, p("settings.json"))
    wait(ezkl.calibrate_settings(p("first.json"), model, p("settings.json"), "resources"))
    ezkl.compile_circuit(model, p("model.compiled"), p("settings.json"))
    with open(p("settings.json")) as f:
        k = json.load(f)["run_args"]["logrows"]
    ezkl.gen_srs(p("kzg.srs"), k)
    ezkl.setup(p("model.compiled"), p("vk.key"), p("pk.key"), p("kzg.srs"))
    wait(ezkl.gen_witness(p("first.json"), p("model.compiled"), p("witness.json")))


def prove(tmp):
    """Child: one proof, verified."""
    import ezkl

    p = lambda f: os.path.join(tmp, f)  # noqa: E731
    ezkl.prove(p("witness.json"), p("model.compiled"), p("pk.key"), p("proof.json"), p("kzg.srs"))
    if not ezkl.verify(p("proof.json"), p("settings.json"), p("vk.key"), p("kzg.srs")):
        raise RuntimeError("EZKL's proof did not verify")


def timed(step, *args):
    """Runs `step` in a child under /usr/bin/time and the limit: (seconds, peak GiB) or a reason."""
    tf = tempfile.NamedTemporaryFile(delete=False)
    cmd = ["/usr/bin/time", "-f", "%e %M", "-o", tf.name, sys.executable, __file__, f"--{step}", *args]
    # Its own process group, so that a timeout stops EZKL too, not only /usr/bin/time.
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, err = p.communicate(timeout=LIMIT)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        return None, f"{step} did not finish within {LIMIT} s"
    if p.returncode != 0:
        last = (err.strip().splitlines() or ["?"])[-1]
        return None, f"{step} failed: {last[:160]}"
    with open(tf.name) as f:
        s, kib = f.read().split()[-2:]
    return (float(s), int(kib) / 1048576), None


def bench(name):
    d = os.path.abspath(os.path.join(ROOT, name))
    with tempfile.TemporaryDirectory() as tmp:
        setup, why = timed("prepare", d, tmp)
        if why:
            return f"| {name} | {why} |"
        with open(os.path.join(tmp, "settings.json")) as f:
            k = json.load(f)["run_args"]["logrows"]
        pr, why = timed("prove", tmp)
        if why:
            return f"| {name} | {k} | {setup[0]:.1f} | {why} |"
        with open(os.path.join(tmp, "witness.json")) as f:
            outs = json.load(f)["pretty_elements"]["rescaled_outputs"]
        with open(os.path.join(d, "expected.json")) as f:
            want = [v for o in json.load(f)["outputs"] for v in o["values"]]
        got = [float(v) for o in outs for v in o]
        err = max(abs(g - w) for g, w in zip(got, want))
        return f"| {name} | {k} | {setup[0]:.1f} | {pr[0]:.1f} | {pr[1]:.2f} GiB | {err:.2e} |"


def main():
    if sys.argv[1:2] == ["--prepare"]:
        return prepare(*sys.argv[2:4])
    if sys.argv[1:2] == ["--prove"]:
        return prove(sys.argv[2])
    print("| model | EZKL k | EZKL setup s | EZKL prove s | EZKL prove peak RSS | EZKL error vs onnxruntime |")
    print("|---|---|---|---|---|---|")
    for name in sys.argv[1:]:
        print(bench(name), flush=True)


if __name__ == "__main__":
    main()
