#!/usr/bin/env bash
# Measure the example system's hotspots and compare them with perfaudit's estimates.
#
#   bench/estimates/run.sh [--no-install]
#
# Builds perfaudit (release), makes bench/estimates/.venv with the example's light
# dependencies (pyzmq, requests, PyYAML, numpy) unless --no-install, and writes
# bench/ESTIMATES.md. Other work running at the same time inflates the measurements.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$HERE/.venv"
if [ "${1:-}" != "--no-install" ]; then
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet -r "$HERE/requirements.txt"
fi
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
"$VENV/bin/python" "$HERE/measure.py" --perfaudit "$TARGET/release/perfaudit" --out "$ROOT/bench/ESTIMATES.md"
