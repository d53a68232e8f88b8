"""The writer never writes an order whose timeline entry failed, and never drops that entry silently.

All on the in-memory order store (tests/fakes), whose semantics the contract suite checks
against the real engines.
"""

from __future__ import annotations

from typing import Any

import pytest

from index_templates import IndexNames
from ingest.planner import plan_writes
from ingest.writer import OrderStoreWriter, TransientWriteFailure, WriteOutcome
from tests.fakes.order_store import InMemoryOrderStore
from tests.unit.test_planner_and_significance import CREATED

NAMES = IndexNames("t")


def _timeline_of(order_id: str | None = None) -> Any:
    """Matches timeline actions (of one order, if given)."""
    def where(action: dict[str, Any]) -> bool:
        return action["_index"] == NAMES.events_write and order_id in (None, action["_source"]["order_id"])

    return where


def _no_sleep(_: float) -> None:
    return None


def test_a_transient_timeline_failure_re_plans_the_order_instead_of_dropping_the_entry() -> None:
    store = InMemoryOrderStore()
    store.refuse(_timeline_of(), status=429, error_type="es_rejected_execution_exception", reason="queue full")
    writer = OrderStoreWriter(store, NAMES, sleep=_no_sleep)
    outcome = WriteOutcome()
    retry = writer._send(plan_writes([CREATED], {}), outcome)
    assert retry == {"web-1"} and store.documents(NAMES.orders_write) == {} and outcome.timeline_written == 0


def test_a_timeline_failure_that_never_clears_ends_in_a_transient_failure_with_nothing_written() -> None:
    store = InMemoryOrderStore()
    store.refuse(_timeline_of(), status=503, error_type="unavailable_shards_exception", reason="primary down")
    with pytest.raises(TransientWriteFailure, match="1 changes still unwritten after 3 rounds"):
        OrderStoreWriter(store, NAMES, max_rounds=3, sleep=_no_sleep).write([CREATED])
    assert store.documents(NAMES.orders_write) == {} and store.documents(NAMES.events_write) == {}


def test_a_refused_timeline_entry_rejects_the_orders_events_without_writing_it() -> None:
    store = InMemoryOrderStore()
    store.refuse(_timeline_of(), status=400, error_type="mapper_parsing_exception", reason="refused")
    outcome = OrderStoreWriter(store, NAMES, sleep=_no_sleep).write([CREATED])
    assert store.documents(NAMES.orders_write) == {}
    assert outcome.rejected == {"e1": "rejected_by_engine: mapper_parsing_exception: refused"}


def test_timeline_results_are_matched_by_id_when_the_helper_reorders_them() -> None:
    """The store yields a 429-refused item after the others, as the client's bulk helper does."""
    first = CREATED.model_copy(update={"order_id": "web-0", "event_id": "e0"})
    store = InMemoryOrderStore()
    store.refuse(_timeline_of("web-0"), status=429, error_type="es_rejected_execution_exception", reason="busy")
    writer = OrderStoreWriter(store, NAMES, sleep=_no_sleep)
    outcome = WriteOutcome()
    retry = writer._send(plan_writes([first, CREATED], {}), outcome)
    assert retry == {"web-0"} and list(store.documents(NAMES.orders_write)) == ["web-1"]
    assert outcome.timeline_written == 1


def test_a_passing_overload_is_retried_until_every_order_and_entry_is_stored() -> None:
    first = CREATED.model_copy(update={"order_id": "web-0", "event_id": "e0"})
    store = InMemoryOrderStore()
    store.refuse(_timeline_of("web-0"), status=429, error_type="es_rejected_execution_exception", reason="busy",
                 times=2)
    outcome = OrderStoreWriter(store, NAMES, sleep=_no_sleep).write([first, CREATED])
    assert (outcome.orders_written, outcome.timeline_written, outcome.conflicts_retried) == (2, 2, 2)
    assert sorted(store.documents(NAMES.orders_write)) == ["web-0", "web-1"]
    assert len(store.documents(NAMES.events_write)) == 2 and outcome.rejected == {}


def test_a_concurrent_writer_conflict_is_re_read_and_re_merged() -> None:
    """Another writer stores the order between our read and our write: 409, re-read, re-merge."""
    store = InMemoryOrderStore()
    writer = OrderStoreWriter(store, NAMES, sleep=_no_sleep)
    writer.write([CREATED])
    held = store.mget(NAMES.orders_write, ["web-1"])["web-1"]
    later = CREATED.model_copy(update={"event_id": "e9"})
    store.refuse(lambda action: action["_index"] == NAMES.orders_write, status=409,
                 error_type="version_conflict_engine_exception", reason="stale", times=1)
    outcome = writer.write([later])
    assert outcome.conflicts_retried == 1 and outcome.rejected == {}
    assert store.mget(NAMES.orders_write, ["web-1"])["web-1"]["_seq_no"] > held["_seq_no"]


def test_a_bulk_item_the_engine_never_answered_is_status_0_not_a_crash() -> None:
    """Found by the fault drill: the engine stopped mid-bulk and the client reported status "N/A"."""
    from adapters.engine.model import bulk_item_result

    result = bulk_item_result(False, {"index": {"_index": "o", "_id": "1", "status": "N/A",
                                                "error": "ConnectionError(Connection refused)"}})
    assert (result.ok, result.status, result.doc_id) == (False, 0, "1")
