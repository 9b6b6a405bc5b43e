#!/usr/bin/env bash
# Warm runs side by side: perfaudit with its cache (`.perfaudit_cache/`) against ruff with its
# own cache, on a copy of a corpus, with nothing changed and with one file (the largest) edited
# before each run. Interleaved: perfaudit, ruff, perfaudit, ruff, ... With two binaries (a
# base and a branch), each audits a copy of its own (their caches would otherwise evict each
# other's), interleaved with ruff, and the table gives both against ruff and against each other.
#
# Usage: bench/warm-vs-ruff.sh [--runs N] [--corpus DIR] BIN [BIN2]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=5
CORPUS=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
while (($#)); do
    case $1 in
        --runs) RUNS=$2; shift 2 ;;
        --corpus) CORPUS=$2; shift 2 ;;
        *) break ;;
    esac
done
(($# == 1 || $# == 2)) || { echo "usage: $0 [--runs N] [--corpus DIR] BIN [BIN2]" >&2; exit 2; }
BINS=()
for b in "$@"; do BINS+=("$(realpath "$b")"); done
RUFF=bench/.venv/bin/ruff
[[ -x $RUFF ]] || RUFF=$(command -v ruff) || { echo "ruff not found" >&2; exit 1; }
RUFF=$(realpath "$RUFF")
EXCLUDE='.git,.venv,venv,__pycache__,node_modules,site-packages,build,dist,.*'
TMP=$(realpath -m bench/tmp/warm)
rm -rf "$TMP"
mkdir -p "$TMP/tree"
python3 - "$CORPUS" "$TMP/tree" <<'PY'
import os, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
skip = {".git", ".venv", "venv", "__pycache__", "node_modules", "site-packages", "build", "dist"}
for root, dirs, files in os.walk(src):
    dirs[:] = sorted(d for d in dirs if d not in skip and not d.startswith("."))
    for f in files:
        if f.endswith(".py") and not f.startswith("."):
            s = os.path.join(root, f)
            d = os.path.join(dst, os.path.relpath(s, src))
            os.makedirs(os.path.dirname(d), exist_ok=True)
            shutil.copy2(s, d)
PY
LARGEST=$(cd "$TMP/tree" && find . -name '*.py' -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2-)
for ((b = 1; b < ${#BINS[@]}; b++)); do cp -r "$TMP/tree" "$TMP/tree$b"; done
tree() { (($1 == 0)) && echo "$TMP/tree" || echo "$TMP/tree$1"; }
label() { ((${#BINS[@]} == 1)) && echo perfaudit || echo "perfaudit[$(($1 + 1))]"; }
OUT=$TMP/results.tsv
: >"$OUT"
cd "$TMP/tree"

one() { # case tool cmd...
    local c=$1 tool=$2; shift 2
    local t0 t1
    t0=$(date +%s%N)
    /usr/bin/time -f %M -o "$TMP/rss" "$@" >/dev/null 2>"$TMP/err" || { cat "$TMP/err" >&2; exit 1; }
    t1=$(date +%s%N)
    printf '%s\t%s\t%s\t%s\n' "$c" "$tool" "$(((t1 - t0) / 1000000))" "$(tail -1 "$TMP/rss")" >>"$OUT"
}
pa() { # case binary-index
    (cd "$(tree "$2")" && one "$1" "$(label "$2")" "${BINS[$2]}" audit . --format json \
        --output "$TMP/pa$2.json" --fail-on never --quiet)
}
pas() { for ((b = 0; b < ${#BINS[@]}; b++)); do pa "$1" "$b"; done; }
rf() {
    one "$1" ruff "$RUFF" check --isolated --cache-dir "$TMP/ruff_cache" --select ASYNC,PERF \
        --exit-zero --output-format json -q --config "include = ['*.py']" --exclude "$EXCLUDE" .
}

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); load: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
for ((b = 0; b < ${#BINS[@]}; b++)); do echo "$(label "$b"): ${BINS[$b]}"; done
pas cold
rf cold
for ((i = 1; i <= RUNS; i++)); do
    pas unchanged
    rf unchanged
done
for ((i = 1; i <= RUNS; i++)); do
    for ((b = 0; b < ${#BINS[@]}; b++)); do echo "# edit $i" >>"$(tree "$b")/$LARGEST"; done
    pas one-changed
    # Every copy gets ruff's edit too, so that the copies stay identical.
    for ((b = 0; b < ${#BINS[@]}; b++)); do echo "# edit $i again" >>"$(tree "$b")/$LARGEST"; done
    rf one-changed
done
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg); edited file: ${LARGEST#./}"
for ((b = 1; b < ${#BINS[@]}; b++)); do
    cmp -s "$TMP/pa0.json" "$TMP/pa$b.json" && echo "JSON of the last runs: identical" ||
        echo "JSON of the last runs: DIFFERENT"
done
python3 - "$OUT" <<'PY'
import statistics as st, sys, collections
rows = collections.defaultdict(list)
tools = []
for line in open(sys.argv[1]):
    c, tool, ms, rss = line.split("\t")
    rows[(c, tool)].append((int(ms) / 1000, int(rss) / 1024))
    if tool not in tools:
        tools.append(tool)
print("| case | tool | runs | median s | min s | max s | median peak RSS MiB |")
print("|---|---|---:|---:|---:|---:|---:|")
for c in ("cold", "unchanged", "one-changed"):
    for tool in tools:
        v = rows[(c, tool)]
        t = [x[0] for x in v]
        print(f"| {c} | {tool} | {len(v)} | {st.median(t):.2f} | {min(t):.2f} | {max(t):.2f} "
              f"| {st.median(x[1] for x in v):.0f} |")
pas = [t for t in tools if t != "ruff"]
pairs = [(p, "ruff") for p in pas] + ([(pas[1], pas[0])] if len(pas) == 2 else [])
for c in ("unchanged", "one-changed"):
    for a, b in pairs:
        xs = [x[0] / y[0] for x, y in zip(rows[(c, a)], rows[(c, b)])]
        print(f"- {c}: {a}/{b} time {st.median(xs):.2f} ({min(xs):.2f}–{max(xs):.2f})")
PY
