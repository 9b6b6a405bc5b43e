"""Linear scans of a list and copies of a growing string.

`x in lst`, `lst.index(x)`, `lst.count(x)` and `lst.remove(x)` walk the list: one scan of a
100-element and of a 10,000-element list of short strings, with the value at the end (the
worst case of a membership test that misses is the same). `s + t` copies `s`: one copy of a
10 KB and of a 100 KB string.
"""

from _common import summary, time_calls, write_results


def main() -> None:
    rows = []
    for size in (100, 10_000):
        items = [f"item-{i}" for i in range(size)]
        last = items[-1]
        rows.append(summary(f"x in list ({size} items, found last)",
                            time_calls(lambda: last in items, 300, batch=20)))
        rows.append(summary(f"list.index ({size} items, found last)",
                            time_calls(lambda: items.index(last), 300, batch=20)))
        rows.append(summary(f"list.count ({size} items)",
                            time_calls(lambda: items.count(last), 300, batch=20)))
        rows.append(summary(f"list.remove + append ({size} items, last)",
                            time_calls(lambda: (items.remove(last), items.append(last)), 300, batch=20)))
    for kb in (10, 100):
        base = "x" * (kb * 1024)
        rows.append(summary(f"str + str (copy of a {kb} KB string)",
                            time_calls(lambda: base + "y", 300, batch=20)))
    write_results(__file__, rows)


if __name__ == "__main__":
    main()
