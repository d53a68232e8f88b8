"""The writer's memory of the orders it wrote: fewer reads, never a stale write.

On the in-memory order store (tests/fakes), whose guards behave like the engine's
(the contract suite checks that against the real engines).
"""

from __future__ import annotations

from typing import Any

from index_templates import IndexNames
from ingest.writer import OrderStoreWriter
from order_domain.model import OrderStatus
from tests.fakes.order_store import InMemoryOrderStore
from tests.unit.test_planner_and_significance import CREATED, change

NAMES = IndexNames("t")
SHIPPED = change("e2", 5, status=OrderStatus.SHIPPED)
DELIVERED = change("e3", 9, status=OrderStatus.DELIVERED)


class CountingStore(InMemoryOrderStore):
    """Counts the order ids read back from the orders family, and can move the write alias."""

    def __init__(self) -> None:
        super().__init__()
        self.order_reads: list[str] = []
        self.write_index = NAMES.orders_write

    def mget(self, index: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        if index == NAMES.orders_write:
            self.order_reads += ids
        return super().mget(index, ids)

    def aliases_of(self, alias: str) -> list[str]:
        return [self.write_index]


def _no_sleep(_: float) -> None:
    return None


def test_an_order_this_writer_wrote_is_not_read_back_for_its_next_change() -> None:
    store = CountingStore()
    writer = OrderStoreWriter(store, NAMES, sleep=_no_sleep)
    writer.write([CREATED])
    writer.write([SHIPPED])
    assert store.order_reads == ["web-1"]  # only before the first write (absent then)
    stored = store.documents(NAMES.orders_write)["web-1"]
    assert stored["status"] == "shipped" and len(stored["event_entries"]) == 2


def test_a_version_written_by_someone_else_fails_the_guard_and_the_order_is_read_again() -> None:
    store = CountingStore()
    ours, theirs = (OrderStoreWriter(store, NAMES, sleep=_no_sleep) for _ in range(2))
    ours.write([CREATED])
    theirs.write([SHIPPED])  # another worker (after a rebalance) moved the order on
    outcome = ours.write([DELIVERED])
    assert outcome.conflicts_retried == 1 and outcome.orders_written == 1
    stored = store.documents(NAMES.orders_write)["web-1"]
    assert stored["status"] == "delivered" and len(stored["event_entries"]) == 3  # nothing of theirs lost


def test_the_memory_is_dropped_when_the_write_alias_moves_to_another_index() -> None:
    store = CountingStore()
    writer = OrderStoreWriter(store, NAMES, sleep=_no_sleep)
    writer.write([CREATED])
    store.write_index = "t-orders-v2"  # a projection rebuild moved the write alias
    writer.write([SHIPPED])
    assert store.order_reads == ["web-1", "web-1"]


def test_memory_is_bounded_and_can_be_switched_off() -> None:
    store = CountingStore()
    writer = OrderStoreWriter(store, NAMES, sleep=_no_sleep, remember=0)
    writer.write([CREATED])
    writer.write([SHIPPED])
    assert store.order_reads == ["web-1", "web-1"]
    other = CountingStore()
    bounded = OrderStoreWriter(other, NAMES, sleep=_no_sleep, remember=1)
    bounded.write([CREATED, CREATED.model_copy(update={"order_id": "web-2", "event_id": "x1"})])
    bounded.write([SHIPPED])  # web-1 was forgotten first: only web-2 is remembered
    assert other.order_reads == ["web-1", "web-2", "web-1"]


def test_the_setting_bounds_the_memory_of_the_writer_the_worker_gets(monkeypatch: Any, tmp_path: Any) -> None:
    from orderrepo.bootstrap import admitted_writer
    from settings import Settings

    monkeypatch.setenv("ORDERREPO_INGEST_REMEMBERED_ORDERS", "0")
    settings = Settings()
    settings = settings.model_copy(update={"tier": settings.tier.model_copy(update={"cold_path": str(tmp_path)})})
    assert settings.ingest_remembered_orders == 0
    assert Settings.model_fields["ingest_remembered_orders"].default == 5_000
    writer = admitted_writer(settings, CountingStore()).writer  # type: ignore[arg-type]  # the fake store
    assert isinstance(writer, OrderStoreWriter) and writer.remember == 0
