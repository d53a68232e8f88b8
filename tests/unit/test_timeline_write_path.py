"""The write path stores the event-time timeline whatever the arrival order (writer + planner, in memory).

Journeys of every channel are decoded, shuffled, duplicated and cut into batches
of random size, then written through `OrderStoreWriter` into an in-memory store
with the engine's guards. The stored order documents and event documents must be
exactly what the pure functions give for each order's event set.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.writer import OrderStoreWriter
from order_domain.model import ChangeKind, OrderChange, OrderStatus
from order_domain.significance import timeline_entry_id
from order_domain.timeline import with_links
from tests.unit.test_planner_and_significance import CREATED, change
from tests.unit.timeline_kit import NAMES, NOW, MemoryStore, examples, expected_documents, journeys


def _write(store: MemoryStore, batches: list[list[OrderChange]]) -> None:
    writer = OrderStoreWriter(store, NAMES, clock=lambda: NOW, sleep=lambda _: None)  # type: ignore[arg-type]
    for batch in batches:
        outcome = writer.write(batch)
        assert outcome.rejected == {}


def _assert_store_holds_the_event_time_timeline(store: MemoryStore, sent: list[OrderChange]) -> None:
    by_order: dict[str, list[OrderChange]] = defaultdict(list)
    for event in with_links(sent)[0]:
        by_order[event.order_id].append(event)
    assert set(store.orders()) == set(by_order)
    for order_id, events in by_order.items():
        order, event_docs = expected_documents(events)
        assert store.orders()[order_id] == order
        assert store.events_of(order_id) == event_docs


@st.composite
def deliveries(draw: st.DrawFn, events: list[OrderChange]) -> list[list[OrderChange]]:
    """The events shuffled, some delivered twice, cut into batches of random size."""
    sent = draw(st.permutations(events + draw(st.lists(st.sampled_from(events), max_size=len(events)))))
    cuts = sorted(draw(st.lists(st.integers(0, len(sent)), max_size=6)))
    bounds = [0, *cuts, len(sent)]
    return [sent[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


ORDER_GROUPS = st.lists(st.sampled_from(sorted(journeys())), min_size=1, max_size=4, unique=True)


@settings(max_examples=examples(500))
@given(order_ids=ORDER_GROUPS, data=st.data())
def test_any_arrival_order_and_batching_store_the_same_timeline(order_ids: list[str], data: st.DataObject) -> None:
    events = [event for order_id in order_ids for event in journeys()[order_id]
              if event.kind is not ChangeKind.LINKED]  # the write path derives those itself
    store = MemoryStore()
    _write(store, data.draw(deliveries(events)))
    _assert_store_holds_the_event_time_timeline(store, events)


def test_a_late_earlier_event_rewrites_the_later_entries_and_drops_what_it_made_insignificant() -> None:
    confirmed_again = change("e3", 20, status=OrderStatus.CONFIRMED)  # first: it creates the order
    store = MemoryStore()
    _write(store, [[confirmed_again], [CREATED]])
    entries = store.events_of("web-1")
    later = entries[timeline_entry_id("web-1", "e3")]
    assert (later["significant"], later["status_before"], later["categories"]) == (False, "confirmed", [])
    first = entries[timeline_entry_id("web-1", "e1")]
    assert (first["significant"], first["status_before"], "order_created" in first["categories"]) == (True, None, True)
    _assert_store_holds_the_event_time_timeline(store, [confirmed_again, CREATED])


def test_a_replay_writes_nothing() -> None:
    store = MemoryStore()
    _write(store, [[CREATED, change("e2", 5, status=OrderStatus.SHIPPED)]])
    before = store.seq
    writer = OrderStoreWriter(store, NAMES, clock=lambda: NOW + timedelta(hours=1))  # type: ignore[arg-type]
    outcome = writer.write([CREATED, change("e2", 5, status=OrderStatus.SHIPPED)])
    assert (store.seq, outcome.unchanged, outcome.orders_written) == (before, 2, 0)


def test_a_replacement_order_puts_a_link_entry_on_the_original() -> None:
    replacement = CREATED.model_copy(update={"order_id": "cc-2", "event_id": "r1", "original_order_id": "web-1",
                                             "occurred_at": CREATED.occurred_at + timedelta(days=2)})
    store = MemoryStore()
    _write(store, [[replacement], [CREATED]])  # the replacement arrives first
    original = [e for e in store.events_of("web-1").values() if e["kind"] == "linked"]
    assert [(e["categories"], e["changes"]["linked_orders"]) for e in original] == [
        (["exchange_link"], [{"order_id": "cc-2", "relation": "replaced_by", "return_id": None}])]
    assert store.orders()["web-1"]["linked_orders"] == [{"order_id": "cc-2", "relation": "replaced_by"}]
    assert store.orders()["web-1"]["channel"] == "web"  # a link never claims the order's origin
    _assert_store_holds_the_event_time_timeline(store, [replacement, CREATED])
