"""sqlite3: connect per call vs a reused connection, and common statements.

Uses a temporary database file (on the repository's file system) with 1,000 rows. Measures sqlite3.connect()
+ close, connect + one indexed SELECT + close, a SELECT by primary key on a
reused connection, fetchall() of 1,000 rows, INSERT + commit (journal
write and fsync on the temporary file system), executemany of 100 rows
in one transaction, the same with an in-memory database, and (when
SQLAlchemy is installed) create_engine per call vs a reused engine.
"""

import os
import sqlite3

from _common import scratch_dir, summary, time_calls, version_of, write_results

N = 300


def main() -> None:
    rows = []
    with scratch_dir() as tmp:
        path = os.path.join(tmp, "calib.db")
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, score REAL)")
        db.executemany("INSERT INTO items (name, score) VALUES (?, ?)",
                       [(f"item-{i}", i * 0.5) for i in range(1000)])
        db.commit()

        rows.append(summary("sqlite3.connect(file) + close",
                            time_calls(lambda: sqlite3.connect(path).close(), N)))

        def connect_query_close():
            c = sqlite3.connect(path)
            c.execute("SELECT name, score FROM items WHERE id = ?", (500,)).fetchone()
            c.close()

        rows.append(summary("sqlite3.connect(file) + SELECT by pk + close",
                            time_calls(connect_query_close, N)))

        rows.append(summary("sqlite3.Connection.execute SELECT by pk (reused)",
                            time_calls(lambda: db.execute(
                                "SELECT name, score FROM items WHERE id = ?", (500,)).fetchone(),
                                N, batch=20)))

        cur = db.cursor()

        def cursor_fetchall():
            cur.execute("SELECT id, name, score FROM items")
            cur.fetchall()

        rows.append(summary("sqlite3.Cursor.execute + fetchall (1,000 rows)",
                            time_calls(cursor_fetchall, N)))

        def insert_commit():
            db.execute("INSERT INTO items (name, score) VALUES (?, ?)", ("new", 1.0))
            db.commit()

        rows.append(summary("sqlite3 INSERT + commit (file, default journal)",
                            time_calls(insert_commit, N)))

        batch = [(f"b-{i}", float(i)) for i in range(100)]

        def executemany_commit():
            db.executemany("INSERT INTO items (name, score) VALUES (?, ?)", batch)
            db.commit()

        rows.append(summary("sqlite3 executemany 100 rows + commit (file)",
                            time_calls(executemany_commit, N // 3)))
        db.close()

        try:
            import sqlalchemy
        except ImportError:
            sqlalchemy = None
        if sqlalchemy is not None:
            url = f"sqlite:///{path}"
            query = sqlalchemy.text("SELECT name FROM items WHERE id = :id")

            def engine_per_call():
                eng = sqlalchemy.create_engine(url)
                with eng.connect() as c:
                    c.execute(query, {"id": 500}).fetchone()
                eng.dispose()

            rows.append(summary("sqlalchemy.create_engine + connect + SELECT + dispose",
                                time_calls(engine_per_call, N // 3)))
            rows.append(summary("sqlalchemy.create_engine only",
                                time_calls(lambda: sqlalchemy.create_engine(url), N // 3)))
            engine = sqlalchemy.create_engine(url)

            def engine_reused():
                with engine.connect() as c:
                    c.execute(query, {"id": 500}).fetchone()

            rows.append(summary("sqlalchemy Engine.connect + SELECT (reused engine, pooled)",
                                time_calls(engine_reused, N)))
            engine.dispose()

    mem = sqlite3.connect(":memory:")
    mem.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    rows.append(summary("sqlite3.connect(':memory:') + close",
                        time_calls(lambda: sqlite3.connect(":memory:").close(), N)))

    def mem_insert_commit():
        mem.execute("INSERT INTO t (v) VALUES (?)", ("x",))
        mem.commit()

    rows.append(summary("sqlite3 INSERT + commit (:memory:)",
                        time_calls(mem_insert_commit, N, batch=10)))
    mem.close()
    write_results(__file__, rows, notes="temporary database file on the local file system",
                  versions={"sqlite": sqlite3.sqlite_version,
                            "sqlalchemy": version_of("sqlalchemy")})


if __name__ == "__main__":
    main()
