"""Re-apply measured results to data/apis.toml after a new calibration run.

    python bench/calibrate/refresh_catalog.py [--write]

Every measured entry's note starts with the rule its range came from, e.g.

    low_ms = median of http_session.py `<row>`; high_ms = 1.5 x p90 of http_session.py `<row>`

(or "high_ms as cited" when the high end comes from a citation). This
script reads bench/calibrate/results/<script>.json, recomputes low_ms /
high_ms with the same rounding (3 significant digits, the high end rounded
up) and prints what would change; with --write it rewrites only those two
lines of each affected entry, leaving comments, order and notes as they are.
Rows missing from the results (a skipped script) are left alone. Numbers
quoted inside notes are not updated. Run check_catalog.py afterwards.
"""

import json
import math
import re
import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
CATALOG = HERE.parents[1] / "data" / "apis.toml"
RESULTS = HERE / "results"

LOW = re.compile(r"low_ms = median of (\w+)\.py `([^`]+)`")
HIGH = re.compile(r"high_ms = ([0-9.]+) x p90 of (\w+)\.py `([^`]+)`")


def sig(x: float, n: int = 3, up: bool = False) -> float:
    if x <= 0:
        return 0.0
    e = math.floor(math.log10(abs(x)))
    f = 10 ** (e - n + 1)
    v = (math.ceil(x / f) if up else round(x / f)) * f
    return float(f"{v:.{max(0, -(e - n + 1))}f}")


def fmt(x: float) -> str:
    if x == int(x) and abs(x) < 1e15:
        return f"{int(x)}.0"
    s = f"{x:.6f}".rstrip("0")
    return s + "0" if s.endswith(".") else s


def load_results() -> dict:
    out = {}
    for path in RESULTS.glob("*.json"):
        data = json.loads(path.read_text())
        out[path.stem] = {r["name"]: r for r in data.get("results", [])}
    return out


def main() -> int:
    write = "--write" in sys.argv[1:]
    results = load_results()
    text = CATALOG.read_text(encoding="utf-8")
    parts = re.split(r"(?m)^(?=\[\[api\]\]$)", text)
    changed = 0
    for i, block in enumerate(parts):
        if not block.startswith("[[api]]"):
            continue
        entry = tomllib.loads(block)["api"][0]
        note = entry.get("note", "")
        lm = LOW.search(note)
        if not lm:
            continue
        lrow = results.get(lm.group(1), {}).get(lm.group(2))
        if lrow is None:
            continue
        low = sig(max(lrow["median_ms"], 0.0001))
        high = entry["high_ms"]
        hm = HIGH.search(note)
        if hm:
            hrow = results.get(hm.group(2), {}).get(hm.group(3))
            if hrow is None:
                continue
            high = sig(max(hrow["p90_ms"] * float(hm.group(1)), 0.0001), up=True)
        high = max(high, low)
        if (low, high) == (entry["low_ms"], entry["high_ms"]):
            continue
        changed += 1
        print(f"{entry['name']}: {entry['low_ms']}..{entry['high_ms']} -> {low}..{high}")
        block = re.sub(r"(?m)^low_ms = .*$", f"low_ms = {fmt(low)}", block, count=1)
        block = re.sub(r"(?m)^high_ms = .*$", f"high_ms = {fmt(high)}", block, count=1)
        parts[i] = block
    if write and changed:
        CATALOG.write_text("".join(parts), encoding="utf-8")
    print(f"{changed} entr{'y' if changed == 1 else 'ies'} "
          f"{'updated' if write else 'would change (use --write)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
