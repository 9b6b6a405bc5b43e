"""HTTP gateway: the public API in front of the agent mesh.

Clients talk JSON over HTTP here; the gateway forwards conversational
requests to the coordinator over ZMQ and serves a few lookups itself.
"""

import asyncio
import json
import logging
import logging.handlers
import os
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import redis
import requests
import uvicorn
from fastapi import FastAPI, HTTPException, UploadFile
from pydantic import BaseModel

from common.utils import agent_address, agent_entry, fetch_json, load_config, send_to_agent

SETTINGS = agent_entry("gateway")
OPTIONS = SETTINGS.get("options", {})
# Resolved once at import time (process startup), not per request.
COORDINATOR = agent_address(load_config(), "coordinator")
UPLOAD_DIR = Path(OPTIONS.get("upload_dir", "uploads"))
REDIS_HOST = OPTIONS.get("redis_host", "localhost")
KNOWLEDGE_URL = "http://localhost:8100/api/lookup"
SEARCH_URL = "http://localhost:8200/search"
JOBS_URL = "http://localhost:8300/jobs"
WEATHER_URL = "https://api.open-meteo.com/v1/forecast"

os.makedirs("logs", exist_ok=True)
UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
logger = logging.getLogger("gateway")
# Rotating handler: the log is capped at 5 x 10 MB however long the gateway runs.
logger.addHandler(logging.handlers.RotatingFileHandler("logs/gateway.log", maxBytes=10_000_000, backupCount=5))


@asynccontextmanager
async def lifespan(app: FastAPI):
    # One pooled async client for the whole process, created at startup and reused by routes.
    app.state.http = httpx.AsyncClient(timeout=httpx.Timeout(10.0))
    yield
    await app.state.http.aclose()


app = FastAPI(title="agent-gateway", lifespan=lifespan)


class ChatRequest(BaseModel):
    text: str
    user: str = "anonymous"


@app.post("/v1/chat")
async def chat(req: ChatRequest) -> dict[str, Any]:
    payload = {"op": "route", "text": req.text, "payload": {"user": req.user}}
    # The ZMQ round trip blocks, so it runs in a worker thread instead of on the event loop.
    reply = await asyncio.to_thread(send_to_agent, COORDINATOR, payload)
    if not reply.get("ok"):
        # Give a struggling coordinator a moment before the single retry.
        time.sleep(0.5)
        reply = await asyncio.to_thread(send_to_agent, COORDINATOR, payload)
    return reply


@app.get("/v1/lookup")
async def lookup(term: str) -> Any:
    return fetch_json(KNOWLEDGE_URL, params={"q": term})


@app.get("/v1/weather")
async def weather(lat: float, lon: float) -> dict[str, Any]:
    resp = requests.get(WEATHER_URL, params={"latitude": lat, "longitude": lon, "current_weather": "true"}, timeout=5)
    resp.raise_for_status()
    return resp.json()["current_weather"]


@app.get("/v1/page-status")
async def page_status(url: str) -> dict[str, Any]:
    # requests runs in a worker thread (to_thread) and has a timeout: no blocking, no hang.
    resp = await asyncio.to_thread(requests.get, url, timeout=5)
    return {"url": url, "status": resp.status_code}


@app.get("/v1/search")
async def search(q: str) -> Any:
    # Shared AsyncClient from the lifespan: awaited, pooled, already has a timeout.
    resp = await app.state.http.get(SEARCH_URL, params={"q": q})
    resp.raise_for_status()
    return resp.json()


@app.post("/v1/upload")
async def upload(file: UploadFile) -> dict[str, Any]:
    data = await file.read()
    dest = UPLOAD_DIR / Path(file.filename or "upload.bin").name
    with open(dest, "wb") as fh:
        fh.write(data)
    return {"path": str(dest), "bytes": len(data)}


@app.get("/v1/session/{session_id}")
async def get_session(session_id: str) -> dict[str, Any]:
    with redis.Redis(host=REDIS_HOST, port=6379, decode_responses=True) as client:
        raw = client.get(f"session:{session_id}")
    if raw is None:
        raise HTTPException(status_code=404, detail="unknown session")
    return json.loads(raw)


@app.get("/v1/jobs/{job_id}")
async def wait_for_job(job_id: str) -> dict[str, Any]:
    for _ in range(30):
        resp = await app.state.http.get(f"{JOBS_URL}/{job_id}")
        job = resp.json()
        if job.get("state") in {"done", "failed"}:
            return job
        # Cooperative wait: the event loop serves other requests meanwhile.
        await asyncio.sleep(1)
    raise HTTPException(status_code=504, detail="job still running")


@app.get("/healthz")
async def healthz() -> dict[str, bool]:
    return {"ok": True}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    uvicorn.run(app, host="0.0.0.0", port=int(SETTINGS.get("port", 8000)))
