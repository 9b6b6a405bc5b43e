#!/usr/bin/env bash
# Corpus sweep: audits every `.py` file of this machine's Python installation (the standard
# library with its tests and every site-packages directory) with a release build, and checks
# with tests/corpus_sweep.py that the run neither panics nor loses a file, and that each file
# that does not parse is reported once as PA001. Prints the numbers and the run time.
#
# Usage: tests/corpus-sweep.sh [--python-parse-all]   (from anywhere; builds with cargo)
# Needs: python3 (its installation is the corpus).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
cargo build --locked --release -q
# The target directory may live outside the checkout (CARGO_TARGET_DIR, .cargo/config): ask cargo.
target_dir="$(cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
exec python3 tests/corpus_sweep.py --perfaudit "$target_dir/release/perfaudit" --corpus all "$@"
