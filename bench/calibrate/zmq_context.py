"""ZeroMQ: Context + socket + connect per call vs reused.

A PULL socket is bound on a loopback TCP port. Measures zmq.Context()
creation + term (it starts an I/O thread), Context() + socket(PUSH) +
connect + send + close + term (the per-message anti-pattern),
zmq.Context.instance() (returns the process-wide singleton), socket
creation + connect + close on a reused context, and send on a reused
connected socket.
"""

from _common import skip, summary, time_calls, version_of, write_results

N = 200


def main() -> None:
    try:
        import zmq
    except ImportError:
        skip(__file__, "python package 'pyzmq' not installed")

    rows = []
    server_ctx = zmq.Context()
    pull = server_ctx.socket(zmq.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    endpoint = f"tcp://127.0.0.1:{port}"

    def drain():
        while True:
            try:
                pull.recv(flags=zmq.NOBLOCK)
            except zmq.Again:
                return

    def ctx_create_term():
        zmq.Context().term()

    rows.append(summary("zmq.Context() + term", time_calls(ctx_create_term, N)))

    def full_per_message():
        ctx = zmq.Context()
        s = ctx.socket(zmq.PUSH)
        s.setsockopt(zmq.LINGER, 1000)
        s.connect(endpoint)
        s.send(b"event")
        s.close()
        ctx.term()

    rows.append(summary("zmq.Context()+socket+connect+send+close+term",
                        time_calls(full_per_message, N, setup=drain)))

    zmq.Context.instance()
    rows.append(summary("zmq.Context.instance() (cached singleton)",
                        time_calls(zmq.Context.instance, N, batch=100)))

    ctx = zmq.Context()

    def socket_connect_close():
        s = ctx.socket(zmq.PUSH)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(endpoint)
        s.close()

    rows.append(summary("zmq.Context.socket + Socket.connect + close (reused context)",
                        time_calls(socket_connect_close, N)))

    def socket_only():
        ctx.socket(zmq.PUSH).close(linger=0)

    rows.append(summary("zmq.Context.socket + close (reused context)",
                        time_calls(socket_only, N)))

    def bind_close():
        s = ctx.socket(zmq.PULL)
        s.setsockopt(zmq.LINGER, 0)
        s.bind_to_random_port("tcp://127.0.0.1")
        s.close()

    rows.append(summary("zmq.Socket.bind (random loopback port) + close",
                        time_calls(bind_close, N)))

    push = ctx.socket(zmq.PUSH)
    push.connect(endpoint)
    push.send(b"warm")
    pull.recv()

    def send_recv():
        push.send(b"event")
        pull.recv()

    rows.append(summary("zmq.Socket.send + recv on reused sockets",
                        time_calls(send_recv, N * 5)))
    push.close(linger=0)
    ctx.term()
    pull.close(linger=0)
    server_ctx.term()
    write_results(__file__, rows, notes="loopback TCP endpoint",
                  versions={"pyzmq": version_of("pyzmq"), "libzmq": zmq.zmq_version()})


if __name__ == "__main__":
    main()
