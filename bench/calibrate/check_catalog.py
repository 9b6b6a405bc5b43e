"""Validate data/apis.toml against the catalog schema.

    python bench/calibrate/check_catalog.py [path/to/apis.toml]

Checks: the file parses (tomllib); every [[api]] entry has a name, a known
effect, float low_ms <= high_ms (both >= 0) and a non-empty source; names
are unique, sorted in byte order and well formed ('*' only as a whole
dotted segment); optional fields have the right types; every
"measured: <path>" in a source names a calibration script that exists.
model-load entries carry memory_mb or sizes, and sizes keys are not shadowed
by an earlier key. Notes (not errors) list sizes tables whose result would
change if a loader read the keys in sorted rather than written order.
Prints the number of entries per effect and exits 1 on any error.
"""

import re
import sys
import tomllib
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT = REPO / "data" / "apis.toml"

EFFECTS = {
    "sleep", "network", "disk", "subprocess", "fs-walk", "db", "redis", "browser", "input",
    "model-load", "connection", "socket", "executor", "cpu", "regex", "serialization",
    "config-parse", "import", "deepcopy", "wait", "local",
}
REQUIRED = {"name", "effect", "low_ms", "high_ms", "source"}
OPTIONAL = {"arg_seconds", "memory_mb", "sizes", "returns", "returns_for", "returns_module", "timeout_kw", "url_arg", "peer_arg", "lazy", "rcvtimeo", "exit", "release", "log_file", "unless_keyword", "async_alternative",
            "note", "implemented_by"}
SEGMENT = re.compile(r"^(\*|[A-Za-z_][A-Za-z0-9_]*)$")
MEASURED = re.compile(r"measured: (\S+?\.py)\b")


def first_match(keys: list[str], literal: str) -> str | None:
    lit = literal.lower()
    return next((k for k in keys if k.lower() in lit), None)


def order_sensitive(sizes: dict) -> list[str]:
    """Keys whose literal would get another size if the table were read in sorted key order
    instead of the order written (a TOML map that does not preserve order iterates sorted)."""
    written = list(sizes)
    ordered = sorted(sizes)
    out = []
    for key in written:
        a, b = first_match(written, key), first_match(ordered, key)
        if a != b:
            out.append(f"literal {key!r} matches {a!r} in written order but {b!r} in sorted order")
    return out


order_warnings: list[str] = []


