"""Model manager agent: owns the local LLM and serves completions to the other agents.

The GGUF model needs several GB of memory, so it is loaded on first use and
released again after a period of inactivity to leave room for the speech models.
"""

import functools
import logging
import threading
import time
from typing import Any

from llama_cpp import Llama

from common.base_agent import BaseAgent

DEFAULT_MODEL_PATH = "models/mistral-7b-instruct-v0.2.Q4_K_M.gguf"
DEFAULT_SYSTEM = "You are a concise, helpful home assistant."
PROMPT_TEMPLATE = "[INST] {system}\n\n{prompt} [/INST]"
IDLE_CHECK_SECONDS = 30

logger = logging.getLogger(__name__)


class ModelManager(BaseAgent):
    """Serves ``generate`` and ``count_tokens`` requests from a single llama.cpp model."""

    def __init__(self) -> None:
        super().__init__("model_manager")
        self.model_path: str = self.options.get("model_path", DEFAULT_MODEL_PATH)
        self.n_ctx = int(self.options.get("n_ctx", 4096))
        self.n_gpu_layers = int(self.options.get("n_gpu_layers", 35))
        self.idle_unload_s = float(self.options.get("idle_unload_seconds", 300))
        self.model: Llama | None = None
        self.last_used = time.monotonic()
        self._lock = threading.Lock()
        self._watchdog = threading.Thread(target=self._idle_watchdog, daemon=True)

    def on_start(self) -> None:
        self._watchdog.start()

    def _idle_watchdog(self) -> None:
        """Drop the model after ``idle_unload_s`` without requests (runs in its own thread)."""
        while self.running:
            # Background thread: this sleep never delays a request.
            time.sleep(IDLE_CHECK_SECONDS)
            with self._lock:
                idle = time.monotonic() - self.last_used
                if self.model is not None and idle > self.idle_unload_s:
                    logger.info("idle for %.0f s, unloading %s", idle, self.model_path)
                    self.model = None

    def _ensure_model(self) -> Llama:
        """Return the resident model, loading it first if needed (first request or after unload)."""
        with self._lock:
            if self.model is None:
                logger.info("loading %s (n_ctx=%d)", self.model_path, self.n_ctx)
                self.model = Llama(
                    model_path=self.model_path,
                    n_ctx=self.n_ctx,
                    n_gpu_layers=self.n_gpu_layers,
                    verbose=False,
                )
            self.last_used = time.monotonic()
            return self.model

    @functools.lru_cache(maxsize=None)
    def _count_tokens(self, text: str) -> int:
        """Token count of ``text``; memoised because agents ask about the same prompts repeatedly."""
        return len(self._ensure_model().tokenize(text.encode("utf-8")))

    def handle_request(self, msg: dict[str, Any]) -> dict[str, Any]:
        op = msg.get("op", "generate")
        if op == "count_tokens":
            return {"ok": True, "tokens": self._count_tokens(msg["text"])}
        if op != "generate":
            return {"ok": False, "error": f"unsupported op {op!r}"}

        llm = self._ensure_model()
        prompt = PROMPT_TEMPLATE.format(system=msg.get("system", DEFAULT_SYSTEM), prompt=msg["prompt"])
        output = llm(
            prompt,
            max_tokens=int(msg.get("max_tokens", 256)),
            temperature=float(msg.get("temperature", 0.7)),
            stop=["</s>", "[INST]"],
        )
        choice = output["choices"][0]
        return {"ok": True, "text": choice["text"].strip(), "usage": output.get("usage", {})}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    ModelManager().run()
