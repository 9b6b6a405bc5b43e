#!/usr/bin/env bash
# Benchmark perfaudit against ruff (and optionally flake8 + flake8-async) on
# one Python corpus: wall time, throughput and peak RSS, measured interleaved.
#
# Usage: bench/vs-ruff.sh [--runs N] [--corpus DIR] [--copies K] [--flake8]
#                         [--threads N] [--bin PATH]
# See bench/README.md for details. Results go to stdout and bench/RESULTS.md.
set -euo pipefail
export LC_ALL=C # stable number formatting (EPOCHREALTIME uses the locale's decimal point)

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
VENV="$SCRIPT_DIR/.venv"
TMP="$SCRIPT_DIR/tmp"
RESULTS_MD="$SCRIPT_DIR/RESULTS.md"
PYTHON=${PYTHON:-python3}

# Directories perfaudit skips by default, plus hidden entries (".*"). ruff and
# flake8 get exactly this list through --exclude, which replaces their own
# defaults (ruff's also has _build, buck-out, __pypackages__), and ruff is
# limited to *.py (its default also checks .pyi and .ipynb), so that all tools
# audit the same files. The script checks the counts each tool reports.
SKIP_DIRS=(.git .venv venv __pycache__ node_modules site-packages build dist)

RUNS=5
CORPUS=""
COPIES=0
WITH_FLAKE8=0
THREADS=""
BIN=""

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'vs-ruff: warning: %s\n' "$*" >&2; }
die() {
    printf 'vs-ruff: error: %s\n' "$*" >&2
    exit 1
}

