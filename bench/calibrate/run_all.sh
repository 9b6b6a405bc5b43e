#!/usr/bin/env bash
# Run every calibration script and print a summary table.
#
#   bench/calibrate/run_all.sh [--full] [--no-install] [--wait-idle N] [SCRIPT.py ...]
#
#   --full        also install the heavy extras (requirements-full.txt: a small
#                 sentence-transformers model with torch, selenium, playwright,
#                 psycopg2) and, when root, Debian's chromium, chromium-driver and
#                 postgresql, so browser.py, small_model.py and
#                 postgres_connect.py measure instead of skipping.
#   --no-install  use the existing virtualenv as it is; install nothing.
#   --wait-idle N before each script, wait up to N seconds for the machine to be
#                 idle (CPU busy < 25% for 6 s); the busy fraction seen is
#                 recorded in the results. Other work running at the same time
#                 inflates every figure.
#   SCRIPT.py ... run only these scripts (default: all).
#
# On a shared machine, running it as root under `nice -n -10 ionice -c2 -n0`
# reduces (but does not remove) the interference of other work; the niceness
# is recorded in the results too.
#
# Results go to bench/calibrate/results/<script>.json.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"
FULL=0
INSTALL=1
WAIT_IDLE=0
ONLY=()
while [ $# -gt 0 ]; do
  case "$1" in
    --full) FULL=1 ;;
    --no-install) INSTALL=0 ;;
    --wait-idle) shift; WAIT_IDLE="${1:?--wait-idle needs a number of seconds}" ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *.py) ONLY+=("$1") ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

PYTHON_BIN="${PYTHON:-}"
if [ -z "$PYTHON_BIN" ]; then
  for cand in python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1; then PYTHON_BIN="$cand"; break; fi
  done
fi
if [ -z "$PYTHON_BIN" ]; then
  echo "no python3 found" >&2; exit 1
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "== creating virtualenv $VENV"
  "$PYTHON_BIN" -m venv "$VENV" || { echo "venv creation failed" >&2; exit 1; }
fi
PY="$VENV/bin/python"

apt_updated=0
apt_install() {
  # Install Debian packages when running as root; never fatal.
  if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "   (not root or no apt-get: skipping install of $*)"
    return 0
  fi
  if [ "$apt_updated" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
    || echo "   apt-get install $* failed; the scripts that need it will skip"
}

if [ "$INSTALL" = 1 ]; then
  echo "== installing Python requirements"
  "$PY" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  "$PY" -m pip install -q -r "$HERE/requirements.txt" || echo "   some requirements failed to install"
  if [ "$FULL" = 1 ]; then
    echo "== installing heavy extras (requirements-full.txt)"
    "$PY" -m pip install -q -r "$HERE/requirements-full.txt" \
      || echo "   some extras failed to install; their scripts will skip"
  fi
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "== redis-server missing: trying apt-get"
    apt_install redis-server
  fi
  if [ "$FULL" = 1 ]; then
    need=()
    command -v chromium >/dev/null 2>&1 || need+=(chromium)
    command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
    if [ "${#need[@]}" -gt 0 ]; then
      echo "== installing ${need[*]}"
      apt_install "${need[@]}"
    fi
  fi
fi

SCRIPTS=(
  sleep.py
  socket_connect.py
  http_session.py
  api_clients.py
  redis_client.py
  sqlite_connect.py
  postgres_connect.py
  zmq_context.py
  executor.py
  subprocess_spawn.py
  file_io.py
  sync_waits.py
  yaml_config.py
  json_log.py
  regex_compile.py
  deepcopy.py
  list_scan.py
  path_ops.py
  crypto_hash.py
  pandas_rows.py
  heavy_import.py
  browser.py
  small_model.py
)

# Timing figures are only meaningful on an otherwise idle machine.
"$PY" - <<'PYEOF'
import os
load, cores = os.getloadavg()[0], os.cpu_count() or 1
if load > cores / 2:
    print(f"WARNING: load average {load:.1f} on {cores} cores: other work is running and "
          "will inflate the figures (the load is recorded in each results file)")
PYEOF

if [ "${#ONLY[@]}" -gt 0 ]; then
  SCRIPTS=("${ONLY[@]}")
fi

mkdir -p "$HERE/results"
failed=()
cd "$HERE" || exit 1
for script in "${SCRIPTS[@]}"; do
  echo "== $script"
  busy="$("$PY" -c "import _common; print(round(_common.wait_for_idle($WAIT_IDLE), 2))")"
  echo "   CPU busy before start: $busy"
  if ! CALIBRATE_BUSY_BEFORE="$busy" timeout 1200 "$PY" "$script"; then
    echo "   $script FAILED"
    failed+=("$script")
  fi
done

echo
echo "== summary (median / p90, ms)"
"$PY" - "${SCRIPTS[@]}" <<'PYEOF'
import json, sys
from pathlib import Path
results = Path("results")
print(f"{'script':<20} {'measurement':<62} {'median':>11} {'p90':>11}")
print("-" * 107)
for script in sys.argv[1:]:
    path = results / (Path(script).stem + ".json")
    if not path.exists():
        print(f"{script:<20} (no results)")
        continue
    data = json.loads(path.read_text())
    if data.get("skipped"):
        print(f"{script:<20} SKIPPED: {data['skipped']}")
        continue
    for row in data["results"]:
        print(f"{script:<20} {row['name'][:62]:<62} {row['median_ms']:>11.4f} {row['p90_ms']:>11.4f}")
PYEOF

if [ "${#failed[@]}" -gt 0 ]; then
  echo "failed: ${failed[*]}"
  exit 1
fi
