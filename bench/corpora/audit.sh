#!/usr/bin/env bash
# Audit every pinned corpus (fetched by fetch.sh, list in corpora.txt) with one perfaudit
# binary, write a JSON and a text report per corpus into OUT_DIR, and print each corpus's
# counts by severity. Run from anywhere; the corpora are only read.
#
# Usage: bench/corpora/audit.sh [BINARY] [OUT_DIR]
#   BINARY   perfaudit to run (default: release/perfaudit under $CARGO_TARGET_DIR, else
#            under target/ of this checkout)
#   OUT_DIR  where <name>-<version>.json and .txt go
#            (default: ${PERFAUDIT_CORPORA:-$HOME/.cache/perfaudit-corpora}/reports)
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
DEST=${PERFAUDIT_CORPORA:-$HOME/.cache/perfaudit-corpora}
BIN=${1:-${CARGO_TARGET_DIR:-$HERE/../../target}/release/perfaudit}
[[ -x $BIN ]] || { echo "audit.sh: no perfaudit binary at $BIN" >&2; exit 2; }
BIN=$(realpath "$BIN")
OUT=${2:-$DEST/reports}
mkdir -p "$OUT" && OUT=$(realpath "$OUT")

printf '%-28s %6s %8s %8s %8s %8s %8s %8s\n' corpus files critical high medium low info total
grep -v '^#' "$HERE/corpora.txt" | while read -r name version _python paths; do
    dir=$DEST/$name-$version
    [[ -f $dir/.complete ]] || { echo "audit.sh: $dir missing: run fetch.sh" >&2; exit 2; }
    read -ra targets <<<"$paths"
    base=$OUT/$name-$version
    # Relative paths, so that reports name files as the corpus does.
    (cd "$dir" && "$BIN" audit "${targets[@]}" --format json --fail-on never --no-cache -o "$base.json" </dev/null)
    (cd "$dir" && "$BIN" audit "${targets[@]}" --format text --fail-on never --no-cache -o "$base.txt" </dev/null)
    python3 - "$base.json" "$name-$version" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]["by_severity"]
print("%-28s %6d %8d %8d %8d %8d %8d %8d" % (sys.argv[2], d["summary"]["files_scanned"], s["critical"],
      s["high"], s["medium"], s["low"], s["info"], len(d["findings"])))
PY
done
echo "reports in $OUT"
