"""Reconciliation: does the read store agree with a channel's own export? Compare is pure.

An operator proves the store matches a system of record by handing over that
system's export: the channel's native messages (the same bytes it sends to its
Kafka topic), one per line of an NDJSON file. The export is decoded by the same
channel decoder and folded by the domain merge into the orders the store *should*
hold; the store's documents of that channel are then compared field by field on
what an operator cares about (status, line statuses and quantities, total, shipment
and return counts), and per placement day by count and by an order-independent
checksum, so drift shows as a list of orders and how each differs.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import orjson

from ingest.decoders import ChannelDecodeError, IgnoredPayload, decode
from order_domain.merge import merge_all
from order_domain.model import ChangeKind, Order

COMPARED_FIELDS = ("status", "lines", "total", "shipments", "returns")


@dataclass(frozen=True)
class Fingerprint:
    """What must agree between the export and the store for one order."""

    order_id: str
    day: str
    status: str
    lines: tuple[tuple[str, str, int], ...]
    total: str
    shipments: int
    returns: int

    def digest(self) -> int:
        text = "|".join((self.order_id, self.status, repr(self.lines), self.total,
                         str(self.shipments), str(self.returns)))
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


@dataclass(frozen=True)
class OrderDrift:
    order_id: str
    kind: str  # missing | extra | differs
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field -> (export, store)


@dataclass(frozen=True)
class DayTally:
    day: str
    export_count: int
    store_count: int
    export_checksum: str
    store_checksum: str

    @property
    def agrees(self) -> bool:
        return self.export_count == self.store_count and self.export_checksum == self.store_checksum


@dataclass(frozen=True)
class DriftReport:
    channel: str
    messages: int
    undecodable: int
    days: list[DayTally]
    drift: list[OrderDrift]

    @property
    def clean(self) -> bool:
        return not self.drift and all(day.agrees for day in self.days)

    def as_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel, "messages": self.messages, "undecodable": self.undecodable,
            "clean": self.clean,
            "days": [{**day.__dict__, "agrees": day.agrees} for day in self.days],
            "drift": [{"order_id": d.order_id, "kind": d.kind,
                       "fields": {name: {"export": pair[0], "store": pair[1]} for name, pair in d.fields.items()}}
                      for d in self.drift],
        }


def read_export(path: Path) -> Iterator[bytes]:
    """Message values from an NDJSON export: a JSON object is a JSON message, a JSON
    string is a raw message (an XML POSLog document, for example)."""
    with path.open("rb") as lines:
        for line in lines:
            if not line.strip():
                continue
            parsed = orjson.loads(line)
            yield parsed.encode() if isinstance(parsed, str) else orjson.dumps(parsed)


def expected_orders(source: str, values: Iterable[bytes]) -> tuple[dict[str, Order], int, int]:
    """(orders the export implies, messages read, messages the decoder refused or ignored)."""
    changes_by_order: dict[str, list[Any]] = defaultdict(list)
    messages = refused = 0
    for value in values:
        messages += 1
        try:
            changes = decode(source, value)
        except (ChannelDecodeError, IgnoredPayload):
            refused += 1
            continue
        for change in changes:
            if change.kind is not ChangeKind.HEARTBEAT:
                changes_by_order[change.order_id].append(change)
    orders = {order_id: merged for order_id, changes in changes_by_order.items()
              if (merged := merge_all(None, changes)) is not None}
    return orders, messages, refused


def fingerprint_of_order(order: Order) -> Fingerprint:
    return fingerprint_of_document(orjson.loads(order.model_dump_json()))


def fingerprint_of_document(document: dict[str, Any]) -> Fingerprint:
    """From the stored (or exported) JSON form, so both sides are read the same way."""
    lines = tuple(sorted(
        (str(line.get("line_id")), str(line.get("status") or ""), int(line.get("quantity") or 0))
        for line in document.get("lines") or []
    ))
    total = (document.get("totals") or {}).get("total")
    return Fingerprint(
        order_id=str(document["order_id"]), day=str(document.get("placed_at") or "")[:10] or "unknown",
        status=str(document.get("status") or ""), lines=lines,
        total="" if total is None else str(Decimal(str(total)).normalize()),
        shipments=len(document.get("shipments") or []), returns=len(document.get("returns") or []),
    )


def compare(channel: str, expected: dict[str, Fingerprint], stored: dict[str, Fingerprint], *,
            messages: int = 0, undecodable: int = 0) -> DriftReport:
    drift = [OrderDrift(order_id, "missing") for order_id in sorted(expected.keys() - stored.keys())]
    drift += [OrderDrift(order_id, "extra") for order_id in sorted(stored.keys() - expected.keys())]
    for order_id in sorted(expected.keys() & stored.keys()):
        fields = _differing_fields(expected[order_id], stored[order_id])
        if fields:
            drift.append(OrderDrift(order_id, "differs", fields))
    return DriftReport(channel=channel, messages=messages, undecodable=undecodable,
                       days=_tally_days(expected, stored), drift=drift)


def _differing_fields(export: Fingerprint, store: Fingerprint) -> dict[str, tuple[Any, Any]]:
    return {name: (getattr(export, name), getattr(store, name)) for name in COMPARED_FIELDS
            if getattr(export, name) != getattr(store, name)}


def _tally_days(expected: dict[str, Fingerprint], stored: dict[str, Fingerprint]) -> list[DayTally]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # export n, store n, export xor, store xor
    for side, prints in ((0, expected), (1, stored)):
        for fingerprint in prints.values():
            tally = counts[fingerprint.day]
            tally[side] += 1
            tally[side + 2] ^= fingerprint.digest()
    return [DayTally(day=day, export_count=t[0], store_count=t[1], export_checksum=f"{t[2]:016x}",
                     store_checksum=f"{t[3]:016x}") for day, t in sorted(counts.items())]


class StoreReader(Protocol):
    """The two engine calls reconciliation needs (the sync engine adapter has both)."""

    def search(self, index: str, body: dict[str, Any], *, params: dict[str, Any] | None = None) -> dict[str, Any]: ...

    def mget(self, index: str, ids: list[str]) -> dict[str, dict[str, Any]]: ...


_PAGE = 1_000
_FINGERPRINT_SOURCE = ["order_id", "placed_at", "status", "lines", "totals", "shipments", "returns"]


def stored_fingerprints(store: StoreReader, *, orders_index: str, channel: str, expected_ids: Iterable[str],
                        days: Iterable[str]) -> dict[str, Fingerprint]:
    """The store's side: every expected order (by id, wherever it was placed) plus every
    order of this channel placed on the export's days (which finds the extras)."""
    found: dict[str, Fingerprint] = {}
    ids = sorted(expected_ids)
    for start in range(0, len(ids), _PAGE):
        for doc in store.mget(orders_index, ids[start:start + _PAGE]).values():
            found[doc["_id"]] = fingerprint_of_document(doc["_source"])
    known_days = sorted(day for day in days if day != "unknown")
    if known_days:
        for source in _channel_orders(store, orders_index, channel, known_days[0], known_days[-1]):
            found.setdefault(str(source["order_id"]), fingerprint_of_document(source))
    return found


