"""Sends write plans to the engine (adapter side of the write path).

Guarantees:
- an order document is written only if the stored one is still the one it was
  merged from (seq_no/primary_term guard, or `create` for a new order); on a
  conflict the writer re-reads and re-merges just those orders, so a stale writer
  can never overwrite newer state, and concurrent writers converge;
- every event document (timeline entry) is written before the order document that
  lists it: a crash in between leaves the order update to be replayed, never an
  order that names an event document that does not exist;
- the events a change implies for other orders (links: `order_domain.timeline.
  with_links`) are planned with it; a rejection is reported under the source event;
- an order that received a late event has its event documents re-read (by id, in
  real time) so the planner can recompute its timeline in event-time order;
- only failed items are retried (429/5xx, with jittered backoff); items the engine
  rejects for good (4xx) are reported so their events go to the dead-letter topic;
- the writer remembers the orders it wrote (merge state + the guard the engine gave the
  write, bounded, least recently written forgotten first), so the orders of its own
  partitions are not read back and re-validated on every batch. A remembered version is
  used only as a guard: if anyone else wrote the order since (another worker after a
  rebalance, a rehydration, an erasure), the guard fails with a 409 and the order is
  read from the engine. A guard names a version within one concrete index, so the memory
  is dropped when the write alias moves to another index (a projection rebuild).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from adapters.search_engine import BulkItemResult
from index_templates import IndexNames
from ingest.planner import (
    OrderWrite,
    StoredEvent,
    StoredOrder,
    WritePlan,
    event_document,
    history_needed,
    order_document,
    plan_writes,
    stored_event,
    stored_order,
)
from ingest.ports import OrderStore
from order_domain.model import OrderChange
from order_domain.significance import TimelineEntry
from order_domain.timeline import with_links

_timeline_document = event_document  # the name the template tests know it by
# a poll batch (up to 2,000 records) goes as one request per family: every bulk request is a
# translog sync and a round trip, and the bulk helper still bounds a request by bytes
BULK_CHUNK = 5000
WRITE_STAGES = ("read back", "merge and timeline", "event documents", "order documents",
                "bulk (serialise, send, read answer)")


class TransientWriteFailure(RuntimeError):
    """The engine kept refusing for now (overload, unavailable): retry the batch later."""


@dataclass
class WriteOutcome:
    orders_written: int = 0
    timeline_written: int = 0
    noise: int = 0
    unchanged: int = 0
    conflicts_retried: int = 0
    rejected: dict[str, str] = field(default_factory=dict)  # event_id -> reason


def _utcnow() -> datetime:
    return datetime.now(UTC)


class OrderStoreWriter:
    def __init__(
        self, engine: OrderStore, names: IndexNames, *, max_rounds: int = 8,
        clock: Callable[[], datetime] = _utcnow, sleep: Callable[[float], None] = time.sleep,
        remember: int = 5_000,
    ) -> None:
        """`remember`: how many written orders to keep as guards (0 = read every order back); a
        merge state is a few KiB, and a poll batch touches a few hundred orders."""
        self.engine = engine
        self.names = names
        self.max_rounds = max_rounds
        self.clock = clock
        self.sleep = sleep
        self.remember = remember
        self._written: dict[str, tuple[str, StoredOrder]] = {}  # order id -> (concrete index, version)
        # process CPU seconds by stage of the write path, since start (the benchmark's split per event)
        self.cpu_by_stage: dict[str, float] = dict.fromkeys(WRITE_STAGES, 0.0)

    def write(self, changes: Sequence[OrderChange]) -> WriteOutcome:
        outcome = WriteOutcome()
        pending, source_of = with_links(changes)
        for attempt in range(self.max_rounds):
            began = time.process_time()
            stored = self._load({c.order_id for c in pending})
            history = self._history(history_needed(pending, stored))
            loaded = time.process_time()
            plan = plan_writes(pending, stored, history)
            self._spent("read back", began, loaded)
            self._spent("merge and timeline", loaded)
            if attempt == 0:
                outcome.noise, outcome.unchanged = len(plan.noise), len(plan.unchanged)
            retry_orders = self._send(plan, outcome)
            pending = [c for c in pending if c.order_id in retry_orders]
            if not pending:
                outcome.rejected = {source_of.get(event_id, event_id): reason
                                    for event_id, reason in outcome.rejected.items()}
                return outcome
            outcome.conflicts_retried += len(retry_orders)
            self.sleep(min(5.0, 0.05 * 2**attempt) * (0.5 + random.random()))
        raise TransientWriteFailure(f"{len(pending)} changes still unwritten after {self.max_rounds} rounds")

    def _load(self, order_ids: set[str]) -> dict[str, StoredOrder]:
        """Remembered versions for the orders this writer wrote last, the engine's for the others."""
        if self._written and any(order_id in self._written for order_id in order_ids):
            write_index = self.engine.aliases_of(self.names.orders_write)[-1]
            held = {order_id: self._written[order_id] for order_id in order_ids if order_id in self._written}
            if any(index != write_index for index, _ in held.values()):
                self._written.clear()  # the alias moved: guards of the old index mean nothing in the new one
                held = {}
        else:
            held = {}
        missing = sorted(order_ids - held.keys())
        found = self.engine.mget(self.names.orders_write, missing) if missing else {}
        return {order_id: version for order_id, (_, version) in held.items()} | {
            order_id: stored_order(hit) for order_id, hit in found.items()}

    def _spent(self, stage: str, began: float, ended: float | None = None) -> float:
        """Adds the CPU time since `began` to `stage`; returns the end (the next stage's start)."""
        ended = time.process_time() if ended is None else ended
        self.cpu_by_stage[stage] += ended - began
        return ended

    def _remember(self, write: OrderWrite, result: BulkItemResult) -> None:
        """Keeps the acknowledged version; forgets an order whose write failed (read it back next time)."""
        self._written.pop(write.order_id, None)
        if not result.ok or result.seq_no is None or result.primary_term is None or self.remember <= 0:
            return
        self._written[write.order_id] = (result.index, StoredOrder(
            None, result.seq_no, result.primary_term, write.event_entries, state=write.state))
        while len(self._written) > self.remember:
            del self._written[next(iter(self._written))]

    def _history(self, needed: dict[str, tuple[str, ...]]) -> dict[str, list[StoredEvent]]:
        """The listed event documents of orders that received a late event (mget: real time, unlike search)."""
        ids = sorted({entry_id for entry_ids in needed.values() for entry_id in entry_ids})
        history: dict[str, list[StoredEvent]] = {order_id: [] for order_id in needed}
        for hit in self.engine.mget(self.names.events_write, ids).values():
            event = stored_event(hit)
            history[event.change.order_id].append(event)
        return history

    def _send(self, plan: WritePlan, outcome: WriteOutcome) -> set[str]:
        """Returns the order ids to re-read and re-plan (conflicts and transient failures).

        Timeline entries go first; an order whose entry failed is not written this round
        (transient: re-planned; refused for good: its events are rejected).
        """
        now = self.clock()
        retry: set[str] = set()
        refused: dict[str, str] = {}
        self._send_events(plan.entries, now, outcome, retry=retry, refused=refused)
        writes = {w.order_id: w for w in plan.orders if w.order_id not in retry and w.order_id not in refused}
        began = time.process_time()
        actions = self._order_actions(list(writes.values()), now)
        began = self._spent("order documents", began)
        for result in self.engine.bulk(actions, chunk_size=BULK_CHUNK):
            self._classify(result, result.doc_id, retry, refused)
            self._remember(writes[result.doc_id], result)
            outcome.orders_written += result.ok
        self._spent("bulk (serialise, send, read answer)", began)
        for write in plan.orders:
            if write.order_id in refused:
                outcome.rejected.update({e: f"rejected_by_engine: {refused[write.order_id]}" for e in write.event_ids})
        return retry

    def _send_events(self, entries: list[TimelineEntry], now: datetime, outcome: WriteOutcome, *,
                     retry: set[str], refused: dict[str, str]) -> None:
        order_of_entry = {entry.entry_id: entry.order_id for entry in entries}
        began = time.process_time()
        actions = self._timeline_actions(entries, now)
        began = self._spent("event documents", began)
        for result in self.engine.bulk(actions, chunk_size=BULK_CHUNK):
            # by id, not position: the bulk helper yields items it retried after the others
            self._classify(result, order_of_entry[result.doc_id], retry, refused)
            outcome.timeline_written += result.ok
        self._spent("bulk (serialise, send, read answer)", began)

    @staticmethod
    def _classify(result: BulkItemResult, order_id: str, retry: set[str], refused: dict[str, str]) -> None:
        if result.ok:
            return
        if result.status == 409 or _transient(result):
            retry.add(order_id)
        else:
            refused.setdefault(order_id, result.error or f"status {result.status}")

    def _order_actions(self, writes: list[OrderWrite], now: datetime) -> list[dict[str, Any]]:
        actions = []
        for write in writes:
            action: dict[str, Any] = {
                "_index": self.names.orders_write, "_id": write.order_id,
                "_source": order_document(write.state, now, event_entries=write.event_entries),
            }
            if write.guard is None:
                action["_op_type"] = "create"
            else:
                action.update(_op_type="index", if_seq_no=write.guard[0], if_primary_term=write.guard[1])
            actions.append(action)
        return actions

    def _timeline_actions(self, entries: list[TimelineEntry], now: datetime) -> list[dict[str, Any]]:
        """The event goes into its document as the JSON text pydantic writes for it (pre-encoded: the
        engine adapter's encoder copies it as is), so no dict of it is built only to be serialised."""
        index = self.names.events_write
        return [{"_op_type": "index", "_index": index, "_id": entry.entry_id,
                 "_source": event_document(entry, now, event=orjson.Fragment(entry.event_json()))}
                for entry in entries]


def _transient(result: BulkItemResult) -> bool:
    return result.status == 429 or result.status >= 500 or result.status == 0
