#!/usr/bin/env python3
"""Measure what each hotspot perfaudit finds in the bundled example adds, and compare.

    python bench/estimates/measure.py --perfaudit PATH --out bench/ESTIMATES.md

Audits examples/agent_system with perfaudit (JSON), then, for every latency finding it knows
how to reproduce, measures on this machine what the hotspot adds to a request, with local
stand-ins only: a SQLite file in a temporary folder, an HTTP server on 127.0.0.1, a ZMQ peer
on 127.0.0.1. Where the example's own function can run here it is called (a `BaseAgent`
serving real ZMQ requests, `send_to_agent`, `fetch_json`, `MemoryService._insert`,
`Monitor.handle_request`, `load_config`, `log_event`); otherwise the finding's line is
replayed with the example's arguments. Libraries that are not installed (model libraries,
FastAPI, Redis, Selenium) are never imported: findings that need them are listed as not
measured, with the reason.

An estimate agrees when the measured time falls in the same latency band as the estimate's
typical value (below 10 ms low, below 100 ms medium, up to 1 s high, above critical): the band
a finding gets before its frequency caps it, which is not a latency and is not measured here.
It is a benchmark, not a timed test: the figures depend on the machine, which the report
states.
"""

import argparse
import asyncio
import copy
import json
import math
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import types
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
EXAMPLE = ROOT / "examples" / "agent_system"
ZERO_FLOOR_MS = 0.001


def band(ms):
    if ms > 1000.0:
        return "critical"
    if ms >= 100.0:
        return "high"
    if ms >= 10.0:
        return "medium"
    return "low"


def typical(low, high):
    return math.sqrt(max(low, ZERO_FLOOR_MS) * high) if high > 0 else 0.0


def fmt_ms(ms):
    if ms >= 1000:
        s = ms / 1000
        return f"{s:.0f} s" if s >= 10 else f"{s:.1f} s"
    if ms >= 1:
        return f"{ms:.0f} ms" if ms >= 10 else f"{ms:.1f} ms"
    return f"{ms * 1000:.0f} µs"


def median_ms(fn, n=30, warm=3):
    for _ in range(warm):
        fn()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


# --- local stand-ins --------------------------------------------------------------------


class _Json(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"ok": True, "current_weather": {"temperature": 12.5}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.do_GET()

    def log_message(self, *args):
        pass


def http_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Json)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def zmq_echo_peer(zmq):
    """A REP peer on 127.0.0.1 that answers at once: what the other agent would be, minus its
    work."""
    port = free_port()
    ctx = zmq.Context.instance()
    rep = ctx.socket(zmq.REP)
    rep.bind(f"tcp://127.0.0.1:{port}")

    def serve():
        while True:
            rep.send_json({"ok": True, "echo": rep.recv_json()})

    threading.Thread(target=serve, daemon=True).start()
    return f"tcp://127.0.0.1:{port}"


# --- measurements -----------------------------------------------------------------------
# Each returns (milliseconds the hotspot adds to one request, how it was measured).


