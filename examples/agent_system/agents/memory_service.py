"""Memory service: long-term conversational memory with semantic recall.

Memories are stored in SQLite together with a sentence embedding. ``recall``
scores a user's memories against the query by cosine similarity, boosting any
that the caller has pinned.
"""

import asyncio
import logging
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import zmq
import zmq.asyncio
from sentence_transformers import SentenceTransformer

from common.utils import agent_entry

SCHEMA = """
CREATE TABLE IF NOT EXISTS memories (
    id TEXT PRIMARY KEY, user TEXT NOT NULL, text TEXT NOT NULL,
    embedding BLOB NOT NULL, created REAL NOT NULL
)
"""
PIN_BOOST = 1.0

logger = logging.getLogger(__name__)


class MemoryService:
    """Stores and recalls memories; the encoder and the database path are fixed at startup."""

    def __init__(self) -> None:
        entry = agent_entry("memory_service")
        options = entry.get("options", {})
        self.port = int(entry.get("port", 5558))
        self.top_k = int(options.get("top_k", 5))
        self.db_path = Path(options.get("db_path", "data/memory.sqlite3"))
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        # Loaded once at startup; requests only call encode() (in a worker thread).
        self.encoder = SentenceTransformer(options.get("embedding_model", "all-MiniLM-L6-v2"))
        with sqlite3.connect(self.db_path) as conn:
            conn.execute(SCHEMA)
        self.context = zmq.asyncio.Context.instance()
        self.socket = self.context.socket(zmq.REP)

    def _insert(self, row: tuple[str, str, str, bytes, float]) -> None:
        with sqlite3.connect(self.db_path) as conn:
            conn.execute("INSERT INTO memories VALUES (?, ?, ?, ?, ?)", row)

    async def remember(self, user: str, text: str) -> str:
        vector = await asyncio.to_thread(self.encoder.encode, text, normalize_embeddings=True)
        memory_id = uuid.uuid4().hex
        row = (memory_id, user, text, np.asarray(vector, dtype=np.float32).tobytes(), time.time())
        # Synchronous helper, run off the event loop.
        await asyncio.to_thread(self._insert, row)
        return memory_id

    async def recall(self, user: str, query: str, pinned: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # Encoding is CPU-bound, so it also runs in a worker thread.
        query_vec = await asyncio.to_thread(self.encoder.encode, query, normalize_embeddings=True)
        pinned_ids = [item["id"] for item in pinned]
        conn = sqlite3.connect(self.db_path)
        rows = conn.execute("SELECT id, text, embedding FROM memories WHERE user = ?", (user,)).fetchall()
        conn.close()

        scored: list[dict[str, Any]] = []
        for memory_id, text, blob in rows:
            score = float(np.dot(np.frombuffer(blob, dtype=np.float32), query_vec))
            if memory_id in pinned_ids:
                score += PIN_BOOST
            scored.append({"id": memory_id, "text": text, "score": round(score, 4)})
        scored.sort(key=lambda item: item["score"], reverse=True)
        return scored[: self.top_k]

    async def handle(self, msg: dict[str, Any]) -> dict[str, Any]:
        op = msg.get("op")
        if op == "remember":
            return {"ok": True, "id": await self.remember(msg["user"], msg["text"])}
        if op == "recall":
            memories = await self.recall(msg["user"], msg["query"], msg.get("pinned", []))
            return {"ok": True, "memories": memories}
        return {"ok": False, "error": f"unsupported op {op!r}"}

    async def serve(self) -> None:
        self.socket.bind(f"tcp://*:{self.port}")
        logger.info("memory_service listening on port %d", self.port)
        while True:
            msg = await self.socket.recv_json()
            try:
                reply = await self.handle(msg)
            except (KeyError, sqlite3.Error) as exc:
                reply = {"ok": False, "error": str(exc)}
            await self.socket.send_json(reply)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(MemoryService().serve())
