#!/usr/bin/env bash
# Browser test of the HTML report: renders the bundled example's audit and the injection
# fixture's, opens each page in headless Chromium with `#selftest` (the page's own script then
# counts its table rows, applies a band filter, sorts, opens a detail row and records the
# outcome in <pre id="selftest">), checks the outcome and the console, and saves a screenshot.
#
# Usage: tests/browser/run.sh        (from anywhere; builds with cargo)
# Needs: chromium (installed from Debian's packages when missing and running as root), python3.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
out="$repo/target/browser"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ]; then
        echo "browser test: installing chromium" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "browser test: chromium is missing (install it, or run as root to let this script)" >&2
        exit 2
    fi
fi

chromium_run() {
    # Every flag keeps the browser offline and stateless: the report must need nothing else.
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-extensions --user-data-dir="$work/profile" \
        --enable-logging=stderr --v=0 "$@"
}

# Checks one report: `check NAME REPORT_DIR`.
check() {
    local name="$1" dir="$2"
    local page="file://$dir/report.html#selftest"
    chromium_run --dump-dom "$page" >"$work/$name.dom" 2>"$work/$name.log" || true
    python3 - "$work/$name.dom" "$work/$name.log" "$dir/findings.json" "$name" <<'PY'
import html, json, re, sys

dom_path, log_path, findings_path, name = sys.argv[1:5]
dom = open(dom_path, encoding="utf-8").read()
log = open(log_path, encoding="utf-8", errors="replace").read()
findings = json.load(open(findings_path, encoding="utf-8"))["findings"]

m = re.search(r'<pre id="selftest">(.*?)</pre>', dom, re.S)
if not m:
    sys.exit(f"{name}: the page did not run its self-test (script failed to load?)")
result = json.loads(html.unescape(m.group(1)))
problems = []
if result.get("rows") != len(findings):
    problems.append(f"table has {result.get('rows')} rows, findings.json has {len(findings)}")
band = result.get("band")
expected = sum(1 for f in findings if f["severity"] == band)
if result.get("band_rows") != expected:
    problems.append(f"band filter `{band}` shows {result.get('band_rows')} rows, expected {expected}")
if len(findings) > 1 and result.get("band_rows") == result.get("rows") and expected != len(findings):
    problems.append("the band filter did not change the table")
if result.get("rows_after_reset") != len(findings):
    problems.append("clearing the band filter did not restore every row")
if result.get("errors"):
    problems.append(f"script errors: {result['errors']}")
if not result.get("ok"):
    problems.append(f"self-test not ok: {result}")
console = [l for l in log.splitlines() if "CONSOLE" in l or "Uncaught" in l]
if console:
    problems.append("console messages:\n  " + "\n  ".join(console))
if problems:
    sys.exit(f"{name}: " + "\n".join(problems))
print(f"{name}: ok ({result['rows']} rows; `{band}` filter shows {result['band_rows']}; page ready in {result.get('elapsed_ms')} ms)")
PY
}

cargo build -q
# The target directory may live outside the checkout (CARGO_TARGET_DIR, .cargo/config): ask cargo.
target_dir="$(cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
bin="$target_dir/debug/perfaudit"

"$bin" audit examples/agent_system --output-dir "$work/example" --fail-on never --quiet
check "bundled example" "$work/example"

# The injection fixture: its hostile comment must stay text, so the page still has only its own
# two scripts (the self-test checks `document.scripts.length`).
"$bin" audit tests/fixtures/projects/injection --output-dir "$work/injection" --fail-on never --quiet
check "injection fixture" "$work/injection"

chromium_run --hide-scrollbars --window-size=1400,1000 --screenshot="$out/report.png" \
    "file://$work/example/report.html" >/dev/null 2>&1
test -s "$out/report.png"
echo "browser test passed; screenshot: $out/report.png"