class Bench:
    def __init__(self, tmp):
        import zmq

        self.zmq = zmq
        self.tmp = Path(tmp)
        self.url = http_server()
        self.peer = zmq_echo_peer(zmq)
        os.environ["AGENT_LOG_DIR"] = str(self.tmp / "logs")
        sys.path.insert(0, str(EXAMPLE))
        import yaml

        self.config = yaml.safe_load((EXAMPLE / "startup_config.yaml").read_text())

    def base_agent_sleep(self):
        """The real `BaseAgent.run` loop serving ZMQ requests, with its pause and without."""
        from common import base_agent

        zmq = self.zmq

        class Echo(base_agent.BaseAgent):
            def handle_request(self, msg):
                return {"ok": True}

        def per_request(pause):
            port = free_port()
            if not pause:
                base_agent.time = types.SimpleNamespace(
                    perf_counter=time.perf_counter, sleep=lambda s: None
                )
            try:
                agent = Echo("coordinator", port=port)
                threading.Thread(target=agent.run, daemon=True).start()
                req = zmq.Context.instance().socket(zmq.REQ)
                req.connect(f"tcp://127.0.0.1:{port}")
                n = 10
                req.send_json({"op": "ping"})
                req.recv_json()
                start = time.perf_counter()
                for _ in range(n):
                    req.send_json({"op": "ping"})
                    req.recv_json()
                ms = (time.perf_counter() - start) * 1000 / n
                agent.running = False
                req.close(linger=0)
                return ms
            finally:
                base_agent.time = time

        with_pause, without = per_request(True), per_request(False)
        return with_pause - without, (
            f"real `BaseAgent.run` on 127.0.0.1, 10 back-to-back requests: "
            f"{fmt_ms(with_pause)} per request with the pause, {fmt_ms(without)} without"
        )

    def send_to_agent(self):
        from common import utils

        zmq = self.zmq
        ms = median_ms(lambda: utils.send_to_agent(self.peer, {"op": "ping"}))
        kept = zmq.Context.instance().socket(zmq.REQ)
        kept.connect(self.peer)

        def reuse():
            kept.send_json({"op": "ping"})
            kept.recv_json()

        reused = median_ms(reuse)
        kept.close(linger=0)
        return ms, (
            f"real `send_to_agent` to a REP peer on 127.0.0.1 that answers at once (the other "
            f"agent's own work is not included); a kept socket takes {fmt_ms(reused)}"
        )

    def fetch_json(self):
        from common import utils

        return median_ms(lambda: utils.fetch_json(self.url + "/v1/forecast")), (
            "real `fetch_json` against an HTTP server on 127.0.0.1"
        )

    def sleep(self, seconds):
        return lambda: (
            median_ms(lambda: time.sleep(seconds), n=3, warm=0),
            f"the line replayed (`time.sleep({seconds})`)",
        )

    def _memory_db(self, rows):
        import sqlite3

        from agents import memory_service

        db = self.tmp / f"memory-{rows}.sqlite3"
        if db.exists():
            return db
        with sqlite3.connect(db) as conn:
            conn.execute(memory_service.SCHEMA)
            conn.executemany(
                "INSERT INTO memories VALUES (?, ?, ?, ?, ?)",
                [(f"id{i}", "user", f"text {i}", bytes(1536), time.time()) for i in range(rows)],
            )
        return db

    def memory_insert(self):
        if not module_available("numpy"):
            return None
        stub("sentence_transformers", SentenceTransformer=object)
        from agents import memory_service

        service = memory_service.MemoryService.__new__(memory_service.MemoryService)
        service.db_path = self._memory_db(0)
        i = iter(range(10**6))
        ms = median_ms(
            lambda: service._insert((f"m{next(i)}", "user", "text", bytes(1536), time.time()))
        )
        return ms, "real `MemoryService._insert` on a SQLite file in a temporary folder (commit included)"

    def memory_recall_connect(self):
        import sqlite3

        db = self._memory_db(200)

        def recall():
            conn = sqlite3.connect(db)
            conn.execute(
                "SELECT id, text, embedding FROM memories WHERE user = ?", ("user",)
            ).fetchall()
            conn.close()

        return median_ms(recall), "lines 67-69 replayed: connect, SELECT and fetchall of 200 rows, close"

    def memory_fetchall(self):
        import sqlite3

        conn = sqlite3.connect(self._memory_db(200))
        q = "SELECT id, text, embedding FROM memories WHERE user = ?"
        ms = median_ms(lambda: conn.execute(q, ("user",)).fetchall())
        return ms, "line 68 replayed on an open connection: SELECT and fetchall of 200 rows"

    def memory_membership(self):
        rows = [f"id{i}" for i in range(200)]
        pinned = [f"id{i}" for i in range(0, 200, 20)]

        def scan():
            for memory_id in rows:
                _ = memory_id in pinned

        return median_ms(scan), "line 74 replayed: 200 rows checked against 10 pinned ids"

    def monitor_probe(self):
        from agents import monitor

        m = monitor.Monitor.__new__(monitor.Monitor)
        m.http_targets = {
            a["name"]: self.url + a.get("options", {}).get("health_path", "/healthz")
            for a in self.config["agents"]
            if a.get("protocol") == "http"
        }
        n = len(m.http_targets)
        return median_ms(lambda: m.handle_request({"op": "probe"})), (
            f"real `Monitor.handle_request` (`probe`): a session and one `get` for each of the "
            f"{n} configured HTTP service(s), served on 127.0.0.1"
        )

    def monitor_alert(self):
        from agents import monitor

        m = monitor.Monitor.__new__(monitor.Monitor)
        m.webhook_url = self.url + "/hooks/alerts"
        return median_ms(lambda: m.handle_request({"op": "alert", "text": "disk full"})), (
            "real `Monitor.handle_request` (`alert`): one webhook POST, served on 127.0.0.1 "
            "(the manifest's `alert_webhook` is on localhost)"
        )

    def coordinator_pool(self):
        """The real broadcast branch, forwarding to a local echo peer on each configured port."""
        from agents import coordinator
        from common import utils

        zmq = self.zmq
        agents = [
            a for a in self.config["agents"] if a.get("protocol") == "zmq" and a["name"] != "coordinator"
        ]
        peers = []
        for a in agents:
            rep = zmq.Context.instance().socket(zmq.REP)
            try:
                rep.bind(f"tcp://127.0.0.1:{a['port']}")
            except zmq.ZMQError:
                rep.close(linger=0)
                return None
            peers.append(rep)

        def serve(rep):
            while True:
                rep.send_json({"ok": True, "echo": rep.recv_json()})

        for rep in peers:
            threading.Thread(target=serve, args=(rep,), daemon=True).start()
        c = coordinator.Coordinator.__new__(coordinator.Coordinator)
        c.name, c.default_agent = "coordinator", "model_manager"
        msg = {"op": "broadcast", "payload": {"op": "ping"}}
        whole = median_ms(lambda: c.handle_request(msg), n=15)
        config = median_ms(utils.load_config, n=15)
        return whole - config, (
            f"real `Coordinator.handle_request` (`broadcast`) to {len(agents)} echo peers on "
            f"127.0.0.1 (their own work not included): {fmt_ms(whole)}, less its "
            f"`load_config` ({fmt_ms(config)}, PA501)"
        )

    def coordinator_regex(self):
        routes = next(a for a in self.config["agents"] if a["name"] == "coordinator")["options"][
            "routes"
        ]

        def route():
            for r in routes:
                alternatives = "|".join(re.escape(k) for k in r["keywords"])
                re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE).search("hello there")

        return median_ms(route), (
            f"lines 62-65 replayed over the {len(routes)} configured routes (`re` caches "
            f"compiled patterns)"
        )

    def load_config(self):
        from common import utils

        return median_ms(utils.load_config), "real `load_config` on the example's manifest"

    def voices(self):
        import yaml

        def parse():
            with open(EXAMPLE / "voices.yaml", encoding="utf-8") as fh:
                yaml.safe_load(fh)["voices"]

        return median_ms(parse), "line 48 replayed on the example's voices.yaml"

    def log_event(self):
        from common import utils

        return median_ms(
            lambda: utils.log_event("coordinator", "request", {"op": "route", "ms": 1.5})
        ), "real `log_event` (the event logger at its default level)"

    def deepcopy(self):
        value = {"answer": "x" * 200, "sources": [{"url": f"u{i}", "score": i} for i in range(20)]}
        return median_ms(lambda: copy.deepcopy(value)), (
            "line 54 replayed on a stand-in value (a dict with 20 small records)"
        )

    def upload_open(self):
        dest = self.tmp / "upload.bin"
        data = bytes(1024)

        def write():
            with open(dest, "wb") as fh:
                fh.write(data)

        return median_ms(write), "line 103 replayed: a 1 KB upload written to a temporary folder"

    def read_text(self):
        p = self.tmp / "preview.txt"
        p.write_text("line\n" * 800)
        return median_ms(lambda: p.read_text(encoding="utf-8", errors="replace")), (
            "line 64 replayed on a 4 KB text file"
        )

    def du(self):
        return median_ms(
            lambda: subprocess.run(
                ["du", "-sb", str(EXAMPLE)], capture_output=True, text=True, check=True
            ),
            n=10,
        ), "line 59 replayed: `du -sb` on the example's folder"

    def walk_home(self):
        root = os.path.expanduser("~")

        def walk():
            for _ in os.walk(root):
                pass

        return median_ms(walk, n=1, warm=0), f"line 44 replayed once: `os.walk` over this machine's home ({root})"

    def manifest_open(self):
        p = self.tmp / "manifest.tsv"
        return median_ms(lambda: open(p, "a", encoding="utf-8")), (
            "line 65 replayed: the manifest opened for appending (and left open)"
        )


