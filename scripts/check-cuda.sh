#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and the CUDA toolkit (nvcc on PATH): runs the runtime's
# conformance suite on CUDA and checks that every reference model in MODELS_DIR (default
# ../shared/models) gives byte-identical `run` output on the CPU and on CUDA, then proves
# and verifies it with the model run on CUDA.
set -euo pipefail
cd "$(dirname "$0")/.."
models=${MODELS_DIR:-../shared/models}
cargo test -p zkinfer-runtime --features cuda --release
cargo build --release --features cuda --bin zkinfer
bin="${CARGO_TARGET_DIR:-target}/release/zkinfer"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for m in "$models"/*/; do
  [ -f "$m/network.onnx" ] || continue
  name=$(basename "$m")
  d="$work/$name"
  "$bin" compile "$m/network.onnx" --calibration "$m/input.json" --out "$d" >/dev/null
  "$bin" setup "$d" --insecure-test-srs >/dev/null
  "$bin" run "$d" --input "$m/input.json" --device cpu >"$d/cpu.json"
  "$bin" run "$d" --input "$m/input.json" --device cuda >"$d/cuda.json"
  cmp "$d/cpu.json" "$d/cuda.json"
  "$bin" prove "$d" --input "$m/input.json" --out "$d/proof.json" --device cuda >/dev/null
  "$bin" verify "$d/vk.bin" "$d/proof.json" >/dev/null
  echo "$name: CPU and CUDA outputs identical; proof from the CUDA run verifies"
done
