"""Coordinator agent: decides which agent owns a request and forwards it there.

Routing is keyword based (routes live in the startup manifest) with an
explicit override: a message starting with ``/agent_name`` goes straight to
that agent. ``broadcast`` fans one payload out to many agents in parallel.
"""

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import zmq

from common.base_agent import BaseAgent
from common.utils import agent_address, load_config, send_to_agent

# Constant pattern compiled once at import time.
COMMAND_RE = re.compile(r"^/(?P<agent>[a-z_]+)\s+(?P<rest>.*)$", re.DOTALL)

logger = logging.getLogger(__name__)


class Coordinator(BaseAgent):
    """Routes ``route`` requests and fans out ``broadcast`` requests."""

    def __init__(self) -> None:
        super().__init__("coordinator")
        self.default_agent: str = self.options.get("default_agent", "model_manager")

    def _forward(self, config: dict[str, Any], target: str, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            return send_to_agent(agent_address(config, target), payload)
        except zmq.Again:
            logger.warning("%s did not answer in time", target)
            return {"ok": False, "error": f"{target} timed out"}

    def handle_request(self, msg: dict[str, Any]) -> dict[str, Any]:
        # Re-read the manifest so route edits apply without restarting the mesh.
        config = load_config()
        options = next(a for a in config["agents"] if a["name"] == self.name).get("options", {})
        op = msg.get("op", "route")

        if op == "broadcast":
            targets = msg.get("targets") or [
                a["name"] for a in config["agents"]
                if a.get("protocol") == "zmq" and a["name"] != self.name
            ]
            with ThreadPoolExecutor(max_workers=int(options.get("max_fanout", 4))) as pool:
                replies = list(pool.map(lambda t: self._forward(config, t, msg["payload"]), targets))
            return {"ok": True, "replies": dict(zip(targets, replies))}

        if op != "route":
            return {"ok": False, "error": f"unsupported op {op!r}"}

        text: str = msg.get("text", "")
        target = self.default_agent
        command = COMMAND_RE.match(text)
        if command:
            target, text = command.group("agent"), command.group("rest")
        else:
            for route in options.get("routes", []):
                alternatives = "|".join(re.escape(k) for k in route["keywords"])
                pattern = re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)
                if pattern.search(text):
                    target = route["agent"]
                    break

        logger.info("routing %r to %s", text[:60], target)
        reply = self._forward(config, target, {**msg.get("payload", {}), "text": text})
        return {"ok": reply.get("ok", False), "agent": target, "reply": reply}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    Coordinator().run()