def module_available(name):
    import importlib.util

    return importlib.util.find_spec(name) is not None


def stub(name, **attrs):
    """A stand-in for a library that is not installed, with the attributes the example uses
    at import time; its functions are never measured."""
    if name not in sys.modules and not module_available(name):
        sys.modules[name] = types.SimpleNamespace(**attrs)


MEASURES = {
    ("common/base_agent.py", 75, "PA111"): "base_agent_sleep",
    ("common/utils.py", 54, "PA402"): "send_to_agent",
    ("common/utils.py", 69, "PA102"): "fetch_json",
    ("agents/gateway.py", 67, "PA101"): ("sleep", 0.5),
    ("agents/legacy_scraper.py", 56, "PA101"): ("sleep", 2),
    ("agents/memory_service.py", 52, "PA401"): "memory_insert",
    ("agents/memory_service.py", 67, "PA401"): "memory_recall_connect",
    ("agents/memory_service.py", 68, "PA106"): "memory_fetchall",
    ("agents/memory_service.py", 74, "PA302"): "memory_membership",
    ("agents/monitor.py", 66, "PA401"): "monitor_probe",
    ("agents/monitor.py", 70, "PA115"): "monitor_probe",
    ("agents/monitor.py", 78, "PA115"): "monitor_alert",
    ("agents/coordinator.py", 49, "PA403"): "coordinator_pool",
    ("agents/coordinator.py", 64, "PA301"): "coordinator_regex",
    ("common/utils.py", 26, "PA501"): "load_config",
    ("agents/text_to_speech.py", 48, "PA501"): "voices",
    ("common/utils.py", 77, "PA303"): "log_event",
    ("agents/cache_manager.py", 54, "PA305"): "deepcopy",
    ("agents/gateway.py", 103, "PA103"): "upload_open",
    ("agents/filesystem_assistant.py", 64, "PA103"): "read_text",
    ("agents/filesystem_assistant.py", 59, "PA104"): "du",
    ("agents/filesystem_assistant.py", 44, "PA105"): "walk_home",
    ("agents/text_to_speech.py", 65, "PA206"): "manifest_open",
}

