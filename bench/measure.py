"""Small measuring helpers shared by the benchmarks."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


def percentiles(samples: list[float], points: tuple[int, ...] = (50, 95, 99)) -> dict[str, float]:
    if not samples:
        return {f"p{p}": float("nan") for p in points}
    ordered = sorted(samples)
    return {f"p{p}": ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] for p in points}


def save_result(name: str, result: dict[str, object]) -> Path:
    """Prints `result` and saves it as bench/results/<name>-<UTC stamp>.json (git-ignored)."""
    results = Path(__file__).resolve().parent / "results"
    results.mkdir(parents=True, exist_ok=True)
    out = results / f"{name}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps(result, indent=2, default=str))
    print(f"saved {out}")
    return out


def machine() -> dict[str, object]:
    memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                     if line.startswith("MemTotal"))
    return {"cores": os.cpu_count(), "memory_gib": round(memory_kb / 1024 / 1024, 1),
            "python": platform.python_version(), "platform": platform.platform()}


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the process's peak resident set, read before it exits."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Stopwatch:
    started: float = 0.0

    def __enter__(self) -> Stopwatch:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self.started


def watch_peak_rss(process: subprocess.Popen[bytes], interval_s: float = 0.2) -> float:
    """Wait for `process`; the largest peak RSS of it or any of its children (one worker each)."""
    peaks: dict[int, float] = {}
    while process.poll() is None:
        for pid in (process.pid, *_children(process.pid)):
            try:
                peaks[pid] = max(peaks.get(pid, 0.0), peak_rss_mb(pid))
            except (FileNotFoundError, ProcessLookupError):
                continue
        time.sleep(interval_s)
    return max(peaks.values(), default=0.0)


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []


def engine_cpu_seconds(engine_url: str) -> float:
    """The engine's process CPU time (all nodes), from its own node stats. On a shared engine
    the difference over a phase includes whatever else it served meanwhile: an upper bound."""
    import httpx

    nodes = httpx.get(f"{engine_url}/_nodes/stats/process", timeout=30).json()["nodes"]
    return sum(node["process"]["cpu"]["total_in_millis"] for node in nodes.values()) / 1000
