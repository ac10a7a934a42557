#!/usr/bin/env bash
# Builds the Python wheel, installs it in a fresh virtual environment and runs the pytest
# suite against it. Needs python3 (3.9 or later) with venv and pip; fetches maturin, numpy
# and pytest from PyPI.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/target/python-test-venv"
rm -rf "$venv" "$root/target/python-wheels"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "maturin>=1.9,<2" "numpy>=1.22" "pytest>=7"
# Ray runs the distributed proving test (a local two-node cluster).
"$venv/bin/pip" install -q --disable-pip-version-check "ray>=2.9,<3"
# The dev profile reuses what `cargo test` built (dependencies are optimized there anyway);
# `pip install ./python` builds the release wheel users get.
(cd "$root/python" && "$venv/bin/maturin" build --quiet --locked --profile dev \
  --interpreter "$venv/bin/python" --out "$root/target/python-wheels")
"$venv/bin/pip" install -q --disable-pip-version-check --no-deps "$root"/target/python-wheels/zkinfer-*.whl
# Run from outside the source tree so `import zkinfer` finds the installed wheel.
cd "$venv" && "$venv/bin/python" -m pytest -q "$root/python/tests"