# Why a latency finding is not measured here.
NOT_MEASURED = {
    "PA201": "a model library and its weights are not installed; a stand-in file would measure a read, not a load",
    "PA202": "a model library and its weights are not installed",
    "PA306": "the imported library is not installed",
    "PA108": "no browser or Selenium here",
    "PA107": "no Redis server here",
}
NOT_MEASURED_AT = {
    ("agents/notifier.py", 79): "the push goes to a public host (`push.example.net`), which is not reachable here; a server on 127.0.0.1 would measure only the client's own cost",
    ("agents/notifier.py", 35): "no SMTP server here",
    ("agents/notifier.py", 36): "no SMTP server here",
    ("agents/gateway.py", 79): "the request goes to a public host (`api.open-meteo.com`), which is not reachable here; a server on 127.0.0.1 would measure only the client's own cost",
    ("agents/gateway.py", 110): "no Redis server here",
    ("agents/web_agent.py", 72): "no browser or Selenium here",
    ("agents/filesystem_assistant.py", 54): "a recursive glob over `/` on a shared machine (minutes, and /proc) is not run",
}


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--perfaudit", required=True, help="the perfaudit binary")
    ap.add_argument("--out", default=str(ROOT / "bench" / "ESTIMATES.md"))
    args = ap.parse_args()
    audit = subprocess.run(
        [args.perfaudit, "audit", str(EXAMPLE), "--no-cache", "--format", "json", "--exit-zero"],
        capture_output=True,
        text=True,
        check=True,
    )
    findings = json.loads(audit.stdout)["findings"]
    rows, skipped = [], []
    with tempfile.TemporaryDirectory() as tmp:
        bench = Bench(tmp)
        for f in findings:
            est = f.get("estimate")
            if not est or f["severity"] == "info":
                continue
            key = (f["path"], f["line"], f["code"])
            how = MEASURES.get(key)
            if how is None:
                why = NOT_MEASURED_AT.get(key[:2]) or NOT_MEASURED.get(f["code"], "no stand-in written")
                skipped.append((f, why))
                continue
            fn = getattr(bench, how[0])(*how[1:]) if isinstance(how, tuple) else getattr(bench, how)
            got = fn()
            if got is None:
                skipped.append((f, "could not run here (a dependency missing, or a port in use)"))
                continue
            measured, method = got
            rows.append((f, est, measured, method))
            print(f"{f['path']}:{f['line']} {f['code']}: {fmt_ms(measured)}", file=sys.stderr)
    write(args.out, rows, skipped)


