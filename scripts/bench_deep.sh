#!/bin/bash
# bench_deep.sh NAME...: compile (default settings), set up, prove and verify (offline and in the EVM) each
# fixture of tests/fixtures/deep with the release binary; prints one BENCHMARKS.md table row per model.
# Work files in /tmp/bd. Columns: scale, k, rows, calibrated-bound rows, compile s, setup s, prove s,
# prove peak RSS, reported error, error vs onnxruntime, max|output|, argmax agrees, verify gas.
Z=${ZKINFER:-target/release/zkinfer}
cd "$(dirname "$0")/.."
for n in "$@"; do
  d=/tmp/bd/$n; f=tests/fixtures/deep/$n; rm -rf $d; mkdir -p /tmp/bd
  /usr/bin/time -f "%e %M" -o /tmp/bd/$n.ct $Z compile $f/model.onnx --calibration $f/input.json --out $d > /tmp/bd/$n.compile.log 2>&1 || { echo "$n compile failed: $(grep -i error /tmp/bd/$n.compile.log | head -2)"; continue; }
  /usr/bin/time -f "%e %M" -o /tmp/bd/$n.st $Z setup $d --insecure-test-srs > /tmp/bd/$n.setup.log 2>&1 || { echo "$n setup failed"; continue; }
  /usr/bin/time -f "%e %M" -o /tmp/bd/$n.pt $Z prove $d --input $f/input.json --out $d/proof.json > /tmp/bd/$n.prove.log 2>&1 || { echo "$n prove failed: $(tail -2 /tmp/bd/$n.prove.log)"; continue; }
  $Z verify $d/vk.bin $d/proof.json > /tmp/bd/$n.verify.log 2>&1 || { echo "$n verify failed"; continue; }
  $Z verify $d/vk.bin $d/proof.json --evm > /tmp/bd/$n.evm.log 2>&1 || { echo "$n evm failed: $(tail -2 /tmp/bd/$n.evm.log)"; continue; }
  python3 - $n <<'PY'
import json, sys
n = sys.argv[1]; d = f"/tmp/bd/{n}"
r = json.load(open(f"{d}/report.json")); p = json.load(open(f"{d}/proof.json"))
e = json.load(open(f"tests/fixtures/deep/{n}/expected.json"))
w = e["outputs"][0]["values"]; g = p["output"]["floats"]
err = max(abs(a - b) for a, b in zip(g, w)); peak = max(abs(x) for x in w)
am = lambda v: max(range(len(v)), key=lambda i: v[i])
cal = sum(c["rows"] for c in r.get("calibrated_bounds", []))
ct = open(f"/tmp/bd/{n}.ct").read().split(); st = open(f"/tmp/bd/{n}.st").read().split(); pt = open(f"/tmp/bd/{n}.pt").read().split()
gas = [l for l in open(f"/tmp/bd/{n}.evm.log") if l.startswith("gas")]
print(f"| {n} | {r['quantization']['scale']} | {r['plan']['params']['k']} | {r['plan']['rows']:,} | {cal:,} | {float(ct[0]):.0f} | {float(st[0]):.1f} | {float(pt[0]):.1f} | {int(pt[1])/1048576:.2f} GiB | {r['accuracy']['output_max_abs_error']:.2e} | {err:.2e} | {peak:.2f} | {am(g)==am(w)} | {gas[0].split()[1] if gas else '?'} |")
PY
done
