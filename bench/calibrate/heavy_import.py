"""Import time of common heavy modules, each in a fresh interpreter.

For every module that is installed, starts `python -c` with a timer
around the import statement only (interpreter start-up excluded) and
repeats it; the bare interpreter start-up is reported separately. Modules
that are not installed are listed in the notes and skipped. The OS page
cache is warm after the first (warm-up) run, so these are warm-start
figures; a cold container start reads the files from disk as well.
"""

import importlib.util
import subprocess
import sys
import time

from _common import summary, write_results

MODULES = [
    "json", "yaml", "requests", "httpx", "aiohttp", "redis", "zmq", "orjson", "sqlalchemy",
    "pymongo", "grpc", "boto3", "openai", "anthropic", "numpy", "pandas", "scipy", "sklearn",
    "matplotlib.pyplot", "cv2", "torch", "transformers", "sentence_transformers",
    "selenium.webdriver", "playwright.sync_api", "psycopg2",
]
RUNS = 7

PROBE = ("import time; t0 = time.perf_counter(); import {mod}; "
         "print((time.perf_counter() - t0) * 1000)")


def main() -> None:
    rows = []
    missing = []
    startup = []
    for i in range(RUNS + 1):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        if i:
            startup.append((time.perf_counter() - t0) * 1000)
    rows.append(summary("python interpreter start-up (python -c pass)", startup))

    for mod in MODULES:
        top = mod.split(".")[0]
        if importlib.util.find_spec(top) is None:
            missing.append(mod)
            continue
        samples = []
        ok = True
        for i in range(RUNS + 1):
            out = subprocess.run([sys.executable, "-c", PROBE.format(mod=mod)],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                ok = False
                break
            if i:
                samples.append(float(out.stdout.strip().splitlines()[-1]))
        if ok:
            rows.append(summary(f"import {mod} (fresh interpreter)", samples))
        else:
            missing.append(f"{mod} (import failed)")
    write_results(__file__, rows,
                  notes="not installed / skipped: " + (", ".join(missing) or "none"))


if __name__ == "__main__":
    main()
