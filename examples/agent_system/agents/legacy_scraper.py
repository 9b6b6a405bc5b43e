"""Legacy scraper agent: polls listing pages and forwards new links to the memory service.

Kept running for the price-watch feature until web_agent covers it. Pages are
fetched in worker threads; parsing is regex based because the pages are simple.
"""

import asyncio
import logging
import re
import time

import requests

from common.utils import agent_address, agent_entry, load_config, send_to_agent

TITLE_RE = re.compile(r"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)
LINK_RE = re.compile(r'<a[^>]+href="(https?://[^"]+)"[^>]*>(.*?)</a>', re.IGNORECASE | re.DOTALL)
SPACE_RE = re.compile(r"\s+")

logger = logging.getLogger(__name__)


def extract_items(html: str) -> list[dict[str, str]]:
    """Links on a listing page, each tagged with the page title."""
    title_match = TITLE_RE.search(html)
    page_title = (title_match.group(1).strip() if title_match else ""))
    return [
        {"page": page_title, "url": href, "label": SPACE_RE.sub(" ", label).strip()}
        for href, label in LINK_RE.findall(html)
    ]


async def fetch(url: str) -> str:
    resp = await asyncio.to_thread(requests.get, url, timeout=10)
    resp.raise_for_status()
    return resp.text


async def poll_forever(feeds: list[str], memory_address: str) -> None:
    seen: set[str] = set()
    while True:
        for feed in feeds:
            try:
                html = await fetch(feed)
            except requests.RequestException as exc:
                logger.warning("fetching %s failed: %s", feed, exc)
                continue
            for item in extract_items(html):
                if item["url"] in seen:
                    continue
                seen.add(item["url"])
                text = f"{item['label']} ({item['page']}): {item['url']}"
                payload = {"op": "remember", "user": "price-watch", "text": text}
                await asyncio.to_thread(send_to_agent, memory_address, payload)
        # Pause between polling rounds.
        time.sleep(2)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    options = agent_entry("legacy_scraper").get("options", {})
    asyncio.run(poll_forever(options.get("feeds", []), agent_address(load_config(), "memory_service")))
