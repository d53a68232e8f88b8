"""The same events in two arrival orders give identical timeline documents in the real engine.

One copy of the sample traffic is published in time order, another backwards in
two rounds — the later half first and consumed, then the earlier half with
duplicates — so many events arrive after later events of their order were
stored and the write path must re-read and recompute those timelines. Each copy
has its own isolated prefix. After the
real worker has consumed both, every event document and every order document
is identical, and equal to what the pure functions give for each order's event set.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.search_engine import SearchEngine
from ingest.decoders import decode
from ingest.topics import CHANNEL_FORMATS
from order_domain.model import OrderChange
from order_domain.timeline import as_of, with_links
from orderrepo.bootstrap import build_worker, index_names, prepare_storage
from sample_traffic import TrafficMessage, generate
from settings import Settings
from tests.integration.pipeline_harness import isolated_settings, publish, remove_everything
from tests.unit.timeline_kit import expected_documents, plain


@pytest.fixture
def reversed_copy(settings: Settings, engine: SearchEngine, unique_name: str) -> Iterator[Settings]:
    scoped = isolated_settings(settings, f"{unique_name}r")
    prepare_storage(scoped, engine)
    yield scoped
    remove_everything(scoped, engine)


def _documents(settings: Settings, engine: SearchEngine, alias: str) -> dict[str, dict[str, Any]]:
    engine.refresh(alias)
    hits = engine.search(alias, {"size": 10_000, "query": {"match_all": {}}})["hits"]["hits"]
    return {hit["_id"]: plain(hit["_source"]) for hit in hits}


def _ingest(settings: Settings, engine: SearchEngine, messages: list[TrafficMessage]) -> None:
    publish(settings, messages)
    build_worker(settings, engine).run(idle_exit_s=4.0)


def _event_sets(messages: list[TrafficMessage]) -> dict[str, list[OrderChange]]:
    decoded = [change for message in messages for change in decode(CHANNEL_FORMATS[message.channel], message.value)]
    by_order: dict[str, list[OrderChange]] = defaultdict(list)
    for change in with_links(decoded)[0]:
        by_order[change.order_id].append(change)
    return by_order


def test_two_arrival_orders_store_identical_timelines(
    isolated: Settings, reversed_copy: Settings, engine: SearchEngine
) -> None:
    clean = list(generate(orders=60, seed=21))
    early, late = clean[: len(clean) // 2], clean[len(clean) // 2:]
    assert {m.key for m in early} & {m.key for m in late}, "some orders must have events in both rounds"
    _ingest(isolated, engine, clean)
    _ingest(reversed_copy, engine, late[::-1])
    _ingest(reversed_copy, engine, early[::-1] + clean[::7])

    stores = []
    for scoped in (isolated, reversed_copy):
        names = index_names(scoped)
        stores.append((_documents(scoped, engine, names.orders), _documents(scoped, engine, names.events)))
    (orders, events), (orders_reversed, events_reversed) = stores
    assert events_reversed == events and orders_reversed == orders

    sets = _event_sets(clean)
    assert set(orders) == set(sets)
    for order_id, order_events in sets.items():
        order, event_docs = expected_documents(order_events)
        assert orders[order_id] == order
        assert {k: v for k, v in events.items() if v["order_id"] == order_id} == event_docs
    assert sum(not doc["significant"] for doc in events.values()) < len(events)


def test_as_of_from_the_stored_event_documents_matches_the_event_set(
    isolated: Settings, engine: SearchEngine
) -> None:
    clean = list(generate(orders=25, seed=5))
    _ingest(isolated, engine, clean[len(clean) // 2:])
    _ingest(isolated, engine, clean[: len(clean) // 2][::-1])
    names = index_names(isolated)
    stored = _documents(isolated, engine, names.events)
    sets = _event_sets(clean)
    for order_id, order_events in sets.items():
        kept = [OrderChange.model_validate(doc["event"]) for doc in stored.values() if doc["order_id"] == order_id]
        for event in order_events:
            assert as_of(kept, event.occurred_at) == as_of(order_events, event.occurred_at)
