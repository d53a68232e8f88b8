"""Runs the real API (uvicorn, separate process) over an isolated, ingested data set."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from settings import Settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_api(settings: Settings, secret: str) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "ORDERREPO_INDEX_PREFIX": settings.index_prefix,
           "ORDERREPO_ENGINE_URL": settings.resolved_engine_url(), "ORDERREPO_API_TOKEN_SECRET": secret,
           "ORDERREPO_LOG_LEVEL": "WARNING"}
    process = subprocess.Popen([sys.executable, "-m", "orderrepo.cli", "api", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"API exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
