"""One measurement of the CPU path of ingest, run as a script inside ONE source tree.

`python bench/decode_probe.py ROOT MESSAGES` imports the repository at ROOT (the current
tree or a read-only copy of an older commit) and, per channel format, times with process
CPU time: decoding every message (`decode`), then folding the changes into order states
in batches as the worker does (`merge`: the write planner, with the stored orders read
back as the engine would answer them) and building what is sent (`projection`: order and
timeline documents, serialised). It prints one JSON object. Older and newer trees differ
in names; every difference is bridged here, so both run the same steps on the same bytes.
Nothing here imports the benchmark package: the tree under test is the only code loaded.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

BATCH = 500  # records per poll batch, as the worker reads them


def _load(root: str) -> dict[str, Any]:
    sys.path[:] = [root] + [p for p in sys.path if p and not p.endswith("/bench")]
    import orjson

    import ingest
    from ingest import planner
    from ingest.topics import CHANNEL_FORMATS

    assert ingest.__file__ is not None and ingest.__file__.startswith(root), ingest.__file__
    try:  # after the decoders moved (and took options)
        from ingest.decoders import DEFAULT_OPTIONS
        from ingest.decoders import decode as decode_with

        def decode(source: str, payload: bytes) -> list[Any]:
            return decode_with(source, payload, DEFAULT_OPTIONS)
    except ImportError:
        from ingest.channels import decode  # type: ignore[no-redef]
    try:
        from order_domain.timeline import with_links  # links to other orders are planned with the batch
    except ImportError:
        with_links = None
    event_document = getattr(planner, "event_document", None)
    if event_document is None:
        from ingest.writer import _timeline_document as event_document  # type: ignore[attr-defined]
    return {"orjson": orjson, "planner": planner, "formats": CHANNEL_FORMATS, "decode": decode,
            "with_links": with_links, "event_document": event_document}


def _decode_all(code: dict[str, Any], source: str, payloads: list[bytes]) -> tuple[list[list[Any]], int]:
    decoded, failed = [], 0
    for payload in payloads:
        try:
            decoded.append(code["decode"](source, payload))
        except Exception:  # noqa: BLE001 - counted: a tree that refuses a message does less work
            decoded.append([])
            failed += 1
    return decoded, failed


class _Store:
    """The engine as the writer sees it: order documents and event documents, as JSON."""

    def __init__(self, code: dict[str, Any]) -> None:
        self.code, self.orders, self.events = code, {}, {}
        self.seq = 0

    def stored(self, order_ids: set[str]) -> dict[str, Any]:
        loads, planner = self.code["orjson"].loads, self.code["planner"]
        return {i: planner.stored_order({"_source": loads(self.orders[i]), "_seq_no": 1, "_primary_term": 1})
                for i in order_ids if i in self.orders}

    def history(self, changes: list[Any], stored: dict[str, Any]) -> dict[str, list[Any]] | None:
        planner = self.code["planner"]
        if not hasattr(planner, "history_needed"):
            return None
        loads = self.code["orjson"].loads
        return {order_id: [planner.stored_event({"_source": loads(self.events[e])}) for e in ids if e in self.events]
                for order_id, ids in planner.history_needed(changes, stored).items()}

    def write(self, plan: Any, now: datetime) -> None:
        dumps, planner = self.code["orjson"].dumps, self.code["planner"]
        for entry in getattr(plan, "entries", None) or plan.timeline:
            self.events[entry.entry_id] = dumps(self.code["event_document"](entry, now), default=str)
        for write in plan.orders:
            entries = getattr(write, "event_entries", None)
            document = (planner.order_document(write.state, now) if entries is None
                        else planner.order_document(write.state, now, event_entries=entries))
            self.orders[write.order_id] = dumps(document, default=str)


def _fold(code: dict[str, Any], decoded: list[list[Any]]) -> int:
    """Plan and project every batch; returns the order documents written."""
    store, written, now = _Store(code), 0, datetime(2026, 3, 1, tzinfo=UTC)
    for start in range(0, len(decoded), BATCH):
        changes = [change for changes in decoded[start:start + BATCH] for change in changes]
        if code["with_links"] is not None:
            changes, _ = code["with_links"](changes)
        stored = store.stored({change.order_id for change in changes})
        history = store.history(changes, stored)
        plan = (code["planner"].plan_writes(changes, stored) if history is None
                else code["planner"].plan_writes(changes, stored, history))
        store.write(plan, now)
        written += len(plan.orders)
    return written


def measure(root: str, messages_path: str) -> dict[str, Any]:
    code = _load(root)
    by_format: dict[str, list[bytes]] = defaultdict(list)
    formats = {str(channel): source for channel, source in code["formats"].items()}
    for line in open(messages_path, "rb"):
        message = json.loads(line)
        by_format[formats[message["channel"]]].append(message["value"].encode("latin-1"))
    result: dict[str, Any] = {"root": root}
    for source, payloads in sorted(by_format.items()):
        gc.collect()
        started = time.process_time()
        decoded, failed = _decode_all(code, source, payloads)
        decoded_at = time.process_time()
        written = _fold(code, decoded)
        folded_at = time.process_time()
        result[source] = {"messages": len(payloads), "changes": sum(map(len, decoded)), "refused": failed,
                          "order_writes": written, "decode_s": decoded_at - started,
                          "merge_and_projection_s": folded_at - decoded_at}
    return result


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], sys.argv[2])))
