"""The ingest write path after decoding, for an older commit and the current tree side by side
(the real engine; no Kafka: decoded messages are handed to the worker's writer — tiering gate,
order store writer — in poll-sized batches): engine requests and documents per 1,000 events, and
the process CPU time per event the writer spends (merge, timeline entries, documents, bulk
serialisation and answers, the tiering gate), split by the writer's own stages.

    git worktree add --detach /tmp/base-requests cd9b28a
    .venv/bin/python -m bench.write_requests --base /tmp/base-requests --orders 1000 --batch 500 --repeats 3

Each tree runs in its own process on its own index prefix (deleted afterwards), `--repeats` times,
alternating which tree goes first, on the same decoded messages. It counts the HTTP requests its
engine client sends, by kind (`_bulk`, `_mget`, alias lookups, ...), and the documents the bulk
requests carry. Requests per event fall with bigger batches (a batch's reads are one request
each), so the batch size is part of the figure. CPU is `time.process_time` around the writer
alone (decoding is outside it), so a busy shared machine slows the wall clock more than the
figure; the median over the repeats is reported.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import typer

from bench.decode_bench import CURRENT, write_messages
from bench.measure import machine, save_result

_PROBE = """
import json, re, sys, time
from collections import Counter
sys.path[:] = [sys.argv[1]] + [p for p in sys.path if p and not p.endswith("/bench")]
from ingest.decoders import DEFAULT_OPTIONS, decode
from ingest.topics import CHANNEL_FORMATS
from index_templates import install
from orderrepo.bootstrap import admitted_writer, connect_engine, index_names
from retention.storage import TierNames, install_tier_storage
from settings import Settings

settings = Settings(index_prefix=sys.argv[3])
engine = connect_engine(settings)
install(engine, index_names(settings))
install_tier_storage(engine, TierNames(settings.index_prefix))
formats = {str(channel): source for channel, source in CHANNEL_FORMATS.items()}
changes = []
for line in open(sys.argv[2]):
    message = json.loads(line)
    try:
        changes.append(decode(formats[message["channel"]], message["value"].encode("latin-1"), DEFAULT_OPTIONS))
    except Exception:
        changes.append([])
writer = admitted_writer(settings, engine)
transport = engine._client.transport
send = transport.perform_request
kinds, documents = Counter(), Counter()

def counted(method, url, *args, **kwargs):
    kind = next((k for k in ("_bulk", "_mget", "_alias", "_search", "_refresh", "_doc") if k in url), "other")
    kinds[f"{method} {kind}"] += 1
    if kind == "_bulk":
        body = kwargs.get("body") or (args[1] if len(args) > 1 else b"")
        documents["bulk items"] += (body.decode() if isinstance(body, bytes) else body).count("\\n") // 2
    return send(method, url, *args, **kwargs)

transport.perform_request = counted
batch, events, cpu = int(sys.argv[4]), 0, 0.0
for start in range(0, len(changes), batch):
    chunk = [change for found in changes[start:start + batch] for change in found]
    events += len(chunk)
    began = time.process_time()
    writer.write(chunk)
    cpu += time.process_time() - began
transport.perform_request = send
for index in sorted(engine.request("GET", f"/_cat/indices/{settings.index_prefix}-*", params={"format": "json"}),
                    key=lambda row: row["index"]):
    engine.delete_index(index["index"])
for kind in ("_index_template", "_component_template"):
    try:
        engine.request("DELETE", f"/{kind}/{settings.index_prefix}-*")
    except Exception:  # none of that kind
        pass
print(json.dumps({"events": events, "requests": dict(kinds), "cpu_s": cpu,
                  "cpu_by_stage": getattr(writer, "cpu_by_stage", {}), **documents}))
"""


def probe(tree: Path, messages: Path, *, batch: int) -> dict[str, Any]:
    prefix = f"wreq-{uuid.uuid4().hex[:8]}"
    done = subprocess.run([sys.executable, "-c", _PROBE, str(tree), str(messages), prefix, str(batch)],
                          cwd=tree, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the probe of {tree} failed: {done.stderr.strip()[-1500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def per_thousand(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Requests and documents from the first run (the same in every run); CPU as the median of the runs."""
    found = runs[0]
    scale = 1000 / max(found["events"], 1)
    requests = {kind: round(count * scale, 2) for kind, count in sorted(found["requests"].items())}
    per_event = 1e6 / max(found["events"], 1)
    stages = sorted({stage for run in runs for stage in run.get("cpu_by_stage", {})})
    return {"events": found["events"], "requests_per_1000_events": requests,
            "total_requests_per_1000_events": round(sum(found["requests"].values()) * scale, 2),
            "documents_per_event": round(found.get("bulk items", 0) / max(found["events"], 1), 3),
            "cpu_us_per_event": round(statistics.median(run["cpu_s"] for run in runs) * per_event, 1),
            "cpu_us_per_event_runs": [round(run["cpu_s"] * per_event, 1) for run in runs],
            "cpu_us_per_event_by_stage": {stage: round(statistics.median(
                run.get("cpu_by_stage", {}).get(stage, 0.0) for run in runs) * per_event, 1) for stage in stages}}


def main(base: Path = typer.Option(..., help="a checkout of the older commit (git worktree add --detach ...)"),
         orders: int = typer.Option(1000, min=10), batch: int = typer.Option(500, min=1),
         seed: int = typer.Option(11), repeats: int = typer.Option(1, min=1)) -> None:
    runs: dict[str, list[dict[str, Any]]] = {"base": [], "current": []}
    with tempfile.TemporaryDirectory() as scratch:
        messages = Path(scratch) / "messages.ndjson"
        write_messages(base, messages, orders=orders, seed=seed)
        for repeat in range(repeats):  # alternate which tree runs first, so drift hits both alike
            order = [("base", base), ("current", CURRENT)][:: 1 if repeat % 2 == 0 else -1]
            for label, tree in order:
                runs[label].append(probe(tree, messages, batch=batch))
    tables = {label: per_thousand(found) for label, found in runs.items()}
    save_result("write_requests", {"machine": machine(), "orders": orders, "batch": batch, "repeats": repeats,
                                   **tables})
    _print(tables, batch)


def _print(tables: dict[str, Any], batch: int) -> None:
    base, current = tables["base"], tables["current"]
    print(f"engine requests per 1,000 events (batches of {batch} messages), base → current:")
    for kind in sorted({*base["requests_per_1000_events"], *current["requests_per_1000_events"]}):
        print(f"  {kind:14} {base['requests_per_1000_events'].get(kind, 0)} → "
              f"{current['requests_per_1000_events'].get(kind, 0)}")
    print(f"  {'total':14} {base['total_requests_per_1000_events']} → {current['total_requests_per_1000_events']}")
    print(f"documents per event: {base['documents_per_event']} → {current['documents_per_event']}")
    print(f"writer CPU µs per event (median): {base['cpu_us_per_event']} → {current['cpu_us_per_event']} "
          f"(runs {base['cpu_us_per_event_runs']} → {current['cpu_us_per_event_runs']})")
    for stage in sorted({*base["cpu_us_per_event_by_stage"], *current["cpu_us_per_event_by_stage"]}):
        print(f"  {stage:38} {base['cpu_us_per_event_by_stage'].get(stage, 0)} → "
              f"{current['cpu_us_per_event_by_stage'].get(stage, 0)}")


if __name__ == "__main__":
    typer.run(main)
