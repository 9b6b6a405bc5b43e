"""Text-to-speech agent: speaks text in one of the configured voices with Coqui XTTS v2.

Voices are defined in ``voices.yaml`` as short reference recordings that
XTTS clones. Each synthesis is written to a WAV file whose path is returned.
"""

import logging
import time
import uuid
from pathlib import Path
from typing import Any

import yaml
from TTS.api import TTS

from common.base_agent import BaseAgent

ROOT = Path(__file__).resolve().parent.parent
VOICES_PATH = ROOT / "voices.yaml"
XTTS_MODEL = "tts_models/multilingual/multi-dataset/xtts_v2"
MAX_CHARS = 2000

logger = logging.getLogger(__name__)


class TextToSpeech(BaseAgent):
    """Handles ``speak`` requests: text (+ voice, language) in, WAV path out."""

    def __init__(self) -> None:
        super().__init__("text_to_speech")
        # Read once at startup: the defaults only change with a redeploy.
        with open(VOICES_PATH, encoding="utf-8") as fh:
            self.defaults: dict[str, str] = yaml.safe_load(fh)["defaults"]
        self.device: str = self.options.get("device", "cuda")
        self.output_dir = ROOT / self.options.get("output_dir", "output/tts")
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.manifest_path = self.output_dir / "manifest.tsv"

    def handle_request(self, msg: dict[str, Any]) -> dict[str, Any]:
        text = msg.get("text", "").strip()
        if not text:
            return {"ok": False, "error": "empty text"}
        if len(text) > MAX_CHARS:
            return {"ok": False, "error": f"text longer than {MAX_CHARS} characters"}

        # Re-read the voice table so newly recorded voices work without a restart.
        with open(VOICES_PATH, encoding="utf-8") as fh:
            voices: dict[str, dict[str, str]] = yaml.safe_load(fh)["voices"]
        voice_name = msg.get("voice", self.defaults["voice"])
        voice = voices.get(voice_name)
        if voice is None:
            return {"ok": False, "error": f"unknown voice {voice_name!r}"}

        tts = TTS(XTTS_MODEL).to(self.device)
        out_path = self.output_dir / f"{uuid.uuid4().hex}.wav"
        started = time.perf_counter()
        tts.tts_to_file(
            text=text,
            speaker_wav=str(ROOT / voice["reference_wav"]),
            language=msg.get("language", self.defaults["language"]),
            file_path=str(out_path),
        )
        elapsed = time.perf_counter() - started

        manifest = open(self.manifest_path, "a", encoding="utf-8")
        manifest.write(f"{time.time():.3f}\t{out_path.name}\t{voice_name}\t{len(text)}\t{elapsed:.2f}\n")
        logger.info("spoke %d chars as %s in %.2f s", len(text), voice_name, elapsed)
        return {"ok": True, "path": str(out_path), "voice": voice_name, "seconds": round(elapsed, 2)}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    TextToSpeech().run()
