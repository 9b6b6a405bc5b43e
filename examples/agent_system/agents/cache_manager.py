"""Cache manager agent: shared caches for LLM responses and text embeddings.

* ``get`` / ``put``: exact-match response cache keyed by the caller's key.
* ``put_embedding`` / ``similar``: embedding store with nearest-neighbour lookup,
  used for "semantic" cache hits on paraphrased prompts.
"""

import copy
import logging
from collections import OrderedDict, deque
from typing import Any

from common.base_agent import BaseAgent

DEFAULT_MAX_EMBEDDINGS = 10_000

logger = logging.getLogger(__name__)


class CacheManager(BaseAgent):
    """In-process caches served over the agent request loop."""

    def __init__(self) -> None:
        super().__init__("cache_manager")
        self.responses: dict[str, dict[str, Any]] = {}
        # Bounded LRU: _remember_embedding evicts the oldest entry past max_embeddings.
        self.embeddings: OrderedDict[str, list[float]] = OrderedDict()
        self.max_embeddings = int(self.options.get("max_embeddings", DEFAULT_MAX_EMBEDDINGS))
        # Bounded by construction: the deque discards its oldest key when full.
        self.recent_keys: deque[str] = deque(maxlen=int(self.options.get("recent_keys", 1000)))
        self.hits = 0
        self.misses = 0

    def _remember_embedding(self, key: str, vector: list[float]) -> None:
        self.embeddings[key] = vector
        self.embeddings.move_to_end(key)
        if len(self.embeddings) > self.max_embeddings:
            self.embeddings.popitem(last=False)

    def handle_request(self, msg: dict[str, Any]) -> dict[str, Any]:
        op = msg.get("op")

        if op == "get":
            entry = self.responses.get(msg["key"])
            if entry is None:
                self.misses += 1
                return {"ok": True, "hit": False}
            self.hits += 1
            self.recent_keys.append(msg["key"])
            return {"ok": True, "hit": True, "value": entry}

        if op == "put":
            # Defensive copy so later changes by the caller cannot alter the cached value.
            value = copy.deepcopy(msg["value"])
            self.responses[msg["key"]] = value
            return {"ok": True, "size": len(self.responses)}

        if op == "put_embedding":
            self._remember_embedding(msg["key"], msg["vector"])
            return {"ok": True, "size": len(self.embeddings)}

        if op == "similar":
            import torch

            if not self.embeddings:
                return {"ok": True, "matches": []}
            keys = list(self.embeddings)
            matrix = torch.tensor(list(self.embeddings.values()), dtype=torch.float32)
            query = torch.tensor(msg["vector"], dtype=torch.float32).unsqueeze(0)
            scores = torch.nn.functional.cosine_similarity(matrix, query)
            best = torch.topk(scores, k=min(int(msg.get("top_k", 3)), len(keys)))
            matches = [
                {"key": keys[i], "score": round(s, 4)}
                for s, i in zip(best.values.tolist(), best.indices.tolist())
            ]
            return {"ok": True, "matches": matches}

        if op == "stats":
            total = self.hits + self.misses
            return {
                "ok": True,
                "responses": len(self.responses),
                "embeddings": len(self.embeddings),
                "hit_rate": round(self.hits / total, 3) if total else None,
                "recent": list(self.recent_keys)[-10:],
            }

        return {"ok": False, "error": f"unsupported op {op!r}"}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    CacheManager().run()
