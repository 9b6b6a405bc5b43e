"""Filesystem assistant: finds, sizes and previews files on this machine for the other agents.

Requests arrive on an asyncio ZMQ REP socket:
``find`` (filename pattern under the home directory), ``documents`` (every file
with an extension, anywhere), ``du`` (size of a directory) and ``preview``
(first part of a text file).
"""

import asyncio
import fnmatch
import glob
import logging
import os
import subprocess
from pathlib import Path
from typing import Any

import zmq
import zmq.asyncio

from common.utils import agent_entry

SEARCH_ROOT = Path.home()
SKIP_DIRS = {".cache", ".git", "node_modules", "__pycache__", ".venv"}

logger = logging.getLogger(__name__)


class FilesystemAssistant:
    """Answers file questions; all handlers are coroutines on one event loop."""

    def __init__(self) -> None:
        entry = agent_entry("filesystem_assistant")
        options = entry.get("options", {})
        self.port = int(entry.get("port", 5556))
        self.max_results = int(options.get("max_results", 200))
        self.preview_chars = int(options.get("preview_bytes", 65536))
        self.context = zmq.asyncio.Context.instance()
        self.socket = self.context.socket(zmq.REP)

    async def find(self, pattern: str) -> list[str]:
        """Paths under the home directory whose file name matches ``pattern``."""
        matches: list[str] = []
        for dirpath, dirnames, filenames in os.walk(SEARCH_ROOT):
            dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
            for filename in fnmatch.filter(filenames, pattern):
                matches.append(os.path.join(dirpath, filename))
                if len(matches) >= self.max_results:
                    return matches
        return matches

    async def documents(self, extension: str) -> list[str]:
        """Every ``*.extension`` file on the machine, including mounted drives."""
        found = glob.glob(f"/**/*.{extension.lstrip('.')}", recursive=True)
        return sorted(found)[: self.max_results]

    async def disk_usage(self, path: str) -> int:
        """Size of ``path`` in bytes, as reported by du."""
        result = subprocess.run(["du", "-sb", path], capture_output=True, text=True, check=True)
        return int(result.stdout.split()[0])

    async def preview(self, path: str) -> str:
        """The beginning of a text file."""
        text = Path(path).expanduser().read_text(encoding="utf-8", errors="replace")
        return text[: self.preview_chars]

    async def handle(self, msg: dict[str, Any]) -> dict[str, Any]:
        op = msg.get("op")
        if op == "find":
            return {"ok": True, "paths": await self.find(msg.get("pattern", "*"))}
        if op == "documents":
            return {"ok": True, "paths": await self.documents(msg.get("extension", "pdf"))}
        if op == "du":
            return {"ok": True, "bytes": await self.disk_usage(msg["path"])}
        if op == "preview":
            return {"ok": True, "text": await self.preview(msg["path"])}
        return {"ok": False, "error": f"unsupported op {op!r}"}

    async def serve(self) -> None:
        self.socket.bind(f"tcp://*:{self.port}")
        logger.info("filesystem_assistant listening on port %d", self.port)
        while True:
            msg = await self.socket.recv_json()
            try:
                reply = await self.handle(msg)
            except (OSError, subprocess.CalledProcessError, KeyError) as exc:
                reply = {"ok": False, "error": str(exc)}
            await self.socket.send_json(reply)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(FilesystemAssistant().serve())