usage() {
    cat <<'EOF'
Usage: bench/vs-ruff.sh [options]

Benchmark perfaudit against ruff (rules ASYNC,PERF) on a Python corpus.

Options:
  --runs N       measured runs per tool, interleaved, after one warm-up (default 5)
  --corpus DIR   directory to audit (default: the Python standard library of
                 "python3", i.e. sysconfig's "stdlib" path)
  --copies K     also audit K copies of the corpus (under bench/tmp/) and report
                 the scaling ratio time(K copies) / time(1 copy); K >= 2
  --flake8       also benchmark flake8 + flake8-async (installed in bench/.venv)
  --threads N    worker threads for every tool (default: nproc)
  --bin PATH     use this perfaudit binary instead of building one
  -h, --help     show this help

Environment:
  PYTHON         interpreter used for the venv and the default corpus (python3)
  RUFF_VERSION   pin the ruff version installed into bench/.venv
  BENCH_TIMER    force the timer: "gnu" (/usr/bin/time) or "python"
EOF
}

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
pos_int() { is_uint "$1" && ((10#$1 >= 1)); }

need_value() { [[ $# -ge 2 && -n $2 ]] || die "option $1 needs a value (see --help)"; }

while [[ $# -gt 0 ]]; do
    case $1 in
    --runs) need_value "$@"; RUNS=$2; shift 2 ;;
    --runs=*) RUNS=${1#*=}; shift ;;
    --corpus) need_value "$@"; CORPUS=$2; shift 2 ;;
    --corpus=*) CORPUS=${1#*=}; shift ;;
    --copies) need_value "$@"; COPIES=$2; shift 2 ;;
    --copies=*) COPIES=${1#*=}; shift ;;
    --threads) need_value "$@"; THREADS=$2; shift 2 ;;
    --threads=*) THREADS=${1#*=}; shift ;;
    --bin) need_value "$@"; BIN=$2; shift 2 ;;
    --bin=*) BIN=${1#*=}; shift ;;
    --flake8) WITH_FLAKE8=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
    esac
done

pos_int "$RUNS" || die "--runs must be a positive integer, got '$RUNS'"
RUNS=$((10#$RUNS))
is_uint "$COPIES" || die "--copies must be an integer >= 2, got '$COPIES'"
COPIES=$((10#$COPIES))
((COPIES == 0 || COPIES >= 2)) || die "--copies must be >= 2 (1 copy is the plain corpus)"
NPROC=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
THREADS=${THREADS:-$NPROC}
pos_int "$THREADS" || die "--threads must be a positive integer, got '$THREADS'"
THREADS=$((10#$THREADS))
# ruff (rayon) has no thread flag; the same count goes to it through rayon's variable.
export RAYON_NUM_THREADS=$THREADS

command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found: Python 3 is needed for the venv, the corpus and the report"
mkdir -p "$TMP/out" "$TMP/work"

# ---------------------------------------------------------------------------
# 1. perfaudit binary
# ---------------------------------------------------------------------------
if [[ -z $BIN ]]; then
    command -v cargo >/dev/null 2>&1 ||
        die "cargo not found in PATH: install a Rust toolchain, or pass --bin PATH to an existing perfaudit binary"
    log "building perfaudit (cargo build --release --locked)"
    (cd "$REPO_ROOT" && cargo build --release --locked) ||
        die "cargo build --release --locked failed (see the compiler output above)"
    target_dir=${CARGO_TARGET_DIR:-target}
    [[ $target_dir == /* ]] || target_dir="$REPO_ROOT/$target_dir"
    BIN="$target_dir/release/perfaudit"
fi
[[ -f $BIN && -x $BIN ]] || die "perfaudit binary not found or not executable: $BIN"
BIN=$(cd -- "$(dirname -- "$BIN")" && pwd -P)/$(basename -- "$BIN")

audit_help=$("$BIN" audit --help 2>&1) ||
    die "'perfaudit audit --help' failed: this perfaudit build has no 'audit' subcommand yet"
missing=()
for flag in --format --output --threads --fail-on --quiet; do
    grep -q -e "$flag" <<<"$audit_help" || missing+=("$flag")
done
((${#missing[@]} == 0)) ||
    die "this perfaudit build has no usable 'audit' subcommand yet ('audit --help' does not list: ${missing[*]})"
PA_EXTRA=()
if grep -q -e '--no-cache' <<<"$audit_help"; then PA_EXTRA+=(--no-cache); fi
PA_VERSION=$("$BIN" --version 2>/dev/null | head -n 1) || true
PA_VERSION=${PA_VERSION#perfaudit }
PA_VERSION=${PA_VERSION:-unknown}

# ---------------------------------------------------------------------------
# 2. corpus
# ---------------------------------------------------------------------------
PY_VERSION=$("$PYTHON" -c 'import platform; print(platform.python_version())')
if [[ -z $CORPUS ]]; then
    CORPUS=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
    CORPUS_LABEL="Python $PY_VERSION standard library"
fi
[[ -d $CORPUS ]] || die "corpus directory not found: $CORPUS"
CORPUS=$(cd -- "$CORPUS" && pwd -P)
if [[ -z ${CORPUS_LABEL:-} ]]; then
    case $CORPUS in
    "$REPO_ROOT") CORPUS_LABEL="the repository root" ;;
    "$REPO_ROOT"/*) CORPUS_LABEL="${CORPUS#"$REPO_ROOT"/}" ;;
    *) CORPUS_LABEL="$(basename -- "$CORPUS") (a directory outside the repository)" ;;
    esac
fi
case $CORPUS/ in
"$TMP"/*) die "the corpus may not live under bench/tmp/ (that folder is scratch space)" ;;
esac

# Walk the corpus the way the tools do (skip list, hidden entries, *.py only, no
# symlinked directories) and write the file list; prints "files lines bytes".
FILE_LIST="$TMP/files.txt"
read -r N_FILES N_LINES N_BYTES < <("$PYTHON" - "$CORPUS" "$FILE_LIST" "${SKIP_DIRS[@]}" <<'PY'
import os, sys
root, listing, skip = sys.argv[1], sys.argv[2], set(sys.argv[3:])
files = lines = size = 0
with open(listing, "w", encoding="utf-8", errors="surrogateescape") as out:
    for d, dirs, names in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x not in skip and not x.startswith("."))
        for n in sorted(names):
            if not n.endswith(".py") or n.startswith("."):
                continue
            p = os.path.join(d, n)
            if not os.path.isfile(p):
                continue
            with open(p, "rb") as f:
                data = f.read()
            files += 1
            size += len(data)
            lines += data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
            out.write(os.path.relpath(p, root) + "\n")
print(files, lines, size)
PY
)
((N_FILES > 0)) || die "no .py files found in $CORPUS"
log "corpus: $CORPUS_LABEL: $N_FILES .py files, $N_LINES lines, $N_BYTES bytes"

# ---------------------------------------------------------------------------
# 3. ruff (and flake8) in bench/.venv
# ---------------------------------------------------------------------------
if [[ ! -x $VENV/bin/python ]]; then
    log "creating $VENV"
    "$PYTHON" -m venv "$VENV" ||
        die "could not create a venv with '$PYTHON -m venv' (on Debian/Ubuntu: apt-get install python3-venv)"
fi
pip_install() {
    log "installing into bench/.venv: $*"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$@" ||
        die "pip install $* failed"
}
RUFF="$VENV/bin/ruff"
if [[ -n ${RUFF_VERSION:-} ]]; then
    [[ $("$RUFF" --version 2>/dev/null) == "ruff $RUFF_VERSION" ]] || pip_install "ruff==$RUFF_VERSION"
else
    "$RUFF" --version >/dev/null 2>&1 || pip_install ruff
fi
RUFF_VER=$("$RUFF" --version) || die "ruff does not run from bench/.venv"
FLAKE8="$VENV/bin/flake8"
FLAKE8_VER=""
if ((WITH_FLAKE8)); then
    if ! "$FLAKE8" --version >/dev/null 2>&1 || ! "$VENV/bin/python" -m pip show -q flake8-async >/dev/null 2>&1; then
        pip_install flake8 flake8-async
    fi
    FLAKE8_VER=$("$FLAKE8" --version | head -n 1) || die "flake8 does not run from bench/.venv"
fi

# ---------------------------------------------------------------------------
# 4. timer: GNU time (peak RSS) + bash's microsecond clock, or a Python helper
# ---------------------------------------------------------------------------
gnu_time_ok() { [[ -x /usr/bin/time ]] && /usr/bin/time -f '%e %M' -o /dev/null true >/dev/null 2>&1; }
TIMER=${BENCH_TIMER:-}
if [[ -z $TIMER ]]; then
    if gnu_time_ok; then
        TIMER=gnu
    elif [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        log "installing GNU time with apt-get"
        { apt-get install -y -qq time || { apt-get update -qq && apt-get install -y -qq time; }; } >/dev/null 2>&1 || true
        if gnu_time_ok; then TIMER=gnu; else TIMER=python; fi
    else
        TIMER=python
    fi
fi
case $TIMER in
gnu) gnu_time_ok || die "BENCH_TIMER=gnu but /usr/bin/time is not GNU time" ;;
python) ;;
*) die "BENCH_TIMER must be 'gnu' or 'python', got '$TIMER'" ;;
esac

# Fallback timer: runs the command, prints "wall_seconds max_rss_kib exit_code".
TIMEIT="$TMP/timeit.py"
cat >"$TIMEIT" <<'PY'
import resource, subprocess, sys, time
out, err, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(out, "wb") as o, open(err, "wb") as e:
    t0 = time.perf_counter()
    rc = subprocess.call(cmd, stdout=o, stderr=e)
    wall = time.perf_counter() - t0
print(f"{wall:.6f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss} {rc}")
PY

# measure OUT ERR CMD... -> prints "wall_seconds max_rss_kib exit_code"
measure() {
    local out=$1 err=$2
    shift 2
    if [[ $TIMER == python ]]; then
        "$PYTHON" "$TIMEIT" "$out" "$err" "$@"
        return
    fi
    local tf="$TMP/time.txt" rc=0 t0 t1 e m wall
    t0=${EPOCHREALTIME:-}
    /usr/bin/time -f '%e %M' -o "$tf" "$@" >"$out" 2>"$err" || rc=$?
    t1=${EPOCHREALTIME:-}
    read -r e m < <(tail -n 1 "$tf")
    if [[ -n $t0 && -n $t1 ]]; then
        local us=$((10#${t1/./} - 10#${t0/./}))
        printf -v wall '%d.%06d' $((us / 1000000)) $((us % 1000000))
    else
        wall=$e
    fi
    echo "$wall $m $rc"
}

# ---------------------------------------------------------------------------
# Tool command lines
# ---------------------------------------------------------------------------
EXCLUDE=$(IFS=,; echo "${SKIP_DIRS[*]},.*")
RUFF_ARGS=(check --isolated --no-cache --select "ASYNC,PERF" --exit-zero --output-format json -q
    --config "include = ['*.py']" --exclude "$EXCLUDE")
TOOLS=(perfaudit ruff)
FLAKE8_NOTE=""
if ((WITH_FLAKE8)); then TOOLS+=(flake8); fi

# tool_cmd TOOL TARGET OUTFILE -> fills the CMD array; tool stdout goes to OUT_STDOUT
tool_cmd() {
    local tool=$1 target=$2 outfile=$3
    case $tool in
    perfaudit)
        CMD=("$BIN" audit "$target" --format json --output "$outfile" --threads "$THREADS"
            --fail-on never --quiet "${PA_EXTRA[@]}")
        OUT_STDOUT="$outfile.stdout"
        ;;
    ruff)
        CMD=("$RUFF" "${RUFF_ARGS[@]}" "$target")
        OUT_STDOUT=$outfile
        ;;
    flake8)
        CMD=("$FLAKE8" --isolated --select ASYNC --exit-zero --exclude "$EXCLUDE"
            --jobs "$THREADS" --benchmark --output-file "$outfile" "$target")
        OUT_STDOUT="$outfile.stdout"
        ;;
    esac
}

RUNS_TSV="$TMP/runs.tsv"
printf 'phase\ttool\trun\twall_s\trss_kib\n' >"$RUNS_TSV"

# run_one PHASE TOOL TARGET RUN ; RUN=0 is the warm-up (not recorded)
run_one() {
    local phase=$1 tool=$2 target=$3 run=$4 outfile wall rss rc
    outfile="$TMP/out/$phase-$tool.out"
    tool_cmd "$tool" "$target" "$outfile"
    # Every run starts in an empty working directory, so no tool finds a cache
    # left there by an earlier run.
    rm -rf "$TMP/work"
    mkdir -p "$TMP/work"
    read -r wall rss rc < <(cd "$TMP/work" && measure "$OUT_STDOUT" "$outfile.stderr" "${CMD[@]}")
    # flake8 exits 1 when a plugin raises on a file (flake8-async's parser rejects some of the
    # stdlib's grammar tests) after checking every file: keep the run and say so.
    if [[ $tool == flake8 && $rc == 1 ]] && grep -q "failed during execution" "$OUT_STDOUT" 2>/dev/null; then
        warn "flake8: $(grep -m1 "failed during execution" "$OUT_STDOUT" | cut -c1-160)"
        FLAKE8_NOTE="flake8 exited with status 1 because a plugin failed on a file: $(grep -m1 "failed during execution" "$OUT_STDOUT" | cut -d: -f1-2 | cut -c1-200); the run checked every other file and is kept"
        rc=0
    fi
    if [[ $rc != 0 ]]; then
        printf '%s\n' "--- last lines of $tool's stderr:" >&2
        tail -n 20 "$outfile.stderr" >&2 || true
        die "$tool exited with status $rc on $target (command: ${CMD[*]})"
    fi
    if ((run == 0)); then
        printf '    %-9s %-6s warm-up  %8.3f s  %8.1f MiB\n' "$tool" "$phase" "$wall" "$(bc_div "$rss" 1024)" >&2
    else
        printf '    %-9s %-6s run %-4s %8.3f s  %8.1f MiB\n' "$tool" "$phase" "$run" "$wall" "$(bc_div "$rss" 1024)" >&2
        printf '%s\t%s\t%s\t%s\t%s\n' "$phase" "$tool" "$run" "$wall" "$rss" >>"$RUNS_TSV"
    fi
}
bc_div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }

# run_phase PHASE TARGET [TOOL...]: warm-up each tool (default: all of TOOLS), then
# RUNS interleaved rounds
run_phase() {
    local phase=$1 target=$2 tool i
    shift 2
    local tools=("$@")
    ((${#tools[@]})) || tools=("${TOOLS[@]}")
    log "phase $phase: $target ($RUNS runs per tool, interleaved, after a warm-up; flake8: one run)"
    # flake8 runs every plugin on every file and takes minutes on the stdlib: one measured run,
    # without a warm-up, is enough to place it.
    for tool in "${tools[@]}"; do
        [[ $tool == flake8 ]] || run_one "$phase" "$tool" "$target" 0
    done
    for ((i = 1; i <= RUNS; i++)); do
        for tool in "${tools[@]}"; do
            [[ $tool == flake8 && $i -gt 1 ]] || run_one "$phase" "$tool" "$target" "$i"
        done
    done
}

# How many files each tool saw. ruff: --show-files (not timed); perfaudit: its
# JSON summary; flake8: its --benchmark report. Prints "?" when unknown.
ruff_files() { (cd "$TMP/work" && "$RUFF" "${RUFF_ARGS[@]}" --show-files "$1") | grep -c . || true; }
perfaudit_files() {
    "$PYTHON" - "$1" <<'PY'
import json, sys
try:
    with open(sys.argv[1], encoding="utf-8") as f:
        d = json.load(f)
except Exception as e:
    sys.exit(f"perfaudit output is not valid JSON: {e}")
def get(obj, *path):
    for k in path:
        if not isinstance(obj, dict) or k not in obj:
            return None
        obj = obj[k]
    return obj
for path in (("summary", "files"), ("files_scanned",), ("summary", "files_scanned")):
    v = get(d, *path)
    if isinstance(v, bool):
        continue
    if isinstance(v, int):
        print(v); break
    if isinstance(v, list):
        print(len(v)); break
else:
    print("?")
PY
}
flake8_files() { awk '$2 == "total" && $3 == "files" { n = $1 } END { print (n == "" ? "?" : n) }' "$1"; }

check_count() { # check_count TOOL SEEN EXPECTED PHASE
    if [[ $2 == "?" ]]; then
        warn "$1 did not report how many files it audited ($4)"
    elif [[ $2 != "$3" ]]; then
        warn "$1 audited $2 files but the corpus walk found $3 ($4): the tools do not see the same file set"
        MISMATCH+=("$1 audited $2 files instead of $3 ($4)")
    fi
}
MISMATCH=()

# ---------------------------------------------------------------------------
# 5. run the benchmark
# ---------------------------------------------------------------------------
LOADAVG=$(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || echo unknown)
log "timer: $TIMER; threads: $THREADS; perfaudit extra flags: ${PA_EXTRA[*]:-(none)}"
run_phase x1 "$CORPUS"
RUFF_FILES=$(ruff_files "$CORPUS")
PA_FILES=$(perfaudit_files "$TMP/out/x1-perfaudit.out") || die "could not read perfaudit's JSON report"
FLAKE8_FILES=""
if ((WITH_FLAKE8)); then FLAKE8_FILES=$(flake8_files "$TMP/out/x1-flake8.out"); fi
check_count ruff "$RUFF_FILES" "$N_FILES" "1 copy"
check_count perfaudit "$PA_FILES" "$N_FILES" "1 copy"
if ((WITH_FLAKE8)); then check_count flake8 "$FLAKE8_FILES" "$N_FILES" "1 copy"; fi

COPIES_DIR="$TMP/copies"
K_RUFF_FILES="" K_PA_FILES="" K_FLAKE8_FILES=""
if ((COPIES >= 2)); then
    log "making $COPIES copies of the corpus under bench/tmp/copies (hard links where possible)"
    rm -rf "$COPIES_DIR"
    "$PYTHON" - "$CORPUS" "$FILE_LIST" "$COPIES_DIR" "$COPIES" <<'PY'
import os, shutil, sys
src, listing, dst, k = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with open(listing, encoding="utf-8", errors="surrogateescape") as f:
    rels = [line.rstrip("\n") for line in f if line.strip()]
for i in range(1, k + 1):
    base = os.path.join(dst, f"copy-{i:03d}")
    for rel in rels:
        s, d = os.path.join(src, rel), os.path.join(base, rel)
        os.makedirs(os.path.dirname(d), exist_ok=True)
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)
PY
    # The scaling target concerns perfaudit and ruff; flake8 on K copies would take K times
    # its already long single-copy time.
    run_phase "x$COPIES" "$COPIES_DIR" perfaudit ruff
    K_RUFF_FILES=$(ruff_files "$COPIES_DIR")
    K_PA_FILES=$(perfaudit_files "$TMP/out/x$COPIES-perfaudit.out") || die "could not read perfaudit's JSON report"
    check_count ruff "$K_RUFF_FILES" $((N_FILES * COPIES)) "$COPIES copies"
    check_count perfaudit "$K_PA_FILES" $((N_FILES * COPIES)) "$COPIES copies"
fi

# ---------------------------------------------------------------------------
# 6. report (stdout + bench/RESULTS.md)
# ---------------------------------------------------------------------------
CPU_MODEL=$(grep -m 1 -E '^(model name|Hardware|cpu model)' /proc/cpuinfo 2>/dev/null | cut -d : -f 2- | sed 's/^ *//') || true
GIT_REV=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null) || GIT_REV="none yet"
if [[ -n $(git -C "$REPO_ROOT" status --porcelain 2>/dev/null | head -n 1) ]]; then GIT_REV="$GIT_REV, with uncommitted changes"; fi
MISMATCH_TEXT=""
((${#MISMATCH[@]} == 0)) || MISMATCH_TEXT=$(printf '%s\n' "${MISMATCH[@]}")

export B_DATE B_UNAME B_NPROC B_CPU B_LOADAVG B_GIT B_TIMER B_THREADS B_RUNS B_COPIES \
    B_CORPUS_LABEL B_FILES B_LINES B_BYTES B_PA_VER B_RUFF_VER B_FLAKE8_VER B_PY_VER \
    B_RUFF_FILES B_PA_FILES B_FLAKE8_FILES B_K_RUFF_FILES B_K_PA_FILES B_K_FLAKE8_FILES \
    B_PA_EXTRA B_EXCLUDE B_MISMATCH B_FLAKE8_NOTE
B_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
B_UNAME=$(uname -srm)
B_NPROC=$NPROC
B_CPU=${CPU_MODEL:-unknown}
B_LOADAVG=$LOADAVG
B_GIT=$GIT_REV
B_TIMER=$TIMER
B_THREADS=$THREADS
B_RUNS=$RUNS
B_COPIES=$COPIES
B_CORPUS_LABEL=$CORPUS_LABEL
B_FILES=$N_FILES
B_LINES=$N_LINES
B_BYTES=$N_BYTES
B_PA_VER=$PA_VERSION
B_RUFF_VER=$RUFF_VER
B_FLAKE8_VER=$FLAKE8_VER
B_PY_VER=$PY_VERSION
B_RUFF_FILES=$RUFF_FILES
B_PA_FILES=$PA_FILES
B_FLAKE8_FILES=$FLAKE8_FILES
B_K_RUFF_FILES=$K_RUFF_FILES
B_K_PA_FILES=$K_PA_FILES
B_K_FLAKE8_FILES=$K_FLAKE8_FILES
B_PA_EXTRA=${PA_EXTRA[*]:-}
B_EXCLUDE=$EXCLUDE
B_MISMATCH=$MISMATCH_TEXT
B_FLAKE8_NOTE=$FLAKE8_NOTE

"$PYTHON" - "$RUNS_TSV" "$RESULTS_MD" <<'PY'
import csv, os, statistics, sys

tsv, md_path = sys.argv[1], sys.argv[2]
E = os.environ
runs = {}
with open(tsv, newline="") as f:
    for row in csv.DictReader(f, delimiter="\t"):
        runs.setdefault((row["phase"], row["tool"]), []).append(
            (float(row["wall_s"]), int(row["rss_kib"])))

files, lines, nbytes = int(E["B_FILES"]), int(E["B_LINES"]), int(E["B_BYTES"])
copies = int(E["B_COPIES"])
tools = [t for t in ("perfaudit", "ruff", "flake8") if ("x1", t) in runs]
phases = ["x1"] + ([f"x{copies}"] if copies >= 2 else [])
seen = {
    "x1": {"perfaudit": E["B_PA_FILES"], "ruff": E["B_RUFF_FILES"], "flake8": E["B_FLAKE8_FILES"]},
    f"x{copies}": {"perfaudit": E["B_K_PA_FILES"], "ruff": E["B_K_RUFF_FILES"], "flake8": E["B_K_FLAKE8_FILES"]},
}

def stats(phase, tool):
    r = runs[(phase, tool)]
    walls = [w for w, _ in r]
    med = statistics.median(walls)
    mult = copies if phase != "x1" else 1
    return {
        "median": med, "min": min(walls), "max": max(walls),
        "lps": lines * mult / med if med > 0 else float("inf"),
        "mbps": nbytes * mult / 1e6 / med if med > 0 else float("inf"),
        "rss": statistics.median(rss for _, rss in r) / 1024,
    }

def fmt_int(n):
    return f"{n:,.0f}"

def fmt_small(x):
    return f"{x:.1f}" if x >= 10 else f"{x:.3g}"

HEAD = ["tool", "files", "median s", "min s", "max s", "lines/s", "MB/s", "peak RSS MiB"]

def phase_tools(phase):
    return tools if phase == "x1" else [t for t in tools if t != "flake8"]

def table_rows(phase):
    rows = []
    for t in phase_tools(phase):
        s = stats(phase, t)
        rows.append([t, seen[phase][t] or "?", f"{s['median']:.3f}", f"{s['min']:.3f}", f"{s['max']:.3f}",
                     fmt_int(s["lps"]), fmt_small(s["mbps"]), f"{s['rss']:.1f}"])
    return rows

def fmt_ratio(r):
    return f"{r:.2f}" if r >= 0.1 else f"{r:.2g}"

def ratio_lines(phase):
    out = []
    p = stats(phase, "perfaudit")
    for other in phase_tools(phase)[1:]:
        o = stats(phase, other)
        out.append(f"perfaudit / {other}: time {fmt_ratio(p['median'] / o['median'])}x, "
                   f"peak RSS {fmt_ratio(p['rss'] / o['rss'])}x")
    return out

def scaling_lines():
    if copies < 2:
        return []
    out = []
    for t in phase_tools(f"x{copies}"):
        one, k = stats("x1", t)["median"], stats(f"x{copies}", t)["median"]
        out.append(f"{t}: time({copies} copies) / time(1) = {k / one:.2f} (ideal linear: {copies:.2f})")
    return out

def phase_title(phase):
    if phase == "x1":
        return "1 copy of the corpus"
    return f"{copies} copies of the corpus ({fmt_int(files * copies)} files)"

# ---- terminal
def text_table(rows):
    widths = [max(len(str(r[i])) for r in [HEAD] + rows) for i in range(len(HEAD))]
    def line(r):
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(HEAD), line(["-" * w for w in widths])] + [line(r) for r in rows])

print()
print(f"Corpus: {E['B_CORPUS_LABEL']}: {fmt_int(files)} files, {fmt_int(lines)} lines, "
      f"{nbytes / 1e6:.1f} MB; {E['B_RUNS']} runs per tool, {E['B_THREADS']} threads")
for ph in phases:
    print()
    print(f"{phase_title(ph)}:")
    print(text_table(table_rows(ph)))
    for l in ratio_lines(ph):
        print("  " + l)
if copies >= 2:
    print()
    print("Scaling:")
    for l in scaling_lines():
        print("  " + l)
if E["B_MISMATCH"]:
    print()
    print("WARNING: the tools did not audit the same file set:")
    for l in E["B_MISMATCH"].splitlines():
        print("  " + l)

# ---- markdown
def md_table(rows):
    out = ["| " + " | ".join(HEAD) + " |",
           "|" + "|".join(["---"] + ["---:"] * (len(HEAD) - 1)) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return out

md = ["# perfaudit vs ruff: benchmark results", "",
      "Generated by `bench/vs-ruff.sh` (see `bench/README.md`); overwritten on every run.", "",
      "## Setup", "",
      f"- Date: {E['B_DATE']}",
      f"- System: `{E['B_UNAME']}`, {E['B_NPROC']} CPUs (`nproc`), CPU: {E['B_CPU']}",
      f"- Load average at start: {E['B_LOADAVG']}",
      f"- perfaudit {E['B_PA_VER']} (commit {E['B_GIT']}), release build",
      f"- {E['B_RUFF_VER']}" + (f"; flake8 {E['B_FLAKE8_VER']}" if E["B_FLAKE8_VER"] else ""),
      f"- Python {E['B_PY_VER']} (venv, report)",
      f"- Corpus: {E['B_CORPUS_LABEL']}: {fmt_int(files)} `.py` files, {fmt_int(lines)} lines, "
      f"{nbytes / 1e6:.1f} MB (skipped directories: `{E['B_EXCLUDE']}`)",
      f"- Runs: {E['B_RUNS']} measured runs per tool after one warm-up, tools interleaved; "
      f"{E['B_THREADS']} threads per tool; timer: "
      + ("GNU time (peak RSS) + shell microsecond clock (wall)" if E["B_TIMER"] == "gnu"
         else "Python helper (perf_counter wall, getrusage peak RSS)"),
      "- perfaudit: `perfaudit audit CORPUS --format json --output FILE --threads N --fail-on never --quiet"
      + (f" {E['B_PA_EXTRA']}" if E["B_PA_EXTRA"] else "") + "`",
      "- ruff: `ruff check --isolated --no-cache --select ASYNC,PERF --exit-zero --output-format json -q "
      f"--config \"include = ['*.py']\" --exclude '{E['B_EXCLUDE']}' CORPUS`",
      ]
if E["B_FLAKE8_VER"]:
    md.append("- flake8: `flake8 --isolated --select ASYNC --exit-zero "
              f"--exclude '{E['B_EXCLUDE']}' --jobs N --benchmark CORPUS`")
for ph in phases:
    md += ["", f"## {phase_title(ph)[0].upper() + phase_title(ph)[1:]}", ""]
    md += md_table(table_rows(ph))
    md += [""] + [f"- {l}" for l in ratio_lines(ph)]
if copies >= 2:
    md += ["", "## Scaling", ""] + [f"- {l}" for l in scaling_lines()]
md += ["", "## Notes", "",
       "- Times are medians of the measured runs; throughput uses the median time.",
       "- \"files\" is what each tool reported auditing (ruff: `--show-files`; perfaudit: its JSON "
       "summary; flake8: `--benchmark`).",
       "- Peak RSS is the largest single process (multi-process tools are not summed).",
       "- flake8 runs once, without a warm-up, on one copy of the corpus only (it takes minutes).",
       "- Where perfaudit's time and memory go, and what was tried: `bench/PROFILE.md`."]
if E["B_FLAKE8_NOTE"]:
    md += ["- " + E["B_FLAKE8_NOTE"] + "."]
if E["B_MISMATCH"]:
    md += ["- **Warning: the tools did not audit the same file set:** "
           + "; ".join(E["B_MISMATCH"].splitlines()) + "."]
# Sections recorded by hand below the marker (side-by-side builds, warm runs) are kept.
MARKER = "<!-- kept by vs-ruff.sh -->"
kept = ""
if os.path.exists(md_path):
    with open(md_path, encoding="utf-8") as f:
        old = f.read()
    if MARKER in old:
        kept = "\n" + old[old.index(MARKER):]
with open(md_path, "w", encoding="utf-8") as f:
    f.write("\n".join(md) + "\n" + kept)
print()
print(f"Markdown written to bench/{os.path.basename(md_path)}")
PY