def _channel_orders(store: StoreReader, index: str, channel: str, first_day: str, last_day: str
                    ) -> Iterator[dict[str, Any]]:
    query = {"bool": {"filter": [{"term": {"channel": channel}},
                                 {"range": {"placed_at": {"gte": first_day, "lte": f"{last_day}||/d"}}}]}}
    after: list[Any] | None = None
    while True:
        body: dict[str, Any] = {"size": _PAGE, "query": query, "sort": [{"order_id": "asc"}],
                                "_source": _FINGERPRINT_SOURCE}
        if after is not None:
            body["search_after"] = after
        hits = store.search(index, body)["hits"]["hits"]
        yield from (hit["_source"] for hit in hits)
        if len(hits) < _PAGE:
            return
        after = hits[-1]["sort"]


def reconcile(store: StoreReader, *, orders_index: str, channel: str, source: str, export: Path) -> DriftReport:
    """The whole check: read the export, build what the store should hold, compare."""
    orders, messages, refused = expected_orders(source, read_export(export))
    expected = {order_id: fingerprint_of_order(order) for order_id, order in orders.items()}
    stored = stored_fingerprints(store, orders_index=orders_index, channel=channel, expected_ids=expected,
                                 days={fingerprint.day for fingerprint in expected.values()})
    return compare(channel, expected, stored, messages=messages, undecodable=refused)
