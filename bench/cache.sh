#!/usr/bin/env bash
# Measure the incremental cache: audit a copy of a corpus without the cache, then with a cold
# cache, a warm cache, and a warm cache after one file changed; print the speed-ups and check
# that every run gives the same JSON.
#
# Usage: bench/cache.sh [--corpus DIR] [--runs N] [--bin PATH]
#   --corpus DIR  Python tree to audit (default: the standard library of python3); it is
#                 copied first, so the cache and the edit never touch the original
#   --runs N      measured runs per case, median reported (default 5)
#   --bin PATH    perfaudit binary (default: cargo build --release)
set -euo pipefail
export LC_ALL=C

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
RUNS=5
CORPUS=""
BIN=""
die() { printf 'cache.sh: error: %s\n' "$*" >&2; exit 1; }
while [[ $# -gt 0 ]]; do
    case $1 in
    --corpus) CORPUS=${2:?}; shift 2 ;;
    --runs) RUNS=${2:?}; shift 2 ;;
    --bin) BIN=${2:?}; shift 2 ;;
    -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
    *) die "unknown argument: $1" ;;
    esac
done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer"

if [[ -z $BIN ]]; then
    (cd "$REPO_ROOT" && cargo build --release --locked -q) || die "cargo build failed"
    target_dir=${CARGO_TARGET_DIR:-$REPO_ROOT/target}
    BIN="$target_dir/release/perfaudit"
fi
[[ -x $BIN ]] || die "no perfaudit binary at $BIN"
if [[ -z $CORPUS ]]; then
    CORPUS=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
fi
[[ -d $CORPUS ]] || die "corpus $CORPUS is not a directory"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# A real copy (not hard links): the edit below must not reach the original.
cp -R "$CORPUS" "$WORK/corpus"
TREE="$WORK/corpus"
rm -rf "$TREE/.perfaudit_cache"

# The file to edit: the largest module, so the one re-parse is not flattered by a tiny file.
EDITED=$(find "$TREE" -name '*.py' -not -path '*/.*' -printf '%s %p\n' | sort -n | tail -n 1 | cut -d ' ' -f 2-)
[[ -n $EDITED ]] || die "no Python file in the corpus"

# run ARGS... -> prints wall seconds; the JSON goes to $WORK/last.json
run() {
    local t0 t1
    t0=$(date +%s%N)
    "$BIN" audit "$TREE" --format json --output "$WORK/last.json" --fail-on never --quiet --isolated "$@"
    t1=$(date +%s%N)
    awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.4f\n", ns / 1e9 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.4f\n", m }'; }

touch_one() { printf '\n# edited by bench/cache.sh %s\n' "$1" >>"$EDITED"; }

uncached=() cold=() warm=() touched=()
for ((i = 1; i <= RUNS; i++)); do
    uncached+=("$(run --no-cache)")
    cp "$WORK/last.json" "$WORK/uncached.json"
    rm -rf "$TREE/.perfaudit_cache"
    cold+=("$(run)")
    cmp -s "$WORK/last.json" "$WORK/uncached.json" || die "cold cached run differs from the uncached run"
    warm+=("$(run)")
    cmp -s "$WORK/last.json" "$WORK/uncached.json" || die "warm cached run differs from the uncached run"
    touch_one "$i"
    touched+=("$(run)")
    cp "$WORK/last.json" "$WORK/touched.json"
    run --no-cache >/dev/null
    cmp -s "$WORK/last.json" "$WORK/touched.json" || die "cached run after an edit differs from an uncached run"
done

m_un=$(printf '%s\n' "${uncached[@]}" | median)
m_cold=$(printf '%s\n' "${cold[@]}" | median)
m_warm=$(printf '%s\n' "${warm[@]}" | median)
m_touch=$(printf '%s\n' "${touched[@]}" | median)
files=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["files_scanned"])' "$WORK/uncached.json")
cache_size=$(du -sh "$TREE/.perfaudit_cache" | cut -f 1)

echo "corpus: $CORPUS ($files files), $RUNS runs per case, median wall time"
printf '  %-34s %8.3f s\n' "no cache (--no-cache)" "$m_un"
printf '  %-34s %8.3f s\n' "cold cache (first run, writes)" "$m_cold"
printf '  %-34s %8.3f s\n' "warm cache, nothing changed" "$m_warm"
printf '  %-34s %8.3f s\n' "warm cache, one file edited" "$m_touch"
awk -v u="$m_un" -v c="$m_cold" -v w="$m_warm" -v t="$m_touch" 'BEGIN {
    printf "  cold / uncached: %.2fx (the price of writing the cache)\n", c / u
    printf "  uncached / warm: %.1fx faster\n", u / w
    printf "  uncached / one file edited: %.1fx faster\n", u / t
}'
echo "  cache size: $cache_size; every cached run gave the uncached run's JSON"