def write(out, rows, skipped):
    agree = 0
    lines = [
        "# Estimates against measurements",
        "",
        "Generated by `bench/estimates/run.sh` (see `bench/README.md`); do not edit by hand.",
        "",
        f"Machine: {machine()}. Run on {time.strftime('%Y-%m-%d', time.gmtime())}.",
        "",
        "For each latency finding perfaudit reports on `examples/agent_system`, what the hotspot "
        "adds to one request, measured here with local stand-ins (a SQLite file, an HTTP server "
        "and a ZMQ peer on 127.0.0.1), against the estimate. *Band* is the latency band of the "
        "estimate's typical value (the geometric mean of its range) and of the measured time: "
        "below 10 ms low, below 100 ms medium, up to 1 s high, above that critical. The "
        "finding's own band may be lower: its frequency caps it (a polling loop, a path no "
        "request reaches), which is not a latency and is not measured here.",
        "",
        "| finding | estimated typical (range) | band | measured | band | agrees | how |",
        "|---|---|---|---|---|---|---|",
    ]
    for f, est, measured, method in rows:
        t = typical(est["low_ms"], est["high_ms"])
        ok = band(t) == band(measured)
        agree += ok
        lines.append(
            f"| `{f['path']}:{f['line']}` {f['code']} | {fmt_ms(t)} ({fmt_ms(est['low_ms'])}–"
            f"{fmt_ms(est['high_ms'])}) | {band(t)} | {fmt_ms(measured)} | {band(measured)} | "
            f"{'yes' if ok else '**no**'} | {method} |"
        )
    n = len(rows)
    pct = round(100 * agree / n) if n else 0
    lines += [
        "",
        f"**{agree} of {n} estimates agree with the measured band ({pct} %).**",
        "",
        "## Not measured",
        "",
        "| finding | estimated typical (range) | why |",
        "|---|---|---|",
    ]
    for f, why in skipped:
        est = f["estimate"]
        lines.append(
            f"| `{f['path']}:{f['line']}` {f['code']} | "
            f"{fmt_ms(typical(est['low_ms'], est['high_ms']))} ({fmt_ms(est['low_ms'])}–"
            f"{fmt_ms(est['high_ms'])}) | {why} |"
        )
    lines.append("")
    Path(out).write_text("\n".join(lines), encoding="utf-8")
    print(f"{agree} of {n} estimates agree with the measured band ({pct} %)", file=sys.stderr)


if __name__ == "__main__":
    main()
