"""Redis: a new client per call vs a reused client.

Starts a throw-away redis-server on a free loopback port (no persistence),
then measures: redis.Redis() construction alone (lazy, no I/O),
redis.Redis() + first command (TCP connect + HELLO/handshake + command),
redis.from_url() + first command, and GET / SET / HSET / LPUSH+RPOP /
PUBLISH on a reused client. Skipped with a message when redis-server or
the redis package is missing.
"""

import os
import shutil
import subprocess
import tempfile

from _common import free_port, skip, summary, time_calls, version_of, wait_for_port, write_results

N = 300


def main() -> None:
    try:
        import redis
    except ImportError:
        skip(__file__, "python package 'redis' not installed")
    server_bin = shutil.which("redis-server")
    if server_bin is None:
        skip(__file__, "redis-server not found on PATH")

    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen(
            [server_bin, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", tmp, "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            if not wait_for_port(port):
                skip(__file__, "redis-server did not start")
            rows = []

            def construct_only():
                redis.Redis(host="127.0.0.1", port=port)

            rows.append(summary("redis.Redis() construct only (lazy, no I/O)",
                                time_calls(construct_only, N)))

            def new_client_first_command():
                r = redis.Redis(host="127.0.0.1", port=port)
                r.get("calib:key")
                r.close()

            rows.append(summary("redis.Redis() + first GET + close (new connection)",
                                time_calls(new_client_first_command, N)))

            url = f"redis://127.0.0.1:{port}/0"

            def from_url_first_command():
                r = redis.from_url(url)
                r.get("calib:key")
                r.close()

            rows.append(summary("redis.from_url() + first GET + close",
                                time_calls(from_url_first_command, N)))

            client = redis.Redis(host="127.0.0.1", port=port)
            client.set("calib:key", "x" * 64)
            rows.append(summary("redis.Redis.get (reused client)",
                                time_calls(lambda: client.get("calib:key"), N * 3)))
            rows.append(summary("redis.Redis.set (reused client)",
                                time_calls(lambda: client.set("calib:key", "y" * 64), N * 3)))
            rows.append(summary("redis.Redis.hset (reused client)",
                                time_calls(lambda: client.hset("calib:h", "f", "v"), N * 3)))

            def push_pop():
                client.lpush("calib:list", "item")
                client.rpop("calib:list")

            rows.append(summary("redis.Redis.lpush + rpop (two round trips)",
                                time_calls(push_pop, N * 3)))
            rows.append(summary("redis.Redis.publish (reused client)",
                                time_calls(lambda: client.publish("calib:chan", "msg"), N * 3)))

            def pipeline_10():
                p = client.pipeline(transaction=False)
                for i in range(10):
                    p.get("calib:key")
                p.execute()

            rows.append(summary("redis pipeline of 10 GETs (one round trip)",
                                time_calls(pipeline_10, N)))
            client.close()

            info = redis.Redis(host="127.0.0.1", port=port).info("server")
            write_results(__file__, rows,
                          notes="loopback redis-server, no persistence; network RTT of a real "
                                "deployment comes on top",
                          versions={"redis-py": version_of("redis"),
                                    "redis-server": info.get("redis_version")})
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
