"""Speech-to-text agent: transcribes recorded files and streamed microphone audio.

Recorded files go through openai-whisper; live audio arrives as a list of
16 kHz float32 chunks and is transcribed with faster-whisper.
"""

import logging
from typing import Any

import numpy as np
import whisper
from faster_whisper import WhisperModel

from common.base_agent import BaseAgent

SAMPLE_RATE = 16_000

logger = logging.getLogger(__name__)

# Loaded once at import time, i.e. when the agent process starts; requests reuse it.
DEFAULT_MODEL = whisper.load_model("base")


class SpeechToText(BaseAgent):
    """Handles ``transcribe`` (file path) and ``transcribe_stream`` (audio chunks) requests."""

    def __init__(self) -> None:
        super().__init__("speech_to_text")
        self.default_size: str = self.options.get("model_size", "base")
        self.stream_size: str = self.options.get("stream_model_size", "small")
        self.device: str = self.options.get("device", "cuda")

    def _transcribe_stream(self, chunks: list[np.ndarray], language: str | None) -> list[dict[str, Any]]:
        """Transcribe consecutive chunks, keeping timestamps relative to the first chunk."""
        segments: list[dict[str, Any]] = []
        offset_s = 0.0
        for chunk in chunks:
            model = WhisperModel(self.stream_size, device=self.device, compute_type="float16")
            parts, _info = model.transcribe(chunk, language=language, vad_filter=True)
            for part in parts:
                segments.append(
                    {
                        "start": round(offset_s + part.start, 2),
                        "end": round(offset_s + part.end, 2),
                        "text": part.text.strip(),
                    }
                )
            offset_s += len(chunk) / SAMPLE_RATE
        return segments

    def handle_request(self, msg: dict[str, Any]) -> dict[str, Any]:
        op = msg.get("op", "transcribe")
        language = msg.get("language")

        if op == "transcribe_stream":
            chunks = [np.asarray(chunk, dtype=np.float32) for chunk in msg["chunks"]]
            return {"ok": True, "segments": self._transcribe_stream(chunks, language)}

        if op != "transcribe":
            return {"ok": False, "error": f"unsupported op {op!r}"}

        size = msg.get("model_size", self.default_size)
        if size == self.default_size:
            model = DEFAULT_MODEL
        else:
            # Callers occasionally ask for "medium" or "large" for difficult recordings.
            logger.info("loading whisper %s for %s", size, msg["path"])
            model = whisper.load_model(size, device=self.device)
        result = model.transcribe(msg["path"], language=language, fp16=self.device == "cuda")
        return {
            "ok": True,
            "text": result["text"].strip(),
            "language": result.get("language"),
            "model_size": size,
        }


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    SpeechToText().run()
