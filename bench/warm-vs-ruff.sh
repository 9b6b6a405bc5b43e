#!/usr/bin/env bash
# Warm runs side by side: perfaudit with its cache (`.perfaudit_cache/`) against ruff with its
# own cache, on a copy of a corpus, with nothing changed and with one file (the largest) edited
# before each run. Interleaved: perfaudit, ruff, perfaudit, ruff, ...
#
# Usage: bench/warm-vs-ruff.sh [--runs N] [--corpus DIR] BIN
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
(($# == 1)) || { echo "usage: $0 [--runs N] [--corpus DIR] BIN" >&2; exit 2; }
BIN=$(realpath "$1")
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
LARGEST=$(find "$TMP/tree" -name '*.py' -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2-)
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
pa() { one "$1" perfaudit "$BIN" audit . --format json --output "$TMP/pa.json" --fail-on never --quiet; }
rf() {
    one "$1" ruff "$RUFF" check --isolated --cache-dir "$TMP/ruff_cache" --select ASYNC,PERF \
        --exit-zero --output-format json -q --config "include = ['*.py']" --exclude "$EXCLUDE" .
}

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); load: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
pa cold
rf cold
for ((i = 1; i <= RUNS; i++)); do
    pa unchanged
    rf unchanged
done
for ((i = 1; i <= RUNS; i++)); do
    echo "# edit $i" >>"$LARGEST"
    pa one-changed
    echo "# edit $i again" >>"$LARGEST"
    rf one-changed
done
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg); edited file: ${LARGEST#"$TMP/tree/"}"
python3 - "$OUT" <<'PY'
import statistics as st, sys, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    c, tool, ms, rss = line.split("\t")
    rows[(c, tool)].append((int(ms) / 1000, int(rss) / 1024))
print("| case | tool | runs | median s | min s | max s | median peak RSS MiB |")
print("|---|---|---:|---:|---:|---:|---:|")
for c in ("cold", "unchanged", "one-changed"):
    for tool in ("perfaudit", "ruff"):
        v = rows[(c, tool)]
        t = [x[0] for x in v]
        print(f"| {c} | {tool} | {len(v)} | {st.median(t):.2f} | {min(t):.2f} | {max(t):.2f} "
              f"| {st.median(x[1] for x in v):.0f} |")
for c in ("unchanged", "one-changed"):
    xs = [a[0] / b[0] for a, b in zip(rows[(c, "perfaudit")], rows[(c, "ruff")])]
    print(f"- {c}: perfaudit/ruff time {st.median(xs):.2f} ({min(xs):.2f}–{max(xs):.2f})")
PY
