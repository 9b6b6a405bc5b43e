"""Pure path manipulation that returns a new `pathlib.Path`.

`Path.expanduser()`, `Path.absolute()` and `Path.with_suffix()` compute a new path without
touching the disk (`absolute` reads the working directory once); `Path.resolve()` also follows
symlinks with a system call per component. Catalogued so that a chain like
`Path(p).expanduser().read_text()` keeps its type.
"""

from pathlib import Path

from _common import summary, time_calls, write_results


def main() -> None:
    p = Path("~/projects/app/data/config.yaml")
    rel = Path("data/config.yaml")
    rows = [
        summary("Path.expanduser", time_calls(lambda: p.expanduser(), 300, batch=50)),
        summary("Path.absolute", time_calls(lambda: rel.absolute(), 300, batch=50)),
        summary("Path.with_suffix", time_calls(lambda: rel.with_suffix(".json"), 300, batch=50)),
        summary("Path.resolve", time_calls(lambda: rel.resolve(), 300, batch=50)),
    ]
    write_results(__file__, rows)


if __name__ == "__main__":
    main()
