#!/usr/bin/env bash
# Cost of each visibility mode on the shared models: k and rows (`plan`), prove wall time and
# peak RSS (3 standalone runs), and EVM verification gas. Usage (from the repository root, with
# ../shared beside it, after `cargo build --release`):
#   scripts/bench_visibility.sh [MODEL...]      (default: mlp_small cnn_mnist)
# ONLY="public params-committed" runs only the named modes.
set -euo pipefail
Z=${Z:-target/release/zkinfer}
OUT=${OUT:-/tmp/zk-vis}
MODELS=("$@")
[ ${#MODELS[@]} -eq 0 ] && MODELS=(mlp_small cnn_mnist)
MODES=(
  "public|"
  "input-hashed|--input-visibility hashed"
  "output-hashed|--output-visibility hashed"
  "params-private|--param-visibility private"
  "params-hashed|--param-visibility hashed"
  "all-hashed|--input-visibility hashed --output-visibility hashed --param-visibility hashed"
  "params-committed|--param-visibility committed"
)
for M in "${MODELS[@]}"; do
  S=../shared/models/$M
  for entry in "${MODES[@]}"; do
    name=${entry%%|*}; flags=${entry#*|}; D=$OUT/$M-$name
    if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]]; then continue; fi
    rm -rf "$D"
    # shellcheck disable=SC2086
    $Z compile "$S/network.onnx" --calibration "$S/input.json" --out "$D" $flags > /dev/null 2>&1
    plan=$($Z plan "$D" | head -1)
    /usr/bin/time -o "$D/setup.txt" -f '%e' $Z setup "$D" --insecure-test-srs > /dev/null 2>&1
    times=()
    for _ in 1 2 3; do
      /usr/bin/time -o "$D/time.txt" -f '%e %M' $Z prove "$D" --input "$S/input.json" --out "$D/p.json" > /dev/null 2>&1
      times+=("$(tail -1 "$D/time.txt")")
    done
    gas=$($Z verify --evm "$D/vk.bin" "$D/p.json" 2>/dev/null | sed -n 's/^gas: \([0-9]*\).*/\1/p')
    echo "$M | $name | $plan | setup $(tail -1 "$D/setup.txt") s | prove (s, KB): ${times[*]} | gas $gas"
  done
done
