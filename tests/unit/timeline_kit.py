"""Test kit for the timeline tests: decoded journeys of every channel, an in-memory order store,
and the example budget (TIMELINE_EXAMPLES scales every property test of the timeline)."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson

from adapters.search_engine import BulkItemResult
from index_templates import IndexNames
from ingest.decoders import decode
from ingest.planner import order_document
from ingest.topics import CHANNEL_FORMATS
from ingest.planner import event_document
from order_domain.merge import merge_all, state_of
from order_domain.model import Channel, OrderChange
from order_domain.timeline import entries, with_links
from sample_traffic import generate

SCALE = float(os.environ.get("TIMELINE_EXAMPLES", "1"))
NOW = datetime(2026, 6, 1, tzinfo=UTC)
NAMES = IndexNames("kit")


def examples(base: int) -> int:
    """`base` examples by default; TIMELINE_EXAMPLES=10 runs ten times as many."""
    return max(1, int(base * SCALE))


@cache
def journeys(orders: int = 400, seed: int = 12) -> dict[str, tuple[OrderChange, ...]]:
    """Every order's event set (links included) from sample traffic of all six channels, decoded."""
    decoded = [change for message in generate(orders=orders, seed=seed)
               for change in decode(CHANNEL_FORMATS[message.channel], message.value)]
    by_order: dict[str, list[OrderChange]] = defaultdict(list)
    for change in with_links(decoded)[0]:
        by_order[change.order_id].append(change)
    return {order_id: tuple(events) for order_id, events in sorted(by_order.items())}


def channels_covered() -> set[Channel]:
    return {event.channel for events in journeys().values() for event in events}


def plain(document: dict[str, Any]) -> dict[str, Any]:
    """A document as the engine returns it (JSON round trip), without its indexing time."""
    loaded = orjson.loads(orjson.dumps(document, default=str))
    loaded.pop("indexed_at", None)
    return loaded


def expected_documents(events: Iterable[OrderChange]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """What the store must hold for one order's event set: its document and its event documents."""
    events = list(events)
    described = entries(events)
    ids = sorted(entry.entry_id for entry in described)
    order = plain(order_document(state_of(merge_all(None, events)), NOW, event_entries=ids))
    return order, {entry.entry_id: plain(event_document(entry, NOW)) for entry in described}


class MemoryStore:
    """The order store port in memory: realtime mget, bulk with create / seq_no guards, JSON round trip."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self.seq = 0

    def mget(self, index: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        held = self.docs[index]
        return {doc_id: {"_id": doc_id, **held[doc_id]} for doc_id in ids if doc_id in held}

    def bulk(self, actions: Iterable[dict[str, Any]], **_: Any) -> Iterator[BulkItemResult]:
        for action in actions:
            yield self._apply(action)

    def _apply(self, action: dict[str, Any]) -> BulkItemResult:
        index, doc_id, op = action["_index"], action["_id"], action["_op_type"]
        held = self.docs[index].get(doc_id)
        refused = (op == "create" and held is not None) or (
            "if_seq_no" in action and (held is None or held["_seq_no"] != action["if_seq_no"]))
        if refused:
            return BulkItemResult(ok=False, op=op, index=index, doc_id=doc_id, status=409, error="conflict")
        self.seq += 1
        self.docs[index][doc_id] = {"_source": plain(action["_source"]), "_seq_no": self.seq, "_primary_term": 1}
        return BulkItemResult(ok=True, op=op, index=index, doc_id=doc_id, status=201, error=None)

    def orders(self) -> dict[str, dict[str, Any]]:
        return {doc_id: doc["_source"] for doc_id, doc in self.docs[NAMES.orders_write].items()}

    def events_of(self, order_id: str) -> dict[str, dict[str, Any]]:
        return {doc_id: doc["_source"] for doc_id, doc in self.docs[NAMES.events_write].items()
                if doc["_source"]["order_id"] == order_id}
