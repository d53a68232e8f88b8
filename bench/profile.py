"""Where the ingest worker's time goes: a py-spy sampling profile of one worker on a small
slice of the same traffic, saved as py-spy's collapsed stacks (for flamegraph.pl or
speedscope) and summarised as two tables for the report: the loop's stages (decode, merge,
serialisation, Kafka fetch, waiting for the engine...) and the heaviest functions. Idle
samples are kept (`--idle`), so waiting on the engine or the broker shows as such.

It runs after the timed phases, on its own data, so sampling never slows a measurement.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from bench.ingest_bench import publish, scoped_env
from orderrepo.bootstrap import connect_engine, prepare_storage
from settings import Settings

OWN_PACKAGES = ("order_domain/", "ingest/", "adapters/", "opensearchpy/", "kafka/", "pydantic/")
_FRAME = re.compile(r"^(?P<function>.+?) \((?P<file>[^:]+)(:\d+)?\)$")


def profile_ingest(settings: Settings, out: Path, *, orders: int = 3_000, seed: int = 7) -> dict[str, Any]:
    spy = find_py_spy()
    if spy is None:
        return {"skipped": "py-spy is not installed (pip install -e '.[bench]')"}
    prepare_storage(settings, connect_engine(settings))
    publish(settings, orders, seed)
    raw = out / "ingest_profile.txt"
    command = [sys.executable, "-m", "orderrepo.cli", "ingest", "run", "--idle-exit", "3", "--processes", "1"]
    outcome = subprocess.run([spy, "record", "--rate", "100", "--idle", "--format", "raw", "--output", str(raw), "--", *command],
                             env=scoped_env(settings), capture_output=True, text=True)
    if outcome.returncode != 0 or not raw.exists():
        return {"skipped": f"py-spy failed: {outcome.stderr.strip()[-300:]}"}
    collapsed = raw.read_text()
    return {"orders": orders, "samples_file": raw.name, "stages": stage_shares(collapsed),
            "top": top_functions(collapsed)}


def find_py_spy() -> str | None:
    """The project's environment first (a fresh clone's `.venv/bin`, where `pip install -e '.[bench]'`
    puts it, is not on the PATH unless activated), then the PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.is_file() else shutil.which("py-spy")


def top_functions(collapsed: str, limit: int = 20) -> list[dict[str, Any]]:
    """Share of the main thread's samples spent inside each function (inclusive), ours and our libraries'."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if "IngestWorker.run" not in stack:
            continue  # Kafka client threads waiting on sockets
        total += int(count)
        seen = set()
        for frame in stack.split(";"):
            match = _FRAME.match(frame)
            package = next((p for p in OWN_PACKAGES if match and p in match["file"]), None)
            if match and package:
                name = f"{match['function']} ({match['file'][match['file'].rindex(package):]})"
                if name not in seen:
                    seen.add(name)
                    inclusive[name] += int(count)
    return [{"function": name, "share": round(count / max(total, 1), 3)} for name, count in inclusive.most_common(limit)]


# Stages of the worker's loop, by the function that marks them in a sampled stack (outermost wins),
# so every main-thread sample lands in exactly one stage; pydantic frames inside a stage are also
# counted apart ("validation") to show what validating costs within decoding and merging.
STAGES = (
    ("KafkaChangeSource.poll", "kafka fetch"),
    ("KafkaChangeSource.commit", "kafka commit"),
    ("IngestWorker._decode", "decode"),
    ("WriteGate.admit", "tiering gate (locator/tombstone reads)"),
    ("OrderStoreWriter._load", "re-read of current orders"),
    ("OrderStoreWriter._history", "re-read of event documents"),
    ("plan_writes", "merge and plan"),
    ("history_needed", "merge and plan"),
    ("OrderStoreWriter._order_actions", "document building"),
    ("OrderStoreWriter._timeline_actions", "document building"),
    ("SearchEngine.bulk", "bulk write (engine)"),
    ("IngestWorker._send_letters", "dead letters"),
)
_IDLE_LEAVES = ("recv_into", "readinto", "_poll", "select", "poll (selectors", "wait (threading", "sleep")


def stage_shares(collapsed: str) -> dict[str, dict[str, float]]:
    """Per stage: share of all main-thread samples, and how much of it was waiting (a socket or
    selector at the leaf: the engine or the broker working) rather than this process's CPU."""
    stages: Counter[str] = Counter()
    waiting: Counter[str] = Counter()
    validation = total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if "IngestWorker.run" not in stack:
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        stage = next((name for frame in frames for marker, name in STAGES if frame.startswith(marker)), "other")
        if stage == "bulk write (engine)" and any("dumps" in f for f in frames):
            stage = "serialisation"
        stages[stage] += count
        waiting[stage] += count if any(leaf in frames[-1] for leaf in _IDLE_LEAVES) else 0
        validation += count if any("pydantic" in f for f in frames) else 0
    shares = {name: {"share": round(n / max(total, 1), 3), "waiting": round(waiting[name] / max(total, 1), 3)}
              for name, n in stages.most_common()}
    shares["(pydantic validation, inside the stages above)"] = {"share": round(validation / max(total, 1), 3),
                                                                "waiting": 0.0}
    return shares
