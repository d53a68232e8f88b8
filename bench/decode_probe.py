"""One measurement of the CPU path of ingest, run as a script inside ONE source tree.

`python bench/decode_probe.py ROOT MESSAGES` imports the repository at ROOT (the current
tree or a read-only copy of an older commit) and, per channel format, times with process
CPU time: decoding every message (`decode`), then folding the changes into order states
in batches as the worker does (`plan`: links, the write planner with the merge and the
timeline, given the orders the writer remembers and the event documents it reads back for
late events), building what is sent (`documents`: order and event documents) and
serialising each document once (`serialise`). It prints one JSON object. Older and newer trees differ
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
    """The engine as the writer sees it: event documents as JSON, and the orders the writer wrote
    remembered as their merge state (what `OrderStoreWriter` keeps instead of reading them back);
    a tree from before that memory reads its orders back from JSON."""

    def __init__(self, code: dict[str, Any]) -> None:
        self.code, self.orders, self.events, self.states = code, {}, {}, {}
        self.remembers = "state" in getattr(code["planner"].StoredOrder, "__dataclass_fields__", {})

    def stored(self, order_ids: set[str]) -> dict[str, Any]:
        loads, planner = self.code["orjson"].loads, self.code["planner"]
        if self.remembers:
            return {i: planner.StoredOrder(None, 1, 1, entries, state=state)
                    for i in order_ids if i in self.states for entries, state in (self.states[i],)}
        return {i: planner.stored_order({"_source": loads(self.orders[i]), "_seq_no": 1, "_primary_term": 1})
                for i in order_ids if i in self.orders}

    def history(self, changes: list[Any], stored: dict[str, Any]) -> dict[str, list[Any]] | None:
        planner = self.code["planner"]
        if not hasattr(planner, "history_needed"):
            return None
        loads = self.code["orjson"].loads
        return {order_id: [planner.stored_event({"_source": loads(self.events[e])}) for e in ids if e in self.events]
                for order_id, ids in planner.history_needed(changes, stored).items()}

    def documents(self, plan: Any, now: datetime) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
        """The event and order documents of a plan, as built for the bulk request (not serialised)."""
        planner = self.code["planner"]
        events = [(entry.entry_id, self.code["event_document"](entry, now))
                  for entry in getattr(plan, "entries", None) or plan.timeline]
        orders = []
        for write in plan.orders:
            entries = getattr(write, "event_entries", None)
            orders.append((write.order_id, planner.order_document(write.state, now) if entries is None
                           else planner.order_document(write.state, now, event_entries=entries)))
            self.states[write.order_id] = (entries or (), write.state)
        return events, orders

    def write(self, events: list[tuple[str, Any]], orders: list[tuple[str, Any]]) -> None:
        """Serialised once each, as the engine adapter's serialiser does (orjson, decimals as text)."""
        dumps = self.code["orjson"].dumps
        for entry_id, document in events:
            self.events[entry_id] = dumps(document, default=str)
        for order_id, document in orders:
            self.orders[order_id] = dumps(document, default=str)


def _fold(code: dict[str, Any], decoded: list[list[Any]]) -> dict[str, float]:
    """Plan, build and serialise every batch as the writer does; CPU seconds per stage, and the writes."""
    store, now = _Store(code), datetime(2026, 3, 1, tzinfo=UTC)
    spent = dict.fromkeys(("plan_s", "documents_s", "serialise_s", "order_writes", "event_writes"), 0.0)
    for start in range(0, len(decoded), BATCH):
        began = time.process_time()
        changes = [change for changes in decoded[start:start + BATCH] for change in changes]
        if code["with_links"] is not None:
            changes, _ = code["with_links"](changes)
        stored = store.stored({change.order_id for change in changes})
        history = store.history(changes, stored)
        plan = (code["planner"].plan_writes(changes, stored) if history is None
                else code["planner"].plan_writes(changes, stored, history))
        planned = time.process_time()
        events, orders = store.documents(plan, now)
        built = time.process_time()
        store.write(events, orders)
        spent["plan_s"] += planned - began
        spent["documents_s"] += built - planned
        spent["serialise_s"] += time.process_time() - built
        spent["order_writes"] += len(orders)
        spent["event_writes"] += len(events)
    return spent


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
        spent = _fold(code, decoded)
        result[source] = {"messages": len(payloads), "changes": sum(map(len, decoded)), "refused": failed,
                          "order_writes": int(spent.pop("order_writes")), "event_writes": int(spent.pop("event_writes")),
                          "decode_s": decoded_at - started, **spent}
    return result


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], sys.argv[2])))
