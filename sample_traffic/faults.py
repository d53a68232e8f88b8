"""`inject_faults`: at-least-once delivery made visible — duplicates, local reordering, poison. Pure.

Deterministic from `seed`. Duplicates repeat the exact bytes (some right away,
some up to a few hundred messages later); a random pick from a buffer of
`reorder_window` messages reorders locally (also within one order: the merge is
order-free); poison messages are built so every channel adapter must reject
them, and each goes to the topic and key of the message it sits next to.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterable, Iterator

import orjson

from sample_traffic.messages import FaultyMessage, TrafficMessage
from ingest.topics import CHANNEL_FORMATS

_HOSTILE = (b'<?xml version="1.0"?>\n<!DOCTYPE POSLog [\n  <!ENTITY secret SYSTEM "file:///etc/passwd">\n]>\n'
            b'<POSLog xmlns="http://www.nrf-arts.org/IXRetail/namespace/">\n'
            b"  <Transaction><OperatorID>&secret;</OperatorID></Transaction>\n</POSLog>\n")
_POS = ('<?xml version="1.0" encoding="UTF-8"?>\n<POSLog xmlns="http://www.nrf-arts.org/IXRetail/namespace/">'
        "<Transaction>{store}<WorkstationID>01</WorkstationID><SequenceNumber>{n}</SequenceNumber>"
        "<BusinessDayDate>2026-02-01</BusinessDayDate><EndDateTime>{end}</EndDateTime><RetailTransaction>"
        "<LineItem><SequenceNumber>1</SequenceNumber><Sale><ItemID>MUG-001</ItemID>"
        "<Quantity>{qty}</Quantity></Sale></LineItem></RetailTransaction></Transaction></POSLog>")


def inject_faults(messages: Iterable[TrafficMessage], *, seed: int, duplicate_rate: float = 0.1,
                  reorder_window: int = 8, poison_rate: float = 0.02) -> Iterator[FaultyMessage]:
    """Every input message exactly once (plus duplicates), locally shuffled, with poison mixed in."""
    for name, rate in (("duplicate_rate", duplicate_rate), ("poison_rate", poison_rate)):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"{name} must be within [0, 1], got {rate}")
    if reorder_window < 1:
        raise ValueError(f"reorder_window must be >= 1, got {reorder_window}")
    return _inject(iter(messages), random.Random(f"faults:{seed}"), duplicate_rate, reorder_window, poison_rate)


def _inject(messages: Iterator[TrafficMessage], rng: random.Random, duplicate_rate: float, window: int,
            poison_rate: float) -> Iterator[FaultyMessage]:
    buffer: list[FaultyMessage] = []
    delayed: list[tuple[int, int, FaultyMessage]] = []  # (due after n emitted, serial, duplicate)
    emitted = serial = 0
    for message in messages:
        if rng.random() < poison_rate:
            buffer.append(poison(rng, message))
        good = FaultyMessage(message, None)
        buffer.append(good)
        if rng.random() < duplicate_rate:
            serial += 1
            heapq.heappush(delayed, (emitted + (0 if rng.random() < 0.5 else rng.randrange(1, 300)), serial, good))
        while len(buffer) >= window:
            yield _take(rng, buffer)
            emitted += 1
            while delayed and delayed[0][0] <= emitted:
                buffer.append(heapq.heappop(delayed)[2])
    buffer.extend(entry[2] for entry in sorted(delayed))
    while buffer:
        yield _take(rng, buffer)


def _take(rng: random.Random, buffer: list[FaultyMessage]) -> FaultyMessage:
    """Remove a random buffered message in O(1)."""
    index = rng.randrange(len(buffer))
    buffer[index], buffer[-1] = buffer[-1], buffer[index]
    return buffer.pop()


def poison(rng: random.Random, near: TrafficMessage) -> FaultyMessage:
    """A bad message for `near`'s topic and key; the reason says what is wrong with it."""
    fmt = CHANNEL_FORMATS[near.channel]
    kinds = _BUILDERS[fmt]
    reason, build = kinds[rng.randrange(len(kinds))]
    value = build(rng, near)
    return FaultyMessage(TrafficMessage(near.channel, near.key, value, "poison"), reason)


