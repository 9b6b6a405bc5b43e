#!/usr/bin/env bash
# Download the pinned corpora of the precision record (docs/precision.md, list in corpora.txt)
# from PyPI, one wheel each, and unpack each into
# ${PERFAUDIT_CORPORA:-$HOME/.cache/perfaudit-corpora}/<name>-<version>/.
# Idempotent: a corpus already unpacked (its .complete marker present) is skipped. Needs pip and
# the network; nothing downloaded is imported, built or run (a wheel is unpacked as a zip file).
#
# Usage: bench/corpora/fetch.sh [NAME...]   (default: every corpus in corpora.txt)
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
DEST=${PERFAUDIT_CORPORA:-$HOME/.cache/perfaudit-corpora}
mkdir -p "$DEST"
grep -v '^#' "$HERE/corpora.txt" | while read -r name version python _paths; do
    if [[ $# -gt 0 ]] && ! printf '%s\n' "$@" | grep -qx -- "$name"; then continue; fi
    dir=$DEST/$name-$version
    if [[ -f $dir/.complete ]]; then echo "fetch: $name $version already in $dir"; continue; fi
    tmp=$(mktemp -d)
    # The wheel for that Python: pure Python, or CPython manylinux where the package has C parts.
    pip download --quiet --no-deps --only-binary=:all: --python-version "$python" \
        --implementation cp --platform manylinux_2_17_x86_64 --platform any \
        --dest "$tmp" "$name==$version" </dev/null
    rm -rf "$dir" && mkdir -p "$dir"
    python3 -m zipfile -e "$tmp"/*.whl "$dir"
    rm -rf "$tmp"
    touch "$dir/.complete"
    echo "fetch: $name $version -> $dir ($(find "$dir" -name '*.py' | wc -l) .py files)"
done
