"""Translator agent: text translation and speech-to-speech interpretation.

It keeps a speech recogniser, a multilingual translation model and a voice
cloning synthesiser in memory so that an ``interpret`` request (audio in,
translated audio out) never has to wait on another agent.
"""

import functools
import logging
import uuid
from pathlib import Path
from typing import Any

import whisper
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer, pipeline
from TTS.api import TTS

from common.base_agent import BaseAgent

NLLB_MODEL = "facebook/nllb-200-distilled-1.3B"
XTTS_MODEL = "tts_models/multilingual/multi-dataset/xtts_v2"
NLLB_CODES = {
    "en": "eng_Latn", "de": "deu_Latn", "fr": "fra_Latn", "es": "spa_Latn",
    "it": "ita_Latn", "pt": "por_Latn", "nl": "nld_Latn", "pl": "pol_Latn",
}
OUTPUT_DIR = Path(__file__).resolve().parent.parent / "output" / "interpret"

logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=256)
def normalize_lang(code: str) -> str:
    """Map 'EN', 'en-US' or 'en_GB' to 'en'. Bounded memo: at most 256 codes are kept."""
    return code.strip().lower().replace("_", "-").split("-")[0]


class Translator(BaseAgent):
    """Handles ``translate`` (text) and ``interpret`` (audio file) requests."""

    def __init__(self) -> None:
        super().__init__("translator")
        device = self.options.get("device", "cuda")
        self.device = device
        self.fallback_models: dict[str, str] = self.options.get("fallback_models", {})
        # All resident models are loaded here, once, before the first request arrives.
        self.asr = whisper.load_model("large-v3", device=device)
        self.nllb = pipeline("translation", model=NLLB_MODEL, device=0 if device == "cuda" else -1)
        self.tts = TTS(XTTS_MODEL).to(device)
        OUTPUT_DIR.mkdir(parents=True, exist_ok=True)

    def _translate(self, text: str, src: str, tgt: str) -> str:
        if src == tgt:
            return text
        if src in NLLB_CODES and tgt in NLLB_CODES:
            out = self.nllb(text, src_lang=NLLB_CODES[src], tgt_lang=NLLB_CODES[tgt], max_length=512)
            return out[0]["translation_text"]
        # Rare pairs use a dedicated Marian model; too rarely needed to keep resident.
        model_name = self.fallback_models.get(f"{src}-{tgt}", f"Helsinki-NLP/opus-mt-{src}-{tgt}")
        logger.info("fallback translation %s -> %s with %s", src, tgt, model_name)
        tokenizer = AutoTokenizer.from_pretrained(model_name)
        model = AutoModelForSeq2SeqLM.from_pretrained(model_name)
        batch = tokenizer([text], return_tensors="pt", truncation=True)
        generated = model.generate(**batch, max_new_tokens=512)
        return tokenizer.decode(generated[0], skip_special_tokens=True)

    def handle_request(self, msg: dict[str, Any]) -> dict[str, Any]:
        op = msg.get("op", "translate")
        src = normalize_lang(msg.get("source", "en"))
        tgt = normalize_lang(msg["target"])

        if op == "translate":
            return {"ok": True, "text": self._translate(msg["text"], src, tgt), "target": tgt}

        if op == "interpret":
            heard = self.asr.transcribe(msg["audio_path"], language=src)["text"].strip()
            translated = self._translate(heard, src, tgt)
            out_path = OUTPUT_DIR / f"{uuid.uuid4().hex}.wav"
            self.tts.tts_to_file(
                text=translated, speaker_wav=msg["audio_path"], language=tgt, file_path=str(out_path)
            )
            return {"ok": True, "heard": heard, "text": translated, "path": str(out_path)}

        return {"ok": False, "error": f"unsupported op {op!r}"}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    Translator().run()
