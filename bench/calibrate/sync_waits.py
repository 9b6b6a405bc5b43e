"""The standard-library calls that block a thread without looking like I/O: the rest of the stat
family (`os.stat`, `lstat`, links, times), directory and rename calls on `pathlib.Path`, module
imports through `importlib` (cached, and a first import of a small stdlib module in a fresh
interpreter), `codecs.open`, archives, a full `gc.collect()` over a live heap, TLS certificate
loading, and the CPU-heavy calls (`hashlib.scrypt`, payload compression) that hold the thread
they run on."""

import bz2
import codecs
import gc
import gzip
import hashlib
import importlib
import lzma
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

from _common import summary, time_calls, write_results

FRESH_IMPORT = "import time, importlib; t0 = time.perf_counter(); importlib.import_module('{mod}'); print((time.perf_counter() - t0) * 1000)"


def fresh_import(mod: str, n: int) -> list[float]:
    """A first import of `mod` in a fresh interpreter, the import alone timed."""
    out = []
    for _ in range(n):
        r = subprocess.run([sys.executable, "-c", FRESH_IMPORT.format(mod=mod)],
                           capture_output=True, text=True, check=True)
        out.append(float(r.stdout.strip()))
    return out


def main() -> None:
    with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parent) as tmp:
        base = Path(tmp)
        f = base / "data.json"
        f.write_text("{}")
        link = base / "link.json"
        link.symlink_to(f)
        text = base / "page.txt"
        text.write_text("x" * 4096)
        tree = base / "tree"
        tree.mkdir()
        for i in range(100):
            (tree / f"f{i}.txt").write_text("y" * 4096)
        counter = iter(range(10**9))
        small = os.urandom(2048) + b"a" * 2048
        big = (os.urandom(256 * 1024) + b"b" * (768 * 1024))
        garbage = [{"k": [i, str(i)]} for i in range(100_000)]
        gc.collect()

        def rename() -> None:
            src = base / f"r{next(counter)}"
            src.touch()
            src.rename(base / f"r{next(counter)}")

        def rmdir() -> None:
            d = base / f"d{next(counter)}"
            d.mkdir()
            d.rmdir()

        def read_codecs() -> None:
            with codecs.open(str(text), encoding="utf-8") as fh:
                fh.read()

        def archive() -> None:
            shutil.make_archive(str(base / f"a{next(counter)}"), "zip", tree)

        verify = ssl.get_default_verify_paths().cafile
        rows = [
            summary("os.stat", time_calls(lambda: os.stat(f), 300, batch=50)),
            summary("os.lstat", time_calls(lambda: os.lstat(link), 300, batch=50)),
            summary("os.path.islink", time_calls(lambda: os.path.islink(link), 300, batch=50)),
            summary("os.path.getctime", time_calls(lambda: os.path.getctime(f), 300, batch=50)),
            summary("pathlib.Path.is_symlink", time_calls(lambda: link.is_symlink(), 300, batch=50)),
            summary("pathlib.Path.touch + rename", time_calls(rename, 200)),
            summary("pathlib.Path.mkdir + rmdir", time_calls(rmdir, 200)),
            summary("codecs.open + read 4 KB", time_calls(read_codecs, 300)),
            summary("importlib.import_module (already imported)",
                    time_calls(lambda: importlib.import_module("json"), 300, batch=100)),
            summary("importlib.import_module('json') (fresh interpreter)", fresh_import("json", 15)),
            summary("shutil.make_archive zip (100 files of 4 KB)", time_calls(archive, 20)),
            summary(f"gc.collect() ({len(garbage):,} live containers)", time_calls(gc.collect, 30)),
            summary("ssl.SSLContext.load_default_certs",
                    time_calls(lambda: ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_default_certs(), 15)),
        ]
        if verify:
            rows.append(summary(
                "ssl.SSLContext.load_verify_locations (system CA file)",
                time_calls(lambda: ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(verify), 15),
            ))
        rows += [
            summary("hashlib.scrypt n=2**14 r=8 p=1",
                    time_calls(lambda: hashlib.scrypt(b"pw", salt=b"salt" * 4, n=2**14, r=8, p=1), 20)),
            summary("zlib.compress 4 KB", time_calls(lambda: zlib.compress(small), 200)),
            summary("zlib.compress 1 MB", time_calls(lambda: zlib.compress(big), 20)),
            summary("gzip.compress 4 KB", time_calls(lambda: gzip.compress(small), 200)),
            summary("gzip.compress 1 MB", time_calls(lambda: gzip.compress(big), 20)),
            summary("bz2.compress 4 KB", time_calls(lambda: bz2.compress(small), 100)),
            summary("bz2.compress 1 MB", time_calls(lambda: bz2.compress(big), 10)),
            summary("lzma.compress 4 KB", time_calls(lambda: lzma.compress(small), 100)),
            summary("lzma.compress 1 MB", time_calls(lambda: lzma.compress(big), 10)),
        ]
        del garbage
    write_results(__file__, rows, notes=f"run at {time.strftime('%H:%M')}; 4 KB payloads are half random, half repeated bytes; 1 MB payloads a quarter random")


if __name__ == "__main__":
    main()
