"""Copies of orders in each tier: read them, write them, delete them (adapter side of moves).

An order's copy is its current document plus its timeline entries. Hot and warm hold
them as engine documents (the same ids in every tier); cold holds one Parquet row per
order (`retention.cold_codec`: the order's typed events, from which the document without
the derived `search`/`facts` and the timeline are recomputed; `search`/`facts` are
recomputed when it leaves cold). A warm order document is stored without its merge stamps
when its timeline's events give them back exactly (`cold_codec.lean_warm`/`full_warm`:
recomputed when the copy is read, so it leaves warm as it came; the copy keeps what was
recomputed, so a move on to cold does not recompute it again). Writes are idempotent (index by id), so a resumed
move may write a copy again. Nothing here decides anything: `retention.mover` does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from adapters.cold_rows import ColdRow
from adapters.cold_store import ColdStore, PartWritten
from adapters.search_engine import SearchEngine
from order_domain.search_projection import order_facts, search_fields
from retention.cold_codec import DERIVED_FIELDS, full_warm_derived, lean_warm
from order_domain.tier_policy import Tier
from retention.storage import TierNames, ensure_warm_index, set_write_block, writable


@dataclass(frozen=True)
class OrderCopy:
    order_id: str
    document: dict[str, Any]
    timeline: list[dict[str, Any]]
    seq: tuple[int, int] | None = None  # hot copies: the version it was read at (guards the delete)
    derivation: Any = field(default=None, compare=False)  # warm copies: what reading them recomputed


class CopyMissing(RuntimeError):
    pass


def with_derived(document: Mapping[str, Any]) -> dict[str, Any]:
    core = {k: v for k, v in document.items() if k not in DERIVED_FIELDS}
    return {**core, "search": search_fields(core), "facts": order_facts(core)}


def cold_row(copy: OrderCopy) -> ColdRow:
    keys = copy.document.get("identity_keys") or [""]
    return ColdRow(order_id=copy.order_id, customer_key=keys[0], placed_at=copy.document.get("placed_at"),
                   document={k: v for k, v in copy.document.items() if k not in DERIVED_FIELDS},
                   timeline=copy.timeline, derivation=copy.derivation)


class TierCopies:
    def __init__(self, engine: SearchEngine, names: TierNames, cold: ColdStore) -> None:
        self.engine = engine
        self.names = names
        self.cold = cold
        self._held: set[str] | None = None

    @contextmanager
    def holding_writable(self) -> Iterator[set[str]]:
        """For a whole pass: a warm index's write block is lifted at its first write or delete
        and stays lifted until the pass seals it (`Mover.finish`), instead of being lifted and
        restored around every batch (four cluster-state changes per batch). Yields the indices
        held open; on an error their blocks are restored (a kill leaves them to the next
        pass's seal, as before). Writes still refresh before they return, so a flip never
        names a copy searches cannot see."""
        self._held = set()
        try:
            yield self._held
        except BaseException:
            for index in self._held:
                with suppress(Exception):
                    set_write_block(self.engine, index, True)
            raise
        finally:
            self._held = None

    @contextmanager
    def _writable(self, index: str) -> Iterator[None]:
        if self._held is None:
            with writable(self.engine, index):
                yield
            return
        if index not in self._held:
            set_write_block(self.engine, index, False)
            self._held.add(index)
        yield

    def events_index(self, tier: Tier, location: str) -> str:
        if tier is Tier.HOT:
            return self.names.hot.events
        return location.replace("-orders-warm-", "-order-events-warm-", 1)

    def read(self, tier: Tier, location: str, row_groups: Mapping[str, int | None]) -> dict[str, OrderCopy]:
        """Copies of the given orders from one location (cold: row group per order)."""
        if tier is Tier.COLD:
            by_group: dict[int, list[str]] = defaultdict(list)
            for order_id, group in row_groups.items():
                by_group[int(group or 0)].append(order_id)
            rows = {k: v for group, ids in by_group.items() for k, v in self.cold.read(location, group, ids).items()}
            return {i: OrderCopy(i, r.document, r.timeline) for i, r in rows.items()}
        found = self.engine.mget(location, list(row_groups))
        timelines = self.timelines(self.events_index(tier, location), list(found))
        copies = {}
        for order_id, hit in found.items():
            timeline = timelines.get(order_id, [])
            document, derivation = full_warm_derived(hit["_source"], timeline)
            copies[order_id] = OrderCopy(order_id, document, timeline, (int(hit["_seq_no"]), int(hit["_primary_term"])),
                                         derivation)
        return copies

    def timelines(self, index: str, order_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        if not order_ids:
            return out
        after: list[Any] | None = None
        while True:
            body: dict[str, Any] = {"size": 5000, "query": {"terms": {"order_id": order_ids}},
                                    "sort": [{"entry_id": "asc"}]}
            if after is not None:
                body["search_after"] = after
            hits = self.engine.search(index, body)["hits"]["hits"]
            for hit in hits:
                out[hit["_source"]["order_id"]].append(hit["_source"])
            if len(hits) < 5000:
                return out
            after = hits[-1]["sort"]

    def write_engine(self, tier: Tier, location: str, copies: Iterable[OrderCopy]) -> None:
        """Index copies into hot (the write aliases) or a warm month (lifting its write block)."""
        copies = list(copies)
        orders_index = self.names.hot.orders_write if tier is Tier.HOT else location
        events_index = self.names.hot.events_write if tier is Tier.HOT else self.events_index(tier, location)
        actions = [{"_op_type": "index", "_index": events_index, "_id": e["entry_id"], "_source": e}
                   for c in copies for e in c.timeline]
        actions += [{"_op_type": "index", "_index": orders_index, "_id": c.order_id, "_source": with_derived(
                     c.document) if tier is Tier.HOT else lean_warm(with_derived(c.document), c.timeline)}
                    for c in copies]
        if tier is Tier.HOT:
            self._bulk(actions)
            return
        for index in (orders_index, events_index):
            ensure_warm_index(self.engine, index)
        with self._writable(orders_index), self._writable(events_index):
            self._bulk(actions)

    def write_cold(self, path: str, copies: Iterable[OrderCopy]) -> PartWritten | None:
        return self.cold.write_part_at(path, (cold_row(c) for c in copies))

    def delete_engine(self, tier: Tier, location: str, order_ids: list[str],
                      guards: Mapping[str, tuple[int, int]] | None = None, *,
                      timelines: Mapping[str, list[str]] | None = None) -> set[str]:
        """Delete copies (and their timelines: by entry id when `timelines` lists them, the ids
        of the copies just moved; else by query); returns the ids whose delete was refused by a
        guard (the copy changed since it was read: the caller reverts that move)."""
        if not order_ids:
            return set()
        if tier is Tier.HOT:
            return self._delete(self.names.hot.orders_write, self.names.hot.events_write, order_ids, guards or {},
                                timelines)
        events = self.events_index(tier, location)
        if not (self.engine.index_exists(location) and self.engine.index_exists(events)):
            return set()  # a move killed between creating its month's two indices wrote nothing there
        with self._writable(location), self._writable(events):
            return self._delete(location, events, order_ids, {}, timelines)

    def _delete(self, orders: str, events: str, order_ids: list[str], guards: Mapping[str, tuple[int, int]],
                timelines: Mapping[str, list[str]] | None) -> set[str]:
        actions = []
        for order_id in order_ids:
            action: dict[str, Any] = {"_op_type": "delete", "_index": orders, "_id": order_id}
            if order_id in guards:
                action.update(if_seq_no=guards[order_id][0], if_primary_term=guards[order_id][1])
            actions.append(action)
        refused = {r.doc_id for r in self.engine.bulk(actions, refresh=True) if r.status == 409}
        gone = [i for i in order_ids if i not in refused]
        if gone and timelines is not None and all(i in timelines for i in gone):
            deletes = [{"_op_type": "delete", "_index": events, "_id": e} for i in gone for e in timelines[i]]
            failed = [r for r in self.engine.bulk(deletes, refresh=True) if not r.ok and r.status != 404]
            if failed:
                raise CopyMissing(f"{len(failed)} timeline entries not deleted, first: {failed[0].error}")
        elif gone:
            self.engine.request("POST", f"/{events}/_delete_by_query",
                                params={"refresh": "true", "conflicts": "proceed"},
                                body={"query": {"terms": {"order_id": gone}}})
        return refused

    def _bulk(self, actions: list[dict[str, Any]]) -> None:
        failed = [r for r in self.engine.bulk(actions, refresh=True) if not r.ok]
        if failed:
            raise CopyMissing(f"{len(failed)} copies not written, first: {failed[0].error}")
