"""PostgreSQL via psycopg2: connect per call vs a reused connection.

Initialises a throw-away cluster (initdb) in a temporary directory and
starts it on a free loopback port with password (SCRAM-SHA-256) auth over
TCP, as a typical deployment has. Measures psycopg2.connect() + close,
connect + one SELECT + close, a SELECT by primary key on a reused
connection, fetchall() of 1,000 rows, and INSERT + commit. Skipped with a
message when the PostgreSQL server binaries or psycopg2 are missing.
When run as root the server runs as the 'postgres' system user.
"""

import glob
import os
import shutil
import subprocess
import tempfile
import time

from _common import free_port, skip, summary, time_calls, version_of, wait_for_port, write_results

N = 200
PASSWORD = "calibration-only"


def pg_bin() -> str | None:
    cands = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if cands:
        return os.path.dirname(cands[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def main() -> None:
    try:
        import psycopg2
    except ImportError:
        skip(__file__, "python package psycopg2 (psycopg2-binary) not installed")
    bindir = pg_bin()
    if bindir is None:
        skip(__file__, "PostgreSQL server binaries (initdb) not found")
    as_user: list[str] = []
    if os.geteuid() == 0:
        if subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:
            skip(__file__, "running as root but no 'postgres' user to run the server as")
        as_user = ["runuser", "-u", "postgres", "--"]

    tmp = tempfile.mkdtemp(prefix="pgcalib-")
    datadir = os.path.join(tmp, "data")
    pwfile = os.path.join(tmp, "pw")
    with open(pwfile, "w") as fh:
        fh.write(PASSWORD + "\n")
    if as_user:
        shutil.chown(tmp, "postgres")
        shutil.chown(pwfile, "postgres")
    port = free_port()
    proc = None
    try:
        init = subprocess.run(as_user + [os.path.join(bindir, "initdb"), "-D", datadir,
                                         "-U", "calib", "--pwfile", pwfile,
                                         "--auth-host=scram-sha-256", "--auth-local=trust",
                                         "--no-sync"], capture_output=True, text=True)
        if init.returncode != 0:
            skip(__file__, "initdb failed: " + init.stderr.strip()[-300:])
        proc = subprocess.Popen(as_user + [os.path.join(bindir, "postgres"), "-D", datadir,
                                           "-p", str(port), "-k", tmp,
                                           "-c", "listen_addresses=127.0.0.1"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_for_port(port, 20):
            skip(__file__, "postgres did not start")
        dsn = dict(host="127.0.0.1", port=port, user="calib", password=PASSWORD,
                   dbname="postgres")
        for _ in range(50):  # the port opens slightly before it accepts logins
            try:
                psycopg2.connect(**dsn).close()
                break
            except psycopg2.OperationalError:
                time.sleep(0.1)
        rows = []
        rows.append(summary("psycopg2.connect (SCRAM auth, loopback) + close",
                            time_calls(lambda: psycopg2.connect(**dsn).close(), N)))

        def connect_query():
            c = psycopg2.connect(**dsn)
            cur = c.cursor()
            cur.execute("SELECT 1")
            cur.fetchone()
            c.close()

        rows.append(summary("psycopg2.connect + SELECT 1 + close", time_calls(connect_query, N)))

        conn = psycopg2.connect(**dsn)
        cur = conn.cursor()
        cur.execute("CREATE TABLE items (id serial PRIMARY KEY, name text, score float8)")
        cur.execute("INSERT INTO items (name, score) SELECT 'item-' || g, g * 0.5 "
                    "FROM generate_series(1, 1000) g")
        conn.commit()

        def select_pk():
            cur.execute("SELECT name, score FROM items WHERE id = %s", (500,))
            cur.fetchone()

        rows.append(summary("cursor.execute SELECT by pk (reused connection)",
                            time_calls(select_pk, N * 3)))

        def fetch_all():
            cur.execute("SELECT id, name, score FROM items")
            cur.fetchall()

        rows.append(summary("cursor.execute + fetchall (1,000 rows)", time_calls(fetch_all, N)))

        def insert_commit():
            cur.execute("INSERT INTO items (name, score) VALUES (%s, %s)", ("new", 1.0))
            conn.commit()

        rows.append(summary("INSERT + commit (fsync on)", time_calls(insert_commit, N)))
        cur.execute("SHOW server_version")
        server_version = cur.fetchone()[0]
        conn.close()
        write_results(__file__, rows, notes="loopback TCP, SCRAM-SHA-256 password auth",
                      versions={"psycopg2": version_of("psycopg2-binary") or version_of("psycopg2"),
                                "postgresql": server_version})
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
