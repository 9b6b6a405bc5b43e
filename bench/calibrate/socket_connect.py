"""Raw sockets on loopback.

socket.socket() creation + close, socket.create_connection() to a
listening loopback port + close (TCP handshake, accept in a separate
process), one 64-byte request/response on an open connection, and
socket.getaddrinfo('localhost') (answered from the local hosts file, no DNS server).
"""

import socket
import subprocess
import sys

from _common import summary, time_calls, write_results

ECHO_SERVER = r"""
import socket, sys, threading
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0)); srv.listen(256)
print(srv.getsockname()[1], flush=True)
def serve(c):
    with c:
        while True:
            d = c.recv(4096)
            if not d:
                return
            c.sendall(d)
def loop():
    while True:
        c, _ = srv.accept()
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve, args=(c,), daemon=True).start()
threading.Thread(target=loop, daemon=True).start()
sys.stdin.read()
"""

N = 300


def main() -> None:
    proc = subprocess.Popen([sys.executable, "-c", ECHO_SERVER], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())
        rows = []
        rows.append(summary("socket.socket() + close",
                            time_calls(lambda: socket.socket().close(), N, batch=10)))

        def connect_close():
            socket.create_connection(("127.0.0.1", port), timeout=5).close()

        rows.append(summary("socket.create_connection (loopback) + close",
                            time_calls(connect_close, N)))

        conn = socket.create_connection(("127.0.0.1", port), timeout=5)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        msg = b"p" * 64

        def round_trip():
            conn.sendall(msg)
            got = 0
            while got < len(msg):
                got += len(conn.recv(4096))

        rows.append(summary("send + recv 64 B on open connection (loopback RTT)",
                            time_calls(round_trip, N * 3)))
        conn.close()
        rows.append(summary("socket.getaddrinfo('localhost')",
                            time_calls(lambda: socket.getaddrinfo("localhost", port,
                                                                  type=socket.SOCK_STREAM), N)))
        write_results(__file__, rows, notes="loopback only: the floor of any real network call")
    finally:
        proc.stdin.close()
        proc.wait(timeout=5)


if __name__ == "__main__":
    main()
