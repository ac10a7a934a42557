#!/usr/bin/env bash
# Table-bound models before and after a change: for each op fixture (or shared model) named,
# compile with both binaries (default settings), then `plan`'s k, the reported output error and
# three standalone proofs (median wall time). Usage, from the repository root:
#   OLD=/path/to/old/zkinfer NEW=target/release/zkinfer scripts/bench_tables.sh tanh gelu ...
# A name that is not under tests/fixtures/ops is looked up in ../shared/models.
set -euo pipefail
OLD=${OLD:?set OLD to the binary to compare against}
NEW=${NEW:-target/release/zkinfer}
OUT=${OUT:-/tmp/zk-tables}
for name in "$@"; do
  if [ -d "tests/fixtures/ops/$name" ]; then
    model=tests/fixtures/ops/$name/model.onnx; input=tests/fixtures/ops/$name/input.json
  else
    model=../shared/models/$name/network.onnx; input=../shared/models/$name/input.json
  fi
  line="$name"
  for side in old new; do
    Z=$OLD; [ "$side" = new ] && Z=$NEW
    D=$OUT/$side-$name; rm -rf "$D"
    "$Z" compile "$model" --calibration "$input" --out "$D" > /dev/null 2>&1
    "$Z" setup "$D" --insecure-test-srs > /dev/null 2>&1
    k=$(python3 -c "import json; print(json.load(open('$D/report.json'))['plan']['params']['k'])")
    err=$(python3 -c "import json; print('%.2e' % json.load(open('$D/report.json'))['accuracy']['output_max_abs_error'])")
    times=()
    for _ in 1 2 3; do
      /usr/bin/time -o "$D/time.txt" -f '%e' "$Z" prove "$D" --input "$input" --out "$D/p.json" > /dev/null 2>&1
      times+=("$(cat "$D/time.txt")")
    done
    median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
    line="$line | $side k=$k err=$err prove=${median}s"
  done
  echo "$line"
done
