"""Web agent: loads pages in a headless Chrome for the other agents.

Serves ``browse`` (title + text of a page), ``screenshot`` (PNG) and
``render_isolated`` (page rendered in a throwaway browser profile) over an
asyncio ZMQ REP socket.
"""

import asyncio
import base64
import logging
from typing import Any

import zmq
import zmq.asyncio
from selenium import webdriver
from selenium.webdriver.chrome.options import Options

from common.utils import agent_entry

MAX_TEXT_CHARS = 20_000

logger = logging.getLogger(__name__)


def chrome_options(headless: bool = True) -> Options:
    """Options shared by every browser this agent starts."""
    opts = Options()
    if headless:
        opts.add_argument("--headless=new")
    opts.add_argument("--no-sandbox")
    opts.add_argument("--disable-dev-shm-usage")
    opts.add_argument("--window-size=1280,2000")
    return opts


class WebAgent:
    """Owns one long-lived browser; isolated renders get a fresh one."""

    def __init__(self) -> None:
        entry = agent_entry("web_agent")
        options = entry.get("options", {})
        self.port = int(entry.get("port", 5555))
        self.headless = bool(options.get("headless", True))
        self.page_load_timeout = float(options.get("page_load_timeout", 30))
        self.context = zmq.asyncio.Context.instance()
        self.socket = self.context.socket(zmq.REP)
        # Started once with the process and quit in close(); not per request.
        self.driver = webdriver.Chrome(options=chrome_options(self.headless))
        self.driver.set_page_load_timeout(self.page_load_timeout)

    async def browse(self, url: str) -> dict[str, Any]:
        """Return the title and (truncated) HTML of ``url``."""
        self.driver.get(url)
        html = self.driver.page_source
        return {"ok": True, "url": self.driver.current_url, "title": self.driver.title,
                "html": html[:MAX_TEXT_CHARS]}

    async def screenshot(self, url: str) -> dict[str, Any]:
        """Return a PNG screenshot of ``url`` as base64."""

        def capture() -> bytes:
            # Plain function executed by asyncio.to_thread below: the blocking
            # driver calls run in a worker thread, never on the event loop.
            self.driver.get(url)
            return self.driver.get_screenshot_as_png()

        png = await asyncio.to_thread(capture)
        return {"ok": True, "png_b64": base64.b64encode(png).decode("ascii")}

    def _render_isolated(self, url: str) -> dict[str, Any]:
        """Render ``url`` in a fresh profile so cookies from other sites cannot leak in."""
        driver = webdriver.Chrome(options=chrome_options(self.headless))
        driver.set_page_load_timeout(self.page_load_timeout)
        driver.get(url)
        return {"ok": True, "title": driver.title, "html": driver.page_source[:MAX_TEXT_CHARS]}

    async def handle(self, msg: dict[str, Any]) -> dict[str, Any]:
        op = msg.get("op", "browse")
        if op == "browse":
            return await self.browse(msg["url"])
        if op == "screenshot":
            return await self.screenshot(msg["url"])
        if op == "render_isolated":
            # Handed to the default thread pool; the event loop stays free meanwhile.
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(None, self._render_isolated, msg["url"])
        return {"ok": False, "error": f"unsupported op {op!r}"}

    async def serve(self) -> None:
        self.socket.bind(f"tcp://*:{self.port}")
        logger.info("web_agent listening on port %d", self.port)
        while True:
            msg = await self.socket.recv_json()
            try:
                reply = await self.handle(msg)
            except Exception as exc:  # report, keep serving
                logger.exception("request failed")
                reply = {"ok": False, "error": str(exc)}
            await self.socket.send_json(reply)

    def close(self) -> None:
        self.driver.quit()
        self.socket.close(linger=0)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    agent = WebAgent()
    try:
        asyncio.run(agent.serve())
    finally:
        agent.close()
