"""HTTP round trip to a local server: new connection per call vs a reused client.

Against an HTTP/1.1 keep-alive server on 127.0.0.1 (a separate process),
measures requests.get (a fresh Session and TCP connection every call), a
reused requests.Session, requests.Session() construction,
urllib.request.urlopen, http.client on a kept-alive connection, httpx.get,
a reused httpx.Client and httpx.Client() construction; then, inside an
event loop, httpx.AsyncClient and aiohttp.ClientSession construction,
a new session per request and a reused session. When the openssl command
is available the synchronous clients are repeated over HTTPS with a
throw-away self-signed certificate, which shows the TLS handshake that a
client re-pays on every call when it does not reuse its connection.
ssl.create_default_context() is timed on its own because every new
httpx.Client (and any HTTPS client built per call) pays it.

Loopback has no propagation delay: these figures are the floor of a real
network call, i.e. the client-side cost alone.
"""

import http.client
import shutil
import ssl
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from _common import HERE, summary, time_calls, version_of, write_results

N = 200

try:
    import requests
except ImportError:
    requests = None
try:
    import httpx
except ImportError:
    httpx = None


class Server:
    def __init__(self, cert=None, key=None):
        args = [sys.executable, str(HERE / "_http_server.py")]
        if cert:
            args += [cert, key]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline().strip())

    def stop(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def plain_http(rows: list) -> None:
    srv = Server()
    try:
        port = srv.port
        url = f"http://127.0.0.1:{port}/api/items"

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)

        def httpclient_reused():
            conn.request("GET", "/api/items")
            conn.getresponse().read()

        rows.append(summary("http.client.HTTPConnection.request+getresponse (keep-alive)",
                            time_calls(httpclient_reused, N)))
        conn.close()

        def httpclient_new():
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/api/items")
            c.getresponse().read()
            c.close()

        rows.append(summary("http.client.HTTPConnection new connection + request",
                            time_calls(httpclient_new, N)))

        def urlopen():
            with urllib.request.urlopen(url, timeout=5) as resp:
                resp.read()

        rows.append(summary("urllib.request.urlopen (new connection)", time_calls(urlopen, N)))

        if requests is not None:
            rows.append(summary("requests.get (new Session + connection per call)",
                                time_calls(lambda: requests.get(url, timeout=5).content, N)))
            sess = requests.Session()
            rows.append(summary("requests.Session.get (reused session, keep-alive)",
                                time_calls(lambda: sess.get(url, timeout=5).content, N)))
            rows.append(summary("requests.Session.post json (reused session)",
                                time_calls(lambda: sess.post(url, json={"q": "hello", "n": 3},
                                                             timeout=5).content, N)))
            sess.close()
            rows.append(summary("requests.Session() construct + close",
                                time_calls(lambda: requests.Session().close(), N)))

        if httpx is not None:
            rows.append(summary("httpx.get (new Client + connection per call)",
                                time_calls(lambda: httpx.get(url, timeout=5).content, 100)))
            client = httpx.Client(timeout=5)
            rows.append(summary("httpx.Client.get (reused client, keep-alive)",
                                time_calls(lambda: client.get(url).content, N)))
            client.close()
            rows.append(summary("httpx.Client() construct + close",
                                time_calls(lambda: httpx.Client().close(), 100)))
    finally:
        srv.stop()


