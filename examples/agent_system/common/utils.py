"""Small helpers shared by the agents: config access, inter-agent calls and event logging."""

import json
import logging
import time
from pathlib import Path
from typing import Any

import requests
import yaml
import zmq

CONFIG_PATH = Path(__file__).resolve().parent.parent / "startup_config.yaml"
DEFAULT_TIMEOUT_MS = 5000

event_logger = logging.getLogger("agent_events")


def load_config(path: Path = CONFIG_PATH) -> dict[str, Any]:
    """Return the parsed startup manifest.

    The file is read from disk on every call so that edits (new routes, new
    agents) are picked up without restarting anything.
    """
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def agent_entry(name: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the manifest entry for one agent, or an empty dict if it is not listed."""
    config = config if config is not None else load_config()
    for entry in config.get("agents", []):
        if entry.get("name") == name:
            return entry
    return {}


def agent_address(config: dict[str, Any], name: str) -> str:
    """Build the ZMQ endpoint of an agent from an already-loaded manifest."""
    entry = agent_entry(name, config)
    if not entry:
        raise KeyError(f"unknown agent {name!r}")
    host = entry.get("host", "localhost")
    return f"tcp://{host}:{entry['port']}"


def send_to_agent(
    address: str, payload: dict[str, Any], timeout_ms: int = DEFAULT_TIMEOUT_MS
) -> dict[str, Any]:
    """Send one JSON request to another agent and wait for its JSON reply.

    Raises ``zmq.Again`` if the agent does not answer within ``timeout_ms``.
    """
    context = zmq.Context()
    socket = context.socket(zmq.REQ)
    socket.setsockopt(zmq.RCVTIMEO, timeout_ms)
    socket.setsockopt(zmq.LINGER, 0)
    socket.connect(address)
    try:
        socket.send_json(payload)
        return socket.recv_json()
    finally:
        socket.close()
        context.term()


def fetch_json(url: str, params: dict[str, Any] | None = None) -> Any:
    """GET a JSON document from an HTTP service and return the decoded body."""
    response = requests.get(url, params=params, headers={"Accept": "application/json"})
    response.raise_for_status()
    return response.json()


def log_event(agent: str, event: str, fields: dict[str, Any] | None = None) -> None:
    """Write one structured event line (one JSON object per line) to the event log."""
    record = {"ts": round(time.time(), 3), "agent": agent, "event": event, **(fields or {})}
    event_logger.info(json.dumps(record, sort_keys=True, default=str))
