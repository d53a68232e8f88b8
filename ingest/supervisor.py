"""Runs several ingest worker processes in one consumer group (entrypoint side).

One Python process decodes and merges on one core; Kafka spreads the partitions of
the channel topics over the group's members, so N processes use N cores. Writes
stay correct with any number of members: every order write is seq_no-guarded.

The supervisor forwards SIGTERM/SIGINT so every child finishes and commits its
batch. If a child fails, the others are stopped and the failure is the exit code,
so the orchestrator (systemd, Kubernetes, compose) restarts the whole unit.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Sequence

from settings.log_setup import get_logger

log = get_logger(__name__)


def supervise(commands: Sequence[Sequence[str]], *, poll_interval_s: float = 0.5, grace_s: float = 60.0) -> int:
    """Exit code: 0 when every child ended cleanly, else the first failure's (128 + signal if killed)."""
    children: list[subprocess.Popen[bytes]] = []

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    # handlers first: a signal that arrives while children start must not orphan them
    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for command in commands:
            children.append(subprocess.Popen(list(command)))
        log.info("ingest workers started", pids=[child.pid for child in children])
        return _wait_all(children, poll_interval_s, grace_s)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _wait_all(children: list[subprocess.Popen[bytes]], poll_interval_s: float, grace_s: float) -> int:
    while True:
        codes = [child.poll() for child in children]
        failed = [(child, code) for child, code in zip(children, codes, strict=True) if code not in (None, 0)]
        if failed:
            child, code = failed[0]
            log.error("an ingest worker failed; stopping the others", pid=child.pid, exit_code=code)
            _stop(children, grace_s)
            return 128 - code if code < 0 else code  # killed by signal N -> 128 + N, as a shell reports it
        if all(code == 0 for code in codes):
            return 0
        time.sleep(poll_interval_s)


def _stop(children: list[subprocess.Popen[bytes]], grace_s: float) -> None:
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + grace_s
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
