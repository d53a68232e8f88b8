"""Where the ingest worker's time goes: a py-spy sampling profile of one worker on a small
slice of the same traffic, saved as py-spy's collapsed stacks (for flamegraph.pl or
speedscope) and summarised as a table for the report.

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


def profile_ingest(settings: Settings, out: Path, *, orders: int = 10_000, seed: int = 7) -> dict[str, Any]:
    spy = shutil.which("py-spy")
    if spy is None:
        return {"skipped": "py-spy is not installed (pip install -e '.[dev]')"}
    prepare_storage(settings, connect_engine(settings))
    publish(settings, orders, seed)
    raw = out / "ingest_profile.txt"
    command = [sys.executable, "-m", "orderrepo.cli", "ingest", "run", "--idle-exit", "3", "--processes", "1"]
    outcome = subprocess.run([spy, "record", "--rate", "100", "--format", "raw", "--output", str(raw), "--", *command],
                             env=scoped_env(settings), capture_output=True, text=True)
    if outcome.returncode != 0 or not raw.exists():
        return {"skipped": f"py-spy failed: {outcome.stderr.strip()[-300:]}"}
    return {"orders": orders, "samples_file": raw.name, "top": top_functions(raw.read_text())}


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
