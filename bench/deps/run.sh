#!/usr/bin/env bash
# Follows calls into installed libraries on real packages from the registry.
#
# 1. Pillow and GitPython: a venv with both, and the small service in service/ that calls
#    `Image.open` and `Repo(...).remotes.origin.pull()` from `async def`. Both must be found,
#    with chains into the libraries (frames marked `library`).
# 2. A realistic environment: a venv with a few hundred packages (the libraries of the pinned
#    corpora and the common SDKs), and one corpus audited without `--python`, with it cold (no
#    summary cache) and warm (summaries cached), side by side in one run.
# 3. Every pinned corpus audited without and with that environment: what it adds or removes.
#
# Writes bench/deps/RESULTS.md. Needs network access (pip) and python3.12 (else python3).
#
# Usage: bench/deps/run.sh [BINARY]   (default: release/perfaudit under $CARGO_TARGET_DIR)
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
BIN=${1:-${CARGO_TARGET_DIR:-$HERE/../../target}/release/perfaudit}
BIN=$(realpath "$BIN")
WORK=${PERFAUDIT_DEPS_WORK:-$HOME/.cache/perfaudit-deps}
CORPORA=${PERFAUDIT_CORPORA:-$HOME/.cache/perfaudit-corpora}
CORPUS=${PERFAUDIT_DEPS_CORPUS:-homeassistant-2025.4.4}
PY=
for candidate in python3.12 "$HOME/.pyenv/versions/3.12.1/bin/python3.12" python3; do
    if "$candidate" -c 'import venv' 2>/dev/null; then PY=$candidate; break; fi
done
mkdir -p "$WORK"
OUT=$HERE/RESULTS.md

venv() { # NAME PACKAGES...
    local dir=$WORK/$1
    shift
    if [[ ! -f $dir/.complete ]]; then
        rm -rf "$dir"
        "$PY" -m venv "$dir"
        "$dir/bin/pip" install --quiet "$@"
        touch "$dir/.complete"
    fi
}

# --- 1. Pillow and GitPython -------------------------------------------------------------
venv pillow-git Pillow GitPython
svc=$WORK/service
rm -rf "$svc" && cp -r "$HERE/service" "$svc"
(cd "$svc" && "$BIN" audit . --python "$WORK/pillow-git" --format json --fail-on never \
    --no-cache -o "$WORK/service.json")
(cd "$svc" && "$BIN" audit . --python "$WORK/pillow-git" --fail-on never --no-cache \
    --color never) >"$WORK/service.txt"

# --- 2. A realistic environment -------------------------------------------------------------
venv realistic chainlit jupyter-server mitmproxy python-telegram-bot aiohttp Pillow GitPython \
    boto3 openai anthropic litellm langchain-openai paho-mqtt nbconvert pytube requests pyyaml \
    sqlalchemy redis psycopg2-binary pandas httpx
packages=$(find "$WORK/realistic/lib" -maxdepth 3 -name '*.dist-info' | wc -l)
copy=$WORK/corpus
rm -rf "$copy" && cp -r "$CORPORA/$CORPUS" "$copy"

measure() { # LABEL RUNS ARGS... -> "| label | median seconds | peak MiB | findings | deps |"
    local label=$1 runs=$2
    shift 2
    local times=() peak=0 deps="" err t0 t1 p
    err=$(mktemp)
    for ((i = 0; i < runs; i++)); do
        t0=$(date +%s.%N)
        (cd "$copy" && PERFAUDIT_TIMINGS=1 "$BIN" audit . --format json --fail-on never "$@" \
            -o "$WORK/$label.json") 2>"$err"
        t1=$(date +%s.%N)
        times+=("$(echo "$t1 - $t0" | bc)")
        p=$(grep -o 'after rules [0-9?]*/[0-9?]*' "$err" | sed 's#.*/##')
        ((p > peak)) && peak=$p
        deps=$(grep '^deps:' "$err" || true)
    done
    rm -f "$err"
    local median
    median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    printf '| %s | %.2f | %s | %s | %s |\n' "$label" "$median" "$peak" \
        "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' \
            "$WORK/$label.json")" "${deps:-}"
}

# A first run to warm the page cache, not reported.
(cd "$copy" && "$BIN" audit . --format json --fail-on never --no-cache -o /dev/null)
rows=$(
    measure without 3 --no-cache
    measure cold 3 --no-cache --python "$WORK/realistic"
    rm -rf "$copy/.perfaudit_cache"
    measure warm-first 1 --python "$WORK/realistic"
    measure warm 3 --python "$WORK/realistic"
    measure warm-without 3
)

# --- 3. Every corpus, without and with the environment (read only: no cache) ---------------
diffs=$WORK/diffs
mkdir -p "$diffs"
grep -v '^#' "$HERE/../corpora/corpora.txt" | while read -r name version _python paths; do
    dir=$CORPORA/$name-$version
    [[ -f $dir/.complete ]] || continue
    read -ra targets <<<"$paths"
    (cd "$dir" && "$BIN" audit "${targets[@]}" --format json --fail-on never --no-cache \
        -o "$diffs/$name-without.json" </dev/null)
    (cd "$dir" && "$BIN" audit "${targets[@]}" --format json --fail-on never --no-cache \
        --python "$WORK/realistic" -o "$diffs/$name-with.json" </dev/null)