def tls_http(rows: list, tmp: Path) -> str:
    openssl = shutil.which("openssl")
    if openssl is None:
        return "openssl command missing: HTTPS variants skipped"
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    srv = Server(str(cert), str(key))
    try:
        url = f"https://127.0.0.1:{srv.port}/api/items"
        ctx = ssl.create_default_context(cafile=str(cert))

        def httpsconn_new():
            c = http.client.HTTPSConnection("127.0.0.1", srv.port, timeout=5, context=ctx)
            c.request("GET", "/api/items")
            c.getresponse().read()
            c.close()

        rows.append(summary("https: http.client new TLS connection (context reused)",
                            time_calls(httpsconn_new, 100)))
        conn = http.client.HTTPSConnection("127.0.0.1", srv.port, timeout=5, context=ctx)

        def httpsconn_reused():
            conn.request("GET", "/api/items")
            conn.getresponse().read()

        rows.append(summary("https: http.client keep-alive request",
                            time_calls(httpsconn_reused, N)))
        conn.close()

        if requests is not None:
            rows.append(summary("https: requests.get (new Session + TLS handshake per call)",
                                time_calls(lambda: requests.get(url, timeout=5,
                                                                verify=str(cert)).content, 100)))
            sess = requests.Session()
            # verify= per call: a CA-bundle environment variable would
            # otherwise take precedence over Session.verify.
            rows.append(summary("https: requests.Session.get (reused, keep-alive)",
                                time_calls(lambda: sess.get(url, timeout=5,
                                                            verify=str(cert)).content, N)))
            sess.close()
        if httpx is not None:
            rows.append(summary("https: httpx.get (new Client + TLS handshake per call)",
                                time_calls(lambda: httpx.get(url, timeout=5,
                                                             verify=ctx).content, 100)))
            client = httpx.Client(timeout=5, verify=ctx)
            rows.append(summary("https: httpx.Client.get (reused, keep-alive)",
                                time_calls(lambda: client.get(url).content, N)))
            client.close()
    finally:
        srv.stop()
    return ""


def async_clients(rows: list) -> None:
    """httpx.AsyncClient and aiohttp.ClientSession: per-call vs reused."""
    import asyncio
    import time

    try:
        import aiohttp
    except ImportError:
        aiohttp = None
    if httpx is None and aiohttp is None:
        return
    srv = Server()
    url = f"http://127.0.0.1:{srv.port}/api/items"

    async def timed(coro_fn, n):
        for _ in range(2):
            await coro_fn()
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            await coro_fn()
            out.append((time.perf_counter() - t0) * 1000)
        return out

    async def run():
        if httpx is not None:
            async def construct():
                c = httpx.AsyncClient()
                await c.aclose()

            rows.append(summary("httpx.AsyncClient() construct + aclose",
                                await timed(construct, 50)))
            client = httpx.AsyncClient(timeout=5)

            async def reused():
                (await client.get(url)).content

            rows.append(summary("httpx.AsyncClient.get (reused, keep-alive)",
                                await timed(reused, N)))
            await client.aclose()
        if aiohttp is not None:
            async def construct_aio():
                s = aiohttp.ClientSession()
                await s.close()

            rows.append(summary("aiohttp.ClientSession() construct + close",
                                await timed(construct_aio, 100)))

            async def per_call():
                async with aiohttp.ClientSession() as s:
                    async with s.get(url) as r:
                        await r.read()

            rows.append(summary("aiohttp new ClientSession per request",
                                await timed(per_call, 100)))
            session = aiohttp.ClientSession()

            async def reused_aio():
                async with session.get(url) as r:
                    await r.read()

            rows.append(summary("aiohttp.ClientSession.get (reused, keep-alive)",
                                await timed(reused_aio, N)))
            await session.close()

    try:
        asyncio.run(run())
    finally:
        srv.stop()


def main() -> None:
    rows: list = []
    plain_http(rows)
    async_clients(rows)
    rows.append(summary("ssl.create_default_context()",
                        time_calls(ssl.create_default_context, 50)))
    with tempfile.TemporaryDirectory() as tmp:
        note = tls_http(rows, Path(tmp))
    write_results(__file__, rows,
                  notes="loopback server in a separate process; the floor of a real "
                        "network call (no propagation delay). " + note,
                  versions={"requests": version_of("requests"), "httpx": version_of("httpx"),
                            "aiohttp": version_of("aiohttp"),
                            "openssl": ssl.OPENSSL_VERSION})


if __name__ == "__main__":
    main()
