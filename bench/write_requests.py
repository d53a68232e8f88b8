"""Engine requests and documents per 1,000 events on the ingest write path, for an older commit
and the current tree side by side (the real engine; no Kafka: decoded messages are handed to
the worker's writer — tiering gate, order store writer — in poll-sized batches).

    git worktree add --detach /tmp/base-requests cd9b28a
    .venv/bin/python -m bench.write_requests --base /tmp/base-requests --orders 1000 --batch 500

Each tree runs in its own process on its own index prefix (deleted afterwards) and counts the
HTTP requests its engine client sends, by kind (`_bulk`, `_mget`, alias lookups, ...), and the
documents the bulk requests carry. Requests per event fall with bigger batches (a batch's reads
are one request each), so the batch size is part of the figure.
"""

from __future__ import annotations

import json
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
import json, re, sys
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
batch, events = int(sys.argv[4]), 0
for start in range(0, len(changes), batch):
    chunk = [change for found in changes[start:start + batch] for change in found]
    events += len(chunk)
    writer.write(chunk)
transport.perform_request = send
for index in sorted(engine.request("GET", f"/_cat/indices/{settings.index_prefix}-*", params={"format": "json"}),
                    key=lambda row: row["index"]):
    engine.delete_index(index["index"])
print(json.dumps({"events": events, "requests": dict(kinds), **documents}))
"""


def probe(tree: Path, messages: Path, *, batch: int) -> dict[str, Any]:
    prefix = f"wreq-{uuid.uuid4().hex[:8]}"
    done = subprocess.run([sys.executable, "-c", _PROBE, str(tree), str(messages), prefix, str(batch)],
                          check=True, cwd=tree, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def per_thousand(found: dict[str, Any]) -> dict[str, Any]:
    scale = 1000 / max(found["events"], 1)
    requests = {kind: round(count * scale, 2) for kind, count in sorted(found["requests"].items())}
    return {"events": found["events"], "requests_per_1000_events": requests,
            "total_requests_per_1000_events": round(sum(found["requests"].values()) * scale, 2),
            "documents_per_event": round(found.get("bulk items", 0) / max(found["events"], 1), 3)}


def main(base: Path = typer.Option(..., help="a checkout of the older commit (git worktree add --detach ...)"),
         orders: int = typer.Option(1000, min=10), batch: int = typer.Option(500, min=1),
         seed: int = typer.Option(11)) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        messages = Path(scratch) / "messages.ndjson"
        write_messages(base, messages, orders=orders, seed=seed)
        tables = {label: per_thousand(probe(tree, messages, batch=batch))
                  for label, tree in (("base", base), ("current", CURRENT))}
    save_result("write_requests", {"machine": machine(), "orders": orders, "batch": batch, **tables})
    print(f"engine requests per 1,000 events (batches of {batch} messages), base → current:")
    kinds = sorted({*tables["base"]["requests_per_1000_events"], *tables["current"]["requests_per_1000_events"]})
    for kind in kinds:
        print(f"  {kind:14} {tables['base']['requests_per_1000_events'].get(kind, 0)} → "
              f"{tables['current']['requests_per_1000_events'].get(kind, 0)}")
    print(f"  {'total':14} {tables['base']['total_requests_per_1000_events']} → "
          f"{tables['current']['total_requests_per_1000_events']}")
    print(f"documents per event: {tables['base']['documents_per_event']} → {tables['current']['documents_per_event']}")


if __name__ == "__main__":
    typer.run(main)
