"""Shared helpers for the calibration scripts.

Every script measures a handful of operations with time.perf_counter,
summarises each one as median / p90 in milliseconds and writes
results/<script>.json next to this file.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import socket
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank-with-interpolation percentile, q in [0, 100]."""
    data = sorted(samples)
    if not data:
        return float("nan")
    if len(data) == 1:
        return data[0]
    pos = (len(data) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    frac = pos - lo
    return data[lo] + (data[hi] - data[lo]) * frac


def time_calls(fn: Callable[[], object], n: int, warmup: int = 2, batch: int = 1,
               setup: Callable[[], object] | None = None) -> list[float]:
    """Run fn n times (after warmup runs) and return per-call times in ms.

    With batch > 1 each sample times `batch` consecutive calls and divides,
    which is how sub-microsecond operations are measured without the timer
    itself dominating. `setup`, when given, runs before every sample and is
    not timed.
    """
    for _ in range(warmup):
        if setup is not None:
            setup()
        for _ in range(batch):
            fn()
    samples = []
    for _ in range(n):
        if setup is not None:
            setup()
        t0 = time.perf_counter()
        for _ in range(batch):
            fn()
        t1 = time.perf_counter()
        samples.append((t1 - t0) * 1000.0 / batch)
    return samples


def summary(name: str, samples: list[float], **extra) -> dict:
    row = {
        "name": name,
        "median_ms": round(statistics.median(samples), 6),
        "p90_ms": round(percentile(samples, 90), 6),
        "min_ms": round(min(samples), 6),
        "n": len(samples),
    }
    row.update(extra)
    return row


def machine_info() -> dict:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gib = None
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
                    break
    except OSError:
        pass
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    busy = os.environ.get("CALIBRATE_BUSY_BEFORE")
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "system": platform.system(),
        "release": platform.release(),
        "machine": platform.machine(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "mem_gib": mem_gib,
        # 1/5/15-minute load average when the results were written: figures
        # taken while other work ran on the machine are inflated.
        "loadavg": load,
        # CPU busy fraction sampled by run_all.sh just before the script started.
        "cpu_busy_before": float(busy) if busy else None,
        "nice": os.nice(0) if hasattr(os, "nice") else None,
    }


def write_results(script: str, rows: list[dict], notes: str = "",
                  skipped: str | None = None, versions: dict | None = None) -> Path:
    """Write results/<script>.json and print a short table."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stem = Path(script).stem
    payload = {
        "script": f"bench/calibrate/{stem}.py",
        "date": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "machine": machine_info(),
        "versions": versions or {},
        "notes": notes,
        "skipped": skipped,
        "results": rows,
    }
    out = RESULTS_DIR / f"{stem}.json"
    out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    if skipped:
        print(f"[{stem}] SKIPPED: {skipped}")
    for row in rows:
        print(f"[{stem}] {row['name']:<48} median {row['median_ms']:>10.4f} ms"
              f"   p90 {row['p90_ms']:>10.4f} ms   n={row['n']}")
    return out


def skip(script: str, reason: str) -> None:
    write_results(script, [], skipped=reason)
    sys.exit(0)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def version_of(dist: str) -> str | None:
    try:
        from importlib.metadata import version
        return version(dist)
    except Exception:
        return None


def scratch_dir():
    """A temporary directory on the same file system as the repository
    (not the system temporary directory, which may be RAM-backed on some
    machines)."""
    import tempfile
    base = HERE / ".scratch"
    base.mkdir(exist_ok=True)
    return tempfile.TemporaryDirectory(dir=base)


def cpu_busy(interval: float = 2.0) -> float:
    """Fraction of all CPU time spent busy over `interval` seconds (Linux /proc/stat)."""
    def snap():
        with open("/proc/stat", encoding="ascii") as fh:
            vals = [int(x) for x in fh.readline().split()[1:]]
        return vals[3] + vals[4], sum(vals)  # idle + iowait, total
    idle0, tot0 = snap()
    time.sleep(interval)
    idle1, tot1 = snap()
    return 1.0 - (idle1 - idle0) / max(1, tot1 - tot0)


def wait_for_idle(max_wait: float, threshold: float = 0.25, quiet_samples: int = 3) -> float:
    """Wait until the machine is mostly idle (busy < threshold for `quiet_samples`
    consecutive 2-second samples) or `max_wait` seconds pass. Returns the last
    busy fraction; on non-Linux systems returns -1 immediately."""
    if not os.path.exists("/proc/stat"):
        return -1.0
    deadline = time.monotonic() + max_wait
    quiet = 0
    busy = cpu_busy()
    while True:
        quiet = quiet + 1 if busy < threshold else 0
        if quiet >= quiet_samples or time.monotonic() >= deadline:
            return busy
        busy = cpu_busy()