def check(path: Path) -> list[str]:
    errors: list[str] = []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        return [f"cannot load {path}: {exc}"]
    extra_top = set(data) - {"api"}
    if extra_top:
        errors.append(f"unexpected top-level keys: {sorted(extra_top)}")
    entries = data.get("api")
    if not isinstance(entries, list) or not entries:
        return errors + ["no [[api]] entries"]

    names: list[str] = []
    for i, e in enumerate(entries):
        where = f"entry {i + 1} ({e.get('name', '?')})"
        missing = REQUIRED - set(e)
        if missing:
            errors.append(f"{where}: missing {sorted(missing)}")
        unknown = set(e) - REQUIRED - OPTIONAL
        if unknown:
            errors.append(f"{where}: unknown keys {sorted(unknown)}")
        name = e.get("name")
        if not isinstance(name, str) or not name:
            errors.append(f"{where}: name must be a non-empty string")
        else:
            names.append(name)
            if not all(SEGMENT.match(seg) for seg in name.split(".")):
                errors.append(f"{where}: malformed name")
        if e.get("effect") not in EFFECTS:
            errors.append(f"{where}: unknown effect {e.get('effect')!r}")
        lo, hi = e.get("low_ms"), e.get("high_ms")
        for key, val in (("low_ms", lo), ("high_ms", hi)):
            if not isinstance(val, float):
                errors.append(f"{where}: {key} must be a TOML float, got {val!r}")
        if isinstance(lo, float) and isinstance(hi, float):
            if lo < 0 or hi < 0:
                errors.append(f"{where}: negative latency")
            if lo > hi:
                errors.append(f"{where}: low_ms {lo} > high_ms {hi}")
        source = e.get("source")
        if not isinstance(source, str) or not source.strip():
            errors.append(f"{where}: empty source")
        else:
            for ref in MEASURED.findall(source):
                if not ref.startswith("bench/calibrate/"):
                    errors.append(f"{where}: measured source outside bench/calibrate/: {ref}")
                elif not (REPO / ref).is_file():
                    errors.append(f"{where}: measured source names a missing script: {ref}")
            if source.startswith("measured:") and not MEASURED.match(source):
                errors.append(f"{where}: 'measured:' must be followed by a script path")
        if "arg_seconds" in e and (not isinstance(e["arg_seconds"], int)
                                   or isinstance(e["arg_seconds"], bool) or e["arg_seconds"] < 0):
            errors.append(f"{where}: arg_seconds must be a non-negative integer")
        if "returns_module" in e and e["returns_module"] not in ("named", "top-level"):
            errors.append(f"{where}: returns_module must be \"named\" or \"top-level\"")
        if "memory_mb" in e:
            if not isinstance(e["memory_mb"], float) or e["memory_mb"] < 0:
                errors.append(f"{where}: memory_mb must be a non-negative float")
            if e.get("effect") != "model-load":
                errors.append(f"{where}: memory_mb is only for effect = model-load")
        if "sizes" in e:
            sizes = e["sizes"]
            if not isinstance(sizes, dict) or not sizes:
                errors.append(f"{where}: sizes must be a non-empty inline table")
            else:
                for k, v in sizes.items():
                    if not k or not isinstance(v, float) or v < 0:
                        errors.append(f"{where}: bad sizes entry {k!r} = {v!r}")
                keys = list(sizes)
                for a_idx, a in enumerate(keys):
                    for b in keys[a_idx + 1:]:
                        if a in b:
                            errors.append(f"{where}: sizes key {b!r} can never match: "
                                          f"the earlier key {a!r} is a substring of it")
            if e.get("effect") != "model-load":
                errors.append(f"{where}: sizes is only for effect = model-load")
            elif isinstance(sizes, dict):
                order_warnings.extend(f"{where}: {w}" for w in order_sensitive(sizes))
        if e.get("effect") == "model-load" and "memory_mb" not in e and "sizes" not in e:
            errors.append(f"{where}: model-load entry without memory_mb or sizes")
        for key in ("returns", "async_alternative", "note"):
            if key in e and (not isinstance(e[key], str) or not e[key].strip()):
                errors.append(f"{where}: {key} must be a non-empty string")
        if "implemented_by" in e and not (
                isinstance(e["implemented_by"], str)
                and all(SEGMENT.match(s) and s != "*" for s in e["implemented_by"].split("."))):
            errors.append(f"{where}: implemented_by must be a dotted name without `*`")
        if "returns" in e and isinstance(e["returns"], str) and not all(
                SEGMENT.match(s) and s != "*" for s in e["returns"].split(".")):
            errors.append(f"{where}: malformed returns type")
        if "timeout_kw" in e and not isinstance(e["timeout_kw"], bool):
            errors.append(f"{where}: timeout_kw must be a boolean")
        if "url_arg" in e and not isinstance(e["url_arg"], bool):
            errors.append(f"{where}: url_arg must be a boolean")
        if "peer_arg" in e and not isinstance(e["peer_arg"], bool):
            errors.append(f"{where}: peer_arg must be a boolean")

    dups = sorted(n for n, c in Counter(names).items() if c > 1)
    if dups:
        errors.append(f"duplicate names: {dups}")
    for a, b in zip(names, names[1:]):
        if a.encode() > b.encode():
            errors.append(f"not sorted: {a!r} comes before {b!r}")
    return errors


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    errors = check(path)
    if errors:
        for err in errors:
            print(f"ERROR: {err}")
        print(f"{len(errors)} error(s) in {path}")
        return 1
    for warning in order_warnings:
        print(f"note: {warning} (the loader must keep the written order)")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    counts = Counter(e["effect"] for e in data["api"])
    measured = sum(1 for e in data["api"] if e["source"].startswith("measured:"))
    print(f"{path.name}: {len(data['api'])} entries OK ({measured} with a measured source)")
    for effect, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {effect:<14} {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
