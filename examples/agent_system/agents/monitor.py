"""Monitor agent: watches the HTTP services and relays alerts.

A background thread probes every HTTP service once a minute and keeps the
latest result; ``status`` returns it, ``probe`` checks right now and ``alert``
forwards a message to the alert webhook.
"""

import logging
import threading
import time
from typing import Any

import requests

from common.base_agent import BaseAgent
from common.utils import load_config

USER_AGENT = "mesh-monitor/1.2"

logger = logging.getLogger(__name__)


class Monitor(BaseAgent):
    """Health monitor for the mesh."""

    def __init__(self) -> None:
        super().__init__("monitor")
        self.webhook_url: str = self.options.get("alert_webhook", "")
        self.http_targets: dict[str, str] = {
            a["name"]: f"http://{a.get('host', 'localhost')}:{a['port']}"
            f"{a.get('options', {}).get('health_path', '/healthz')}"
            for a in load_config()["agents"]
            if a.get("protocol") == "http"
        }
        self.status: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._monitor, name="health-probe", daemon=True)

    def on_start(self) -> None:
        self._thread.start()

    def _monitor(self) -> None:
        """Probe loop. It runs in its own daemon thread, so its sleep never delays a request."""
        while self.running:
            for name, url in self.http_targets.items():
                try:
                    # Bounded by the timeout, and off the request path (probe thread).
                    healthy = requests.get(url, timeout=2).status_code == 200
                except requests.RequestException:
                    healthy = False
                # One entry per configured service, overwritten each round: bounded.
                with self._lock:
                    self.status[name] = {"healthy": healthy, "checked_at": time.time()}
            # Only this probe thread sleeps; the request loop keeps serving.
            time.sleep(60)

    def handle_request(self, msg: dict[str, Any]) -> dict[str, Any]:
        op = msg.get("op", "status")

        if op == "status":
            with self._lock:
                return {"ok": True, "status": dict(self.status)}

        if op == "probe":
            results: dict[str, Any] = {}
            with requests.Session() as session:
                session.headers["User-Agent"] = USER_AGENT
                for name, url in self.http_targets.items():
                    try:
                        results[name] = session.get(url, timeout=2).status_code
                    except requests.RequestException as exc:
                        results[name] = f"error: {exc}"
            return {"ok": True, "results": results}

        if op == "alert":
            if not self.webhook_url:
                return {"ok": False, "error": "no alert webhook configured"}
            requests.post(self.webhook_url, json={"text": msg["text"], "source": msg.get("source", "mesh")})
            logger.warning("alert sent: %s", msg["text"])
            return {"ok": True}

        return {"ok": False, "error": f"unsupported op {op!r}"}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    Monitor().run()