def _truncated(rng: random.Random, near: TrafficMessage) -> bytes:
    """Cut before the end, so the root object / element is never closed."""
    cut = rng.randrange(1, max(2, len(near.value) - 12))
    return near.value[:cut]


def _stamp(rng: random.Random, *, naive: bool = False) -> str:
    moment = f"2026-02-{rng.randrange(1, 28):02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00"
    return moment if naive else moment + "Z"


def _shopify(topic: str, *, drop_id: bool = False, qty: object = 1, naive: bool = False) -> Callable:
    def build(rng: random.Random, near: TrafficMessage) -> bytes:
        body = {"id": rng.randrange(10**9, 10**10), "updated_at": _stamp(rng, naive=naive),
                "line_items": [{"id": rng.randrange(10**9), "sku": "MUG-001", "quantity": qty, "price": "20.00"}]}
        if drop_id:
            del body["id"]
        return orjson.dumps({"topic": topic, "webhook_id": f"poison-{rng.getrandbits(64):x}", "payload": body})
    return build


def _amazon(operation: str, *, drop_id: bool = False, qty: object = 1, naive: bool = False) -> Callable:
    def build(rng: random.Random, near: TrafficMessage) -> bytes:
        body: dict[str, object] = {"AmazonOrderId": f"111-{rng.randrange(10**7):07d}-0000000",
                                   "LastUpdateDate": _stamp(rng, naive=naive), "OrderStatus": "Unshipped",
                                   "OrderItems": [{"OrderItemId": "1", "QuantityOrdered": qty}]}
        if drop_id:
            del body["AmazonOrderId"]
        return orjson.dumps({"operation": operation, "payload": body})
    return build


def _canonical(*, drop: str | None = None, qty: object = 1, naive: bool = False) -> Callable:
    def build(rng: random.Random, near: TrafficMessage) -> bytes:
        body = {"event_id": f"poison-{rng.getrandbits(64):x}", "order_id": near.key.decode(), "channel": "app",
                "source": "mobile-app", "kind": "updated", "occurred_at": _stamp(rng, naive=naive),
                "lines": [{"line_id": "1", "quantity": qty}]}
        body.pop(drop or "", None)
        return orjson.dumps(body)
    return build


def _poslog(*, store: bool = True, qty: str = "1", naive: bool = False) -> Callable:
    def build(rng: random.Random, near: TrafficMessage) -> bytes:
        sid = "<RetailStoreID>store-001</RetailStoreID>" if store else ""
        end = _stamp(rng, naive=naive)
        return _POS.format(store=sid, n=rng.randrange(10**6), end=end, qty=qty).encode()
    return build


_BUILDERS: dict[str, list[tuple[str, Callable[[random.Random, TrafficMessage], bytes]]]] = {
    "shopify": [("malformed JSON (truncated)", _truncated),
                ("wrong type: quantity 'abc'", _shopify("orders/updated", qty="abc")),
                ("missing required field: payload.id", _shopify("orders/updated", drop_id=True)),
                ("timestamp without timezone", _shopify("orders/updated", naive=True)),
                ("unknown Shopify topic", _shopify("checkouts/create"))],
    "amazon_sp": [("malformed JSON (truncated)", _truncated),
                  ("wrong type: QuantityOrdered 'abc'", _amazon("getOrderItems", qty="abc")),
                  ("missing required field: AmazonOrderId", _amazon("getOrder", drop_id=True)),
                  ("timestamp without timezone", _amazon("getOrder", naive=True)),
                  ("unknown SP-API operation", _amazon("getOrderBuyerInfo"))],
    "poslog": [("truncated XML", _truncated),
               ("wrong type: Quantity 'abc'", _poslog(qty="abc")),
               ("missing required field: RetailStoreID", _poslog(store=False)),
               ("timestamp without timezone", _poslog(naive=True)),
               ("hostile XML: external entity", lambda rng, near: _HOSTILE)],
    "canonical": [("malformed JSON (truncated)", _truncated),
                  ("wrong type: quantity 'abc'", _canonical(qty="abc")),
                  ("missing required field: event_id", _canonical(drop="event_id")),
                  ("timestamp without timezone", _canonical(naive=True))],
}
