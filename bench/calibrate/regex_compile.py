"""Regular expressions: compile on a cache miss vs the re module cache vs precompiled.

re.compile / re.search with a pattern string consult an internal cache
(a few hundred entries in CPython 3.11). A pattern built at run time
(f-string with a variable part) misses it every time. Measures, for a
typical medium-sized pattern (an e-mail/log-line matcher): re.compile of a
never-seen pattern, re.compile of a cached pattern, re.search with a
pattern string (cache hit), re.search with a new pattern string (miss),
Pattern.search on a precompiled pattern, and re.sub / re.findall /
re.split / re.fullmatch with cached patterns.
"""

import itertools
import re

from _common import summary, time_calls, write_results

BASE = r"(?P<user>[A-Za-z0-9._%+-]+)@(?P<domain>[A-Za-z0-9.-]+\.[A-Za-z]{2,})\s+(?P<status>\d{3})\s+(?P<path>/[\w/.-]*)"
LINE = "alice.smith@example.com 404 /v1/orders/123/items and more text after the match"
counter = itertools.count()


def new_pattern() -> str:
    # Unique suffix: never seen before, so the module cache always misses.
    return BASE + f"(?:-{next(counter)})?"


def main() -> None:
    rows = []
    rows.append(summary("re.compile (new pattern, cache miss)",
                        time_calls(lambda: re.compile(new_pattern()), 300)))
    rows.append(summary("re.search (new pattern string, cache miss)",
                        time_calls(lambda: re.search(new_pattern(), LINE), 300)))
    simple_counter = itertools.count()
    rows.append(summary("re.compile (new short pattern, cache miss)",
                        time_calls(lambda: re.compile(rf"user-(\d+)-{next(simple_counter)}"), 300)))
    re.compile(BASE)
    rows.append(summary("re.compile (cached pattern string)",
                        time_calls(lambda: re.compile(BASE), 300, batch=100)))
    rows.append(summary("re.search (cached pattern string)",
                        time_calls(lambda: re.search(BASE, LINE), 300, batch=100)))
    rows.append(summary("re.match (cached pattern string)",
                        time_calls(lambda: re.match(BASE, LINE), 300, batch=100)))
    pat = re.compile(BASE)
    rows.append(summary("Pattern.search (precompiled)",
                        time_calls(lambda: pat.search(LINE), 300, batch=100)))
    rows.append(summary("re.sub (cached pattern string)",
                        time_calls(lambda: re.sub(r"\d+", "#", LINE), 300, batch=100)))
    rows.append(summary("re.findall (cached pattern string)",
                        time_calls(lambda: re.findall(r"\w+", LINE), 300, batch=100)))
    rows.append(summary("re.split (cached pattern string)",
                        time_calls(lambda: re.split(r"[\s/]+", LINE), 300, batch=100)))
    rows.append(summary("re.fullmatch (cached pattern string)",
                        time_calls(lambda: re.fullmatch(r"[a-z.]+@[a-z.]+", "alice.smith@example.com"),
                                   300, batch=100)))
    write_results(__file__, rows, notes="CPython re module; cache miss forced with unique patterns")


if __name__ == "__main__":
    main()
