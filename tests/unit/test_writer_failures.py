"""The writer never writes an order whose timeline entry failed, and never drops that entry silently."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from adapters.search_engine import BulkItemResult
from index_templates import IndexNames
from ingest.planner import plan_writes
from ingest.writer import OrderStoreWriter, WriteOutcome
from tests.unit.test_planner_and_significance import CREATED


class TimelineRefusingEngine:
    """Answers the timeline bulk with `status` for every item; records order writes."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.order_writes: list[str] = []

    def mget(self, index: str, ids: list[str]) -> dict[str, Any]:
        return {}

    def bulk(self, actions: Iterable[dict[str, Any]]) -> Iterator[BulkItemResult]:
        for action in actions:
            if "order-events" in action["_index"]:
                yield BulkItemResult(ok=False, op="index", index=action["_index"], doc_id=action["_id"],
                                     status=self.status, error="refused")
            else:
                self.order_writes.append(action["_id"])
                yield BulkItemResult(ok=True, op="create", index=action["_index"], doc_id=action["_id"],
                                     status=201, error=None)


def test_a_transient_timeline_failure_re_plans_the_order_instead_of_dropping_the_entry() -> None:
    engine = TimelineRefusingEngine(status=429)
    writer = OrderStoreWriter(engine, IndexNames("t"), sleep=lambda _: None)  # type: ignore[arg-type]
    outcome = WriteOutcome()
    retry = writer._send(plan_writes([CREATED], {}), outcome)
    assert retry == {"web-1"} and engine.order_writes == [] and outcome.timeline_written == 0


def test_a_refused_timeline_entry_rejects_the_orders_events_without_writing_it() -> None:
    engine = TimelineRefusingEngine(status=400)
    writer = OrderStoreWriter(engine, IndexNames("t"))  # type: ignore[arg-type]
    outcome = writer.write([CREATED])
    assert engine.order_writes == [] and outcome.rejected == {"e1": "rejected_by_engine: refused"}



class RetriedLastEngine:
    """Like the bulk helper after a 429: the item it retried (and still failed) comes last."""

    def __init__(self, failing_order: str) -> None:
        self.failing_order = failing_order
        self.order_writes: list[str] = []

    def mget(self, index: str, ids: list[str]) -> dict[str, Any]:
        return {}

    def bulk(self, actions: Iterable[dict[str, Any]]) -> Iterator[BulkItemResult]:
        actions = list(actions)
        failing = [a for a in actions if a["_source"].get("order_id") == self.failing_order
                   and "order-events" in a["_index"]]
        for action in [a for a in actions if a not in failing] + failing:
            ok = action not in failing
            if ok and "order-events" not in action["_index"]:
                self.order_writes.append(action["_id"])
            yield BulkItemResult(ok=ok, op="index", index=action["_index"], doc_id=action["_id"],
                                 status=201 if ok else 429, error=None if ok else "too many requests")


def test_timeline_results_are_matched_by_id_when_the_helper_reorders_them() -> None:
    first = CREATED.model_copy(update={"order_id": "web-0", "event_id": "e0"})
    engine = RetriedLastEngine(failing_order="web-0")
    writer = OrderStoreWriter(engine, IndexNames("t"))  # type: ignore[arg-type]
    outcome = WriteOutcome()
    retry = writer._send(plan_writes([first, CREATED], {}), outcome)
    assert retry == {"web-0"} and engine.order_writes == ["web-1"] and outcome.timeline_written == 1


def test_a_bulk_item_the_engine_never_answered_is_status_0_not_a_crash() -> None:
    from adapters.search_engine import _bulk_item

    result = _bulk_item(False, {"index": {"_index": "o", "_id": "1", "status": "N/A",
                                          "error": "ConnectionError(Connection refused)"}})
    assert (result.ok, result.status, result.doc_id) == (False, 0, "1")
