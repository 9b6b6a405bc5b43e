"""Notifier agent: sends alerts and daily digests by e-mail or push.

Requests name an ``op`` and are dispatched through a table of handlers. The
urgency classifier decides whether an alert may wait for the next digest.
"""

import functools
import logging
import smtplib
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import requests
from transformers import pipeline

from common.base_agent import BaseAgent

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
PUSH_URL = "https://push.example.net/v1/send"
URGENCY_MODEL = "distilbert-base-uncased-finetuned-sst-2-english"

logger = logging.getLogger(__name__)


class Mailer:
    """An SMTP session for the length of a ``with`` block."""

    def __init__(self, host: str, port: int = 587) -> None:
        self.host = host
        self.port = port
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> smtplib.SMTP:
        self.smtp = smtplib.SMTP(self.host, self.port, timeout=10)
        self.smtp.starttls()
        return self.smtp

    def __exit__(self, *exc: object) -> None:
        if self.smtp is not None:
            self.smtp.quit()


class Notifier(BaseAgent):
    """Handles ``alert``, ``push`` and ``digest`` requests."""

    def __init__(self) -> None:
        super().__init__("notifier")
        self.smtp_host = self.options.get("smtp_host", "localhost")
        self.handlers = {
            "alert": self._alert,
            "push": self._push,
            "digest": self._digest,
        }

    @property
    def urgency(self) -> Any:
        # A property runs on every access: this builds the classifier for every alert.
        return pipeline("text-classification", model=URGENCY_MODEL)

    @functools.cached_property
    def signature(self) -> str:
        # Read once per process, on the first request that needs it.
        return (TEMPLATE_DIR / "signature.txt").read_text()

    def _alert(self, msg: dict[str, Any]) -> dict[str, Any]:
        label = self.urgency(msg["text"])[0]["label"]
        if label != "NEGATIVE":
            return {"ok": True, "queued": True}
        mail = EmailMessage()
        mail["To"] = msg["to"]
        mail["Subject"] = "Alert"
        mail.set_content(f"{msg['text']}\n\n{self.signature}")
        with Mailer(self.smtp_host) as smtp:
            smtp.send_message(mail)
        return {"ok": True, "queued": False}

    def _push(self, msg: dict[str, Any]) -> dict[str, Any]:
        resp = requests.post(PUSH_URL, json={"to": msg["to"], "text": msg["text"]}, timeout=5)
        return {"ok": resp.ok}

    def _digest(self, msg: dict[str, Any]) -> dict[str, Any]:
        template = (TEMPLATE_DIR / "digest.txt").read_text()
        return {"ok": True, "text": template.format(items="\n".join(msg.get("items", [])))}

    def handle_request(self, msg: dict[str, Any]) -> dict[str, Any]:
        handler = self.handlers.get(msg.get("op", "alert"))
        if handler is None:
            return {"ok": False, "error": f"unsupported op {msg.get('op')!r}"}
        return handler(msg)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    Notifier().run()
