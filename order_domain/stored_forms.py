"""The stored form of an order and of its events: what the write path indexes and what the
cold tier recomputes from the events. Pure (standard library only, beside the domain).

One definition for both sides, so an order read back from cold is exactly the document the
write path would have stored for the same events.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from order_domain.merge import State, document_of
from order_domain.search_projection import order_facts, search_fields
from order_domain.significance import TimelineEntry

EVENT_LOG = "event_entries"


def order_document(state: State, indexed_at: datetime, *, event_entries: Sequence[str] = ()) -> dict[str, Any]:
    """What is stored: the order, when it was indexed (freshness), the search projection and its event ids."""
    document = document_of(state)
    return {**document, "indexed_at": instant_text(indexed_at), "search": search_fields(document),
            "facts": order_facts(document), EVENT_LOG: list(event_entries)}


def event_document(entry: TimelineEntry, indexed_at: datetime, *, event: Any = None) -> dict[str, Any]:
    """What is stored for one event: its entry (shown when `significant`) and the event itself.

    `event`: the event in another form that encodes to the same JSON (the writer passes the text
    pydantic wrote, `TimelineEntry.event_json`, so the event is serialised once); by default its
    plain values (`TimelineEntry.event`).
    """
    return {**entry_fields(entry, indexed_at), "event": entry.event if event is None else event}


def entry_fields(entry: TimelineEntry, indexed_at: datetime) -> dict[str, Any]:
    """The event document without the event: what the entry says."""
    return {
        "entry_id": entry.entry_id, "order_id": entry.order_id, "event_id": entry.event_id,
        "occurred_at": instant_text(entry.occurred_at), "indexed_at": instant_text(indexed_at),
        "source_version": entry.source_version, "channel": entry.channel, "source": entry.source,
        "kind": entry.kind, "actor": entry.actor, "categories": list(entry.categories),
        "significant": entry.significant, "status_before": entry.status_before, "status_after": entry.status_after,
        "store_id": entry.store_id, "changes": entry.changes,
    }


def instant_text(at: datetime) -> str:
    """`at.isoformat()`. A batch stamps every document it writes with one `indexed_at`, and formatting
    an aware instant costs more than the rest of an event document's fields: UTC instants are
    formatted once each (equal UTC instants have equal text; other zones are formatted every time,
    as an equal instant in another zone has another text)."""
    return _utc_text(at) if at.tzinfo is UTC else at.isoformat()


@lru_cache(maxsize=256)
def _utc_text(at: datetime) -> str:
    return at.isoformat()
