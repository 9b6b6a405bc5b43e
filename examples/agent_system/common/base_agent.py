"""Shared request/reply plumbing for the ZMQ agents.

Every agent binds a REP socket on the port given in the startup manifest,
receives one JSON request at a time, hands it to ``handle_request`` and sends
the reply back. Subclasses override ``handle_request`` and, when they need
background work, ``on_start`` / ``on_stop``.
"""

import logging
import os
import time
from typing import Any

import zmq

from common.utils import agent_entry, log_event

LOG_DIR = os.environ.get("AGENT_LOG_DIR", "logs")
LOG_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


class BaseAgent:
    """A single-threaded request/reply agent."""

    def __init__(self, name: str, port: int | None = None) -> None:
        self.name = name
        self.config: dict[str, Any] = agent_entry(name)
        self.options: dict[str, Any] = self.config.get("options", {})
        self.port = port or int(self.config.get("port", 5555))
        self.logger = self._setup_logging()
        self.context = zmq.Context.instance()
        self.socket = self.context.socket(zmq.REP)
        self.socket.bind(f"tcp://*:{self.port}")
        self.running = True
        self.requests_served = 0

    def _setup_logging(self) -> logging.Logger:
        """Send this agent's log records to ``<LOG_DIR>/<name>.log``."""
        os.makedirs(LOG_DIR, exist_ok=True)
        logger = logging.getLogger(self.name)
        logger.setLevel(logging.INFO)
        handler = logging.FileHandler(os.path.join(LOG_DIR, f"{self.name}.log"))
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logger.addHandler(handler)
        return logger

    def on_start(self) -> None:
        """Hook run once before the request loop starts."""

    def on_stop(self) -> None:
        """Hook run once after the request loop ends."""

    def handle_request(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Process one request and return the reply. Subclasses must override this."""
        raise NotImplementedError

    def run(self) -> None:
        """Serve requests until ``running`` is cleared."""
        self.logger.info("%s listening on port %d", self.name, self.port)
        self.on_start()
        try:
            while self.running:
                msg = self.socket.recv_json()
                started = time.perf_counter()
                try:
                    reply = self.handle_request(msg)
                except Exception as exc:  # one bad request must not kill the agent
                    self.logger.exception("request failed: %s", msg.get("op"))
                    reply = {"ok": False, "error": str(exc)}
                self.socket.send_json(reply)
                self.requests_served += 1
                elapsed_ms = (time.perf_counter() - started) * 1000
                log_event(self.name, "request", {"op": msg.get("op"), "ms": round(elapsed_ms, 2)})
                # Yield the CPU between requests so a busy agent cannot starve its neighbours.
                time.sleep(0.1)
        finally:
            self.on_stop()
            self.socket.close(linger=0)