done

python3 - "$WORK" "$OUT" "$packages" "$CORPUS" "$rows" <<'PY'
import json, sys
work, out, packages, corpus, rows = sys.argv[1:]
d = json.load(open(f"{work}/service.json"))
lines = []
for f in d["findings"]:
    lib = [s for s in f["chain"] if s.get("library")]
    if not lib:
        continue
    chain = " → ".join(
        f'{s["function"]} ({s["path"]}:{s["line"]}{", library" if s.get("library") else ""})'
        for s in f["chain"])
    lines.append(f'- `{f["code"]}` {f["path"]}:{f["line"]} [{f["severity"]}] {f["message"]}\n  chain: {chain}')
found = {l.split()[2] for l in lines}
ok = "app.py:9" in found and "app.py:16" in found
base = {(f["code"], f["path"], f["line"]) for f in json.load(open(f"{work}/without.json"))["findings"]}
cold = json.load(open(f"{work}/cold.json"))
new = [f for f in cold["findings"] if (f["code"], f["path"], f["line"]) not in base]
with open(out, "w") as w:
    w.write("# Following calls into installed libraries\n\n")
    w.write("Written by `bench/deps/run.sh`; numbers from one run on one machine.\n\n")
    w.write("## Pillow and GitPython\n\n")
    w.write("`service/app.py` audited with `--python` a venv holding Pillow and GitPython "
            f"from the registry. Both calls found with chains into the libraries: **{'yes' if ok else 'NO'}**.\n\n")
    w.write("\n".join(lines) + "\n\n")
    w.write(f"## A realistic environment ({packages} distributions)\n\n")
    w.write(f"`{corpus}` audited in one run, side by side: without `--python`, with it and no "
            "cache (cold: every library summary computed), and with the cache (the first run "
            "fills it, the second reuses it); `warm-without` is the cached run without `--python`. "
            "Compare `cold` with `without` (neither uses a cache) and `warm` with `warm-without` "
            "(both reuse the module cache); `warm-first` also writes every module's facts to the "
            "module cache, so it is slower than either and is shown only as the run that fills "
            "the caches. Seconds are the median of three runs (one for `warm-first`), wall clock; "
            "peak resident memory from `PERFAUDIT_TIMINGS`, the highest of the runs.\n\n")
    w.write("| run | seconds | peak MiB | findings | library work |\n|---|---|---|---|---|\n")
    w.write(rows + "\n\n")
    w.write(f"Findings the environment adds: {len(new)}")
    by = {}
    for f in new:
        by[f["severity"]] = by.get(f["severity"], 0) + 1
    w.write(" (" + ", ".join(f"{v} {k}" for k, v in sorted(by.items())) + ")\n" if by else "\n")
    for f in sorted(new, key=lambda f: (f["path"], f["line"]))[:40]:
        lib = [s for s in f["chain"] if s.get("library")]
        w.write(f'- `{f["code"]}` {f["path"]}:{f["line"]} [{f["severity"]}] via '
                f'{lib[0]["path"]}:{lib[0]["line"]} → … → {lib[-1]["path"]}:{lib[-1]["line"]}\n')
import glob, os
with open(out, "a") as w:
    w.write("\n## Every corpus, without and with the environment\n\n")
    w.write("Each pinned corpus audited without `--python` and with the realistic venv (no cache). "
            "Findings compared by (code, path, line); `live` counts those in code a service runs.\n\n")
    w.write("| corpus | findings without | with | added (live, by band) | removed |\n|---|---|---|---|---|\n")
    details = []
    for without in sorted(glob.glob(f"{work}/diffs/*-without.json")):
        name = os.path.basename(without)[:-len("-without.json")]
        a = json.load(open(without))["findings"]
        b = json.load(open(f"{work}/diffs/{name}-with.json"))["findings"]
        ka = {(f["code"], f["path"], f["line"]): f for f in a}
        kb = {(f["code"], f["path"], f["line"]): f for f in b}
        added = [kb[k] for k in sorted(kb.keys() - ka.keys())]
        removed = [ka[k] for k in sorted(ka.keys() - kb.keys())]
        bands = {}
        for f in added:
            if f["not_run"] is None:
                bands[f["severity"]] = bands.get(f["severity"], 0) + 1
        w.write(f"| {name} | {len(a)} | {len(b)} | {len(added)} ("
                + (", ".join(f"{v} {k}" for k, v in sorted(bands.items())) or "none live") + f") | {len(removed)} |\n")
        for f in added + removed:
            lib = [s for s in f["chain"] if s.get("library")]
            where = f' via {lib[0]["path"]}:{lib[0]["line"]} … {lib[-1]["path"]}:{lib[-1]["line"]}' if lib else ""
            sign = "+" if f in added else "-"
            details.append(f'- {sign} {name}: `{f["code"]}` {f["path"]}:{f["line"]} [{f["severity"]}'
                           f'{", not run: " + f["not_run"] if f["not_run"] else ""}]{where}')
    w.write("\n" + "\n".join(details) + "\n")
print(open(out).read())
PY
