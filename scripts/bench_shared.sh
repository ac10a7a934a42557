#!/bin/bash
# bench_shared.sh BIN TAG [MODEL...]: each shared model (default: the five of BENCHMARKS.md)
# compiled at default settings, set up with the test SRS and proved twice by BIN; prints one line
# per model: k, rows, row shape, compile's error vs the float model, the faster prove (wall s) with
# its peak RSS, `plan`'s prediction and whether the proof verifies. Run from the repository root
# with ../shared beside it; scratch files go to /tmp/bench_shared_TAG_MODEL.
set -u
Z=$1; T=$2; shift 2
MODELS=${*:-mlp_small mlp_medium cnn_mnist tiny_transformer mlp_2m}
for m in $MODELS; do
  d=../shared/models/$m; o=/tmp/bench_shared_${T}_$m; rm -rf "$o"
  "$Z" compile "$d/network.onnx" --calibration "$d/input.json" --out "$o" > "$o.compile.log" 2>&1 || { echo "$T $m compile failed"; continue; }
  "$Z" setup "$o" --insecure-test-srs > /dev/null 2>&1
  best=999; mem=0
  for _ in 1 2; do
    /usr/bin/time -f "%e %M" -o "$o.time" "$Z" prove "$o" --input "$d/input.json" --out "$o/proof.json" > /dev/null 2>&1
    read -r s kb < "$o.time"
    if (( $(echo "$s < $best" | bc) )); then best=$s; mem=$kb; fi
  done
  "$Z" verify "$o/vk.bin" "$o/proof.json" > /dev/null 2>&1 && v=ok || v=FAIL
  err=$(grep "output max" "$o.compile.log" | awk '{print $7}')
  shape=$(grep "circuit:" "$o.compile.log" | sed -E 's/.*k = ([0-9]+), ([0-9]+) rows used, ([^,]+), .*/k\1 \2rows \3/')
  pred=$("$Z" plan "$o" | grep predicted | awk '{print $3}')
  echo "$T $m $shape err=$err prove=${best}s mem=$((mem / 1024))MiB pred=${pred}s verify=$v"
done
