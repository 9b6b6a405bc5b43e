"""Helpers that build a TLS context inside: `urllib.request.build_opener()` (its HTTPS handler
makes a default context, loading the system CA bundle) and what paho-mqtt's `Client.tls_set()`
does (a context with the CA file loaded). Home Assistant lists both among the calls that block
its event loop."""

import ssl
import urllib.request

from _common import summary, time_calls, write_results


def _tls_set_like() -> None:
    # paho.mqtt.client.Client.tls_set: ssl.SSLContext(PROTOCOL_TLS_CLIENT), then
    # load_default_certs() (or load_verify_locations(ca_certs)).
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_default_certs()


def main() -> None:
    rows = [
        summary("urllib.request.build_opener()", time_calls(urllib.request.build_opener, 60)),
        summary("SSLContext + load_default_certs (paho tls_set)", time_calls(_tls_set_like, 60)),
        summary("ssl.create_default_context()", time_calls(ssl.create_default_context, 60)),
    ]
    write_results(__file__, rows)


if __name__ == "__main__":
    main()
