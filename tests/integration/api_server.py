"""Runs the real API (uvicorn, separate process) over an isolated, ingested data set.

The fixture fails, with the server's own output, when the server exits or does not
become ready in time: a test never runs against a server that is not there.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

from settings import Settings

READY_TIMEOUT_S = 60.0


class ApiDidNotStart(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _output(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-4000:]


def _wait_ready(process: subprocess.Popen[bytes], base: str, log: IO[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ApiDidNotStart(f"API exited with code {process.returncode}:\n{_output(log)}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise ApiDidNotStart(f"API not ready at {base}/readyz after {timeout_s:.0f}s:\n{_output(log)}")


@contextmanager
def running_api(settings: Settings, secret: str, *, command: Sequence[str] | None = None,
                ready_timeout_s: float = READY_TIMEOUT_S, env: dict[str, str] | None = None,
                output: Path | None = None) -> Iterator[str]:
    """Yields the base URL once `/readyz` answers 200. `command` replaces the server command
    (it gets the port as its last argument); `env` adds or overrides variables; the server's
    stdout and stderr go to `output` when given (to read after the block)."""
    port = free_port()
    env = {**os.environ, "ORDERREPO_INDEX_PREFIX": settings.index_prefix,
           "ORDERREPO_ENGINE_URL": settings.resolved_engine_url(), "ORDERREPO_API_TOKEN_SECRET": secret,
           "ORDERREPO_LOG_LEVEL": "WARNING", "ORDERREPO_API_RATE_PER_TOKEN": "0", "ORDERREPO_API_RATE_PER_CLIENT": "0", **(env or {})}
    argv = [*(command or (sys.executable, "-m", "orderrepo.cli", "api", "--port")), str(port)]
    base = f"http://127.0.0.1:{port}"
    with (open(output, "w+b") if output else tempfile.TemporaryFile()) as log:  # a file, not a pipe: a chatty server never blocks on a full pipe
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_ready(process, base, log, ready_timeout_s)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
