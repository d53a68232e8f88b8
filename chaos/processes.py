"""The processes a drill or soak runs and watches: ingest workers, the API, their memory and their ends.

Every end of a child is recorded (`ChildExit`): how it ended (exit code or signal), whether
the run caused it (our SIGKILL, our SIGTERM at the end) and the tail of its log (stdout and
stderr, with Python's fault handler on, so even a fatal signal leaves a traceback). A child
that ends on its own is never restarted by the run: that would hide the defect. `Fleet`
raises `ChildDied` with that record instead, and the run fails saying why.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOG_TAIL_LINES = 40


@dataclass(frozen=True)
class ChildExit:
    """How one run of a child ended."""

    name: str
    pid: int
    returncode: int
    caused_by_us: bool
    at_s: float  # seconds since the fleet started
    log_tail: str

    @property
    def how(self) -> str:
        if self.returncode < 0:
            return f"killed by {signal.Signals(-self.returncode).name}"
        return f"exit code {self.returncode}"

    def describe(self) -> str:
        cause = "as the run intended" if self.caused_by_us else "ON ITS OWN"
        return (f"{self.name} (pid {self.pid}) ended {cause} at {self.at_s:.0f}s: {self.how}\n"
                f"--- last lines of its log ---\n{self.log_tail}")


class ChildDied(RuntimeError):
    """A child ended without the run asking it to."""

    def __init__(self, ended: ChildExit) -> None:
        super().__init__(ended.describe())
        self.ended = ended


@dataclass
class Child:
    """One child process (an `orderrepo` command unless `program` says otherwise) with its log file
    (stdout and stderr)."""

    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    program: list[str] = field(default_factory=lambda: [sys.executable, "-m", "orderrepo.cli"])
    process: subprocess.Popen[bytes] | None = None
    kills: int = 0
    exits: list[ChildExit] = field(default_factory=list)
    rss_samples: list[tuple[float, int]] = field(default_factory=list)  # (seconds, bytes) of the current process
    peak_rss: int = 0  # over every run of this child
    started_at: float = field(default_factory=time.monotonic)  # the run's time zero (shared by a fleet)
    _signalled: bool = False

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._signalled = False
        self.rss_samples = []  # a slope across a restart would only show the restart
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([*self.program, *self.command],
                                            env={**self.env, "PYTHONFAULTHANDLER": "1"},
                                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def ended(self) -> ChildExit | None:
        """The record of this run's end, made once, when the process has ended; None while it runs."""
        if self.process is None or self.process.poll() is None:
            return None
        if not self.exits or self.exits[-1].pid != self.process.pid:
            self.exits.append(ChildExit(
                name=self.name, pid=self.process.pid, returncode=int(self.process.returncode),
                caused_by_us=self._signalled, at_s=time.monotonic() - self.started_at, log_tail=self.log_tail()))
        return self.exits[-1]

    def kill_hard(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed or committed."""
        if self.alive():
            assert self.process is not None
            self._signalled = True
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(30)
            self.kills += 1
            self.ended()

    def stop(self, timeout_s: float = 60) -> int | None:
        if self.process is None:
            return None
        if self.alive():
            self._signalled = True
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)
        self.ended()
        return self.process.returncode

    def sample_rss(self) -> None:
        if self.alive():
            assert self.process is not None
            rss = rss_bytes(self.process.pid)
            self.rss_samples.append((time.monotonic() - self.started_at, rss))
            self.peak_rss = max(self.peak_rss, rss)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@dataclass
class Fleet:
    """The children of one run: started, sampled and stopped together; a death on its own is raised."""

    children: list[Child]
    started: float = field(default_factory=time.monotonic)

    def start(self) -> None:
        self.started = time.monotonic()
        for child in self.children:
            child.started_at = self.started
            child.start()

    def sample(self) -> None:
        """Memory of every live child, after checking none ended on its own."""
        self.check()
        for child in self.children:
            child.sample_rss()

    def check(self) -> None:
        for child in self.children:
            ended = child.ended()
            if ended is not None and not ended.caused_by_us:
                raise ChildDied(ended)

    def stop(self) -> None:
        for child in self.children:
            child.stop()

    def memory(self) -> dict[str, dict[str, float]]:
        """Peak over every run of each child; slope over its last (longest-lived, for a restarted worker)."""
        return {child.name: {"peak_mb": round(child.peak_rss / 1e6, 1),
                             "slope_mb_per_min": round(slope_mb_per_min(child.rss_samples), 3),
                             "samples": len(child.rss_samples)}
                for child in self.children}

    def exits(self) -> list[dict[str, Any]]:
        """Every recorded end, in order, for the report (the log tail only for ends on their own)."""
        ends = sorted((e for child in self.children for e in child.exits), key=lambda e: e.at_s)
        return [{"name": e.name, "pid": e.pid, "how": e.how, "caused_by_us": e.caused_by_us,
                 "at_s": round(e.at_s, 1), **({} if e.caused_by_us else {"log_tail": e.log_tail})} for e in ends]

    def unexpected(self) -> list[ChildExit]:
        return [e for child in self.children for e in child.exits if not e.caused_by_us]


def rss_bytes(pid: int) -> int:
    """Resident set of a process and its children (a supervised worker has some)."""
    total = 0
    for each in [pid, *children_of(pid)]:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def children_of(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def slope_mb_per_min(samples: list[tuple[float, int]]) -> float:
    """Least-squares slope of RSS over time, MB per minute (flat memory: close to 0)."""
    if len(samples) < 3:
        return 0.0
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_m = sum(m for _, m in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    if var == 0:
        return 0.0
    cov = sum((t - mean_t) * (m - mean_m) for t, m in samples)
    return cov / var * 60 / 1e6
