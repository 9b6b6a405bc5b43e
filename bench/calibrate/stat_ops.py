"""The file-system metadata calls that code makes without thinking of them as I/O: the
`os.path` stat family and the same on `pathlib.Path`, plus creating and removing a directory
and a file. Each is one or two system calls on a warm dentry cache (a network file system or
a cold disk costs far more)."""

import os
import tempfile
from pathlib import Path

from _common import summary, time_calls, write_results


def main() -> None:
    with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parent) as tmp:
        base = Path(tmp)
        f = base / "data.json"
        f.write_text("{}")
        missing = base / "missing.json"
        counter = iter(range(10**9))
        rows = [
            summary("os.path.exists (present)", time_calls(lambda: os.path.exists(f), 300, batch=50)),
            summary("os.path.exists (missing)", time_calls(lambda: os.path.exists(missing), 300, batch=50)),
            summary("os.path.isfile", time_calls(lambda: os.path.isfile(f), 300, batch=50)),
            summary("os.path.isdir", time_calls(lambda: os.path.isdir(base), 300, batch=50)),
            summary("os.path.getsize", time_calls(lambda: os.path.getsize(f), 300, batch=50)),
            summary("os.path.getmtime", time_calls(lambda: os.path.getmtime(f), 300, batch=50)),
            summary("pathlib.Path.exists", time_calls(lambda: f.exists(), 300, batch=50)),
            summary("pathlib.Path.is_file", time_calls(lambda: f.is_file(), 300, batch=50)),
            summary("pathlib.Path.stat", time_calls(lambda: f.stat(), 300, batch=50)),
            summary(
                "pathlib.Path.mkdir",
                time_calls(lambda: (base / f"d{next(counter)}").mkdir() or None, 200),
            ),
            summary(
                "pathlib.Path.touch + unlink",
                time_calls(lambda: _touch_unlink(base / f"t{next(counter)}"), 200),
            ),
        ]
    write_results(__file__, rows)


def _touch_unlink(p: Path) -> None:
    p.touch()
    p.unlink()


if __name__ == "__main__":
    main()
