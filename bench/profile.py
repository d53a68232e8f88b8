"""Where the ingest worker's time goes: a py-spy sampling profile of one worker on a small
slice of the same traffic, saved as py-spy's collapsed stacks (for flamegraph.pl or
speedscope) and summarised as two tables for the report: the loop's stages (decode, merge,
serialisation, Kafka fetch, waiting for the engine...) and the heaviest functions. Idle
samples are kept (`--idle`), so waiting on the engine or the broker shows as such.

It runs after the timed phases, on its own data, so sampling never slows a measurement.

`python -m bench.profile` is the deterministic complement for the write path after decoding:
sample traffic is decoded first (outside the profile), then cProfile records the worker's writer
(tiering gate, merge, timeline entries, documents, bulk serialisation and answers) writing it to
the real engine in poll-sized batches, on an index prefix of its own (deleted afterwards). It
prints the heaviest functions by own time and by inclusive time, and the writer's CPU per event.
cProfile adds its own cost to every call, so read it for where the time goes, not for totals.
"""

from __future__ import annotations

import cProfile
import pstats
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import typer

from bench.ingest_bench import drop_scope, publish, scoped_env
from bench.measure import save_result
from ingest.decoders import decode
from ingest.topics import CHANNEL_FORMATS
from order_domain.model import OrderChange
from orderrepo.bootstrap import admitted_writer, connect_engine, prepare_storage
from sample_traffic import generate
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


def decoded_traffic(orders: int, seed: int) -> list[list[OrderChange]]:
    """The changes of each sample message, decoded (messages a decoder refuses carry none)."""
    decoded = []
    for message in generate(orders=orders, seed=seed):
        try:
            decoded.append(decode(CHANNEL_FORMATS[message.channel], message.value))
        except Exception:  # noqa: BLE001 - a refused message is the dead-letter path, not the writer's
            decoded.append([])
    return decoded


def profile_writer(settings: Settings, messages: list[list[OrderChange]], *,
                   batch: int) -> tuple[pstats.Stats, dict[str, Any]]:
    """cProfile of the worker's writer over `messages` in batches of `batch` messages, on the real engine."""
    engine = connect_engine(settings)
    prepare_storage(settings, engine)
    writer, profiler, events, cpu = admitted_writer(settings, engine), cProfile.Profile(), 0, 0.0
    try:
        for start in range(0, len(messages), batch):
            changes = [change for found in messages[start:start + batch] for change in found]
            events += len(changes)
            began = time.process_time()
            profiler.runcall(writer.write, changes)
            cpu += time.process_time() - began
    finally:
        drop_scope(engine, settings.index_prefix)
    per_event = 1e6 / max(events, 1)
    return pstats.Stats(profiler), {"events": events, "cpu_us_per_event_profiled": round(cpu * per_event, 1),
                                    "by_stage": {k: round(v * per_event, 1) for k, v in writer.cpu_by_stage.items()}}


def main(orders: int = typer.Option(500, min=10), batch: int = typer.Option(500, min=1),
         seed: int = typer.Option(11), top: int = typer.Option(25, min=5)) -> None:
    messages = decoded_traffic(orders, seed)
    settings = Settings(index_prefix=f"wprof-{uuid.uuid4().hex[:8]}")
    stats, figures = profile_writer(settings, messages, batch=batch)
    for order in ("tottime", "cumulative"):
        stats.sort_stats(order).print_stats(top)
    save_result("write_profile", {"orders": orders, "batch": batch, **figures})


if __name__ == "__main__":
    typer.run(main)
