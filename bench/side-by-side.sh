#!/usr/bin/env bash
# Two perfaudit binaries and ruff, interleaved in one run, on a corpus and on K copies of it:
# wall time and peak RSS of every run, then medians, spreads and ratios.
#
# Usage: bench/side-by-side.sh [--runs N] [--copies K] [--corpus DIR] [--threads N] BASE NEW
#
# BASE and NEW are perfaudit binaries (say, one built from main and one from a branch). ruff
# comes from bench/.venv (bench/vs-ruff.sh creates it) or PATH. Every run is uncached
# (`--no-cache` for both tools). Runs go BASE, NEW, ruff, BASE, NEW, ruff, ... so background
# load hits all three alike. Needs GNU time for peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=5 COPIES=4 THREADS=$(nproc)
CORPUS=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
while (($#)); do
    case $1 in
        --runs) RUNS=$2; shift 2 ;;
        --copies) COPIES=$2; shift 2 ;;
        --corpus) CORPUS=$2; shift 2 ;;
        --threads) THREADS=$2; shift 2 ;;
        *) break ;;
    esac
done
(($# == 2)) || { echo "usage: $0 [--runs N] [--copies K] [--corpus DIR] BASE NEW" >&2; exit 2; }
BASE=$(realpath "$1") NEW=$(realpath "$2")
RUFF=bench/.venv/bin/ruff
[[ -x $RUFF ]] || RUFF=$(command -v ruff) || { echo "ruff not found" >&2; exit 1; }
EXCLUDE='.git,.venv,venv,__pycache__,node_modules,site-packages,build,dist,.*'
TMP=bench/tmp/side
mkdir -p "$TMP"
OUT=$TMP/results.tsv
: >"$OUT"

make_copies() { # same files as perfaudit's walk, hard links where possible
    local k=$1 dst=$TMP/copies-$1
    [[ -d $dst ]] && return
    python3 - "$CORPUS" "$dst" "$k" <<'PY'
import os, shutil, sys
src, dst, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
skip = {".git", ".venv", "venv", "__pycache__", "node_modules", "site-packages", "build", "dist"}
rels = []
for root, dirs, files in os.walk(src):
    dirs[:] = sorted(d for d in dirs if d not in skip and not d.startswith("."))
    rels += [os.path.relpath(os.path.join(root, f), src) for f in files
             if f.endswith(".py") and not f.startswith(".")]
for i in range(1, k + 1):
    for rel in rels:
        s, d = os.path.join(src, rel), os.path.join(dst, f"copy-{i:03d}", rel)
        os.makedirs(os.path.dirname(d), exist_ok=True)
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)
PY
}

one() { # label corpus-label cmd...
    local label=$1 phase=$2; shift 2
    local t0 t1 rss
    t0=$(date +%s%N)
    /usr/bin/time -f %M -o "$TMP/rss" "$@" >/dev/null 2>"$TMP/err" || { cat "$TMP/err" >&2; exit 1; }
    t1=$(date +%s%N)
    rss=$(tail -1 "$TMP/rss")
    printf '%s\t%s\t%s\t%s\n' "$phase" "$label" "$(((t1 - t0) / 1000000))" "$rss" >>"$OUT"
}

phase() { # phase-label dir
    local p=$1 dir=$2 i
    for ((i = 0; i <= RUNS; i++)); do # run 0 is a warm-up, not recorded
        for tool in base new ruff; do
            case $tool in
                base | new)
                    local bin=$BASE
                    [[ $tool == new ]] && bin=$NEW
                    one "$tool" "$p" "$bin" audit "$dir" --format json --output "$TMP/$tool-$p.json" \
                        --threads "$THREADS" --fail-on never --quiet --no-cache ;;
                ruff)
                    RAYON_NUM_THREADS=$THREADS one ruff "$p" "$RUFF" check --isolated --no-cache \
                        --select ASYNC,PERF --exit-zero --output-format json -q \
                        --config "include = ['*.py']" --exclude "$EXCLUDE" "$dir" ;;
            esac
        done
        if ((i == 0)); then # drop the warm-up rows
            awk -F'\t' -v p="$p" '$1 != p' "$OUT" >"$OUT.tmp"
            mv "$OUT.tmp" "$OUT"
        fi
    done
    cmp -s "$TMP/base-$p.json" "$TMP/new-$p.json" && echo "$p: BASE and NEW JSON byte-identical" \
        || echo "$p: BASE and NEW JSON DIFFER"
}

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); load: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
phase x1 "$CORPUS"
if ((COPIES >= 2)); then
    make_copies "$COPIES"
    phase "x$COPIES" "$TMP/copies-$COPIES"
fi
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$OUT" <<'PY'
import statistics as st, sys, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    p, tool, ms, rss = line.split("\t")
    rows[(p, tool)].append((int(ms) / 1000, int(rss) / 1024))
phases = sorted({p for p, _ in rows}, key=lambda p: int(p[1:]))
print("| corpus | tool | runs | median s | min s | max s | median peak RSS MiB | min | max |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for p in phases:
    for tool in ("base", "new", "ruff"):
        v = rows[(p, tool)]
        t, m = [x[0] for x in v], [x[1] for x in v]
        print(f"| {p} | {tool} | {len(v)} | {st.median(t):.2f} | {min(t):.2f} | {max(t):.2f} "
              f"| {st.median(m):.0f} | {min(m):.0f} | {max(m):.0f} |")
print()
def ratios(a, b, p, k):
    # per-run ratios of interleaved runs (run i of a over run i of b): median and spread
    xs = [x[k] / y[k] for x, y in zip(rows[(p, a)], rows[(p, b)])]
    return f"{st.median(xs):.2f} ({min(xs):.2f}–{max(xs):.2f})"
for p in phases:
    for a, b in (("new", "base"), ("new", "ruff"), ("base", "ruff")):
        print(f"- {p}: {a}/{b} time {ratios(a, b, p, 0)}, peak RSS {ratios(a, b, p, 1)}")
if len(phases) > 1:
    k = phases[-1]
    for tool in ("base", "new", "ruff"):
        one = rows[("x1", tool)]
        many = rows[(k, tool)]
        tr = st.median(x[0] for x in many) / st.median(x[0] for x in one)
        mr = st.median(x[1] for x in many) / st.median(x[1] for x in one)
        print(f"- {tool}: {k}/x1 time {tr:.2f}, peak RSS {mr:.2f}")
PY
