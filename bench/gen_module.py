#!/usr/bin/env python3
"""Writes one generated Python module of N small functions, for measuring how the audit scales
with the size of a single module (bench/README.md, "Module size").

usage: gen_module.py N OUT.py

Each function calls the one before it, a catalog API (json, re, requests, time), and every
tenth is a request handler (`handle_*`) or an `async def`, so that call edges, contexts and
rules all have work to do. Nothing here imports or runs the generated code.
"""

import sys


def main() -> None:
    n, out = int(sys.argv[1]), sys.argv[2]
    lines = ["import json", "import re", "import time", "", "import requests", "", ""]
    for i in range(n):
        kind = i % 10
        name = f"handle_{i}" if kind == 0 else f"step_{i}"
        prefix = "async def" if kind == 5 else "def"
        lines.append(f"{prefix} {name}(items, key={i}):")
        lines.append(f'    """Function {i} of a generated module."""')
        if i:
            prev = f"handle_{i - 1}" if (i - 1) % 10 == 0 else f"step_{i - 1}"
            lines.append(f"    out = {prev}(items)" if (i - 1) % 10 != 5 else "    out = None")
        else:
            lines.append("    out = None")
        lines.append("    for item in items:")
        lines.append(f'        if re.match(r"k{i}", str(item)):')
        lines.append("            out = json.loads(json.dumps(item))")
        if kind == 3:
            lines.append('    requests.get("http://localhost/", timeout=1)')
        if kind == 7:
            lines.append("    time.sleep(0.001)")
        lines.append("    return out")
        lines.append("")
        lines.append("")
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
