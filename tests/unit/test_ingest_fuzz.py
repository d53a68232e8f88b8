"""Property-based fuzzing of every channel decoder *through the worker* (fake source, sink and store).

For any input — random bytes, truncated or mutated valid messages, wrong types, deep
nesting, several megabytes, odd encodings and XML namespaces — the worker never
raises, every record ends accepted, dead-lettered or ignored, and the counts add up
exactly (records = accepted + dead-lettered + ignored), with one bounded dead-letter
record per record not accepted and every accepted record's changes handed to the store.

Examples per decoder: ORDERREPO_FUZZ_EXAMPLES (default 40, a few seconds per decoder);
raise it for longer runs, e.g. ORDERREPO_FUZZ_EXAMPLES=2000.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.dead_letter import LetterBounds
from ingest.decoders import ChannelDecodeError, IgnoredPayload, decode
from ingest.topics import CHANNEL_FORMATS, TopicMap
from ingest.worker import IngestWorker
from tests.fakes.change_source import FakeChangeSource
from tests.fakes.change_writer import InMemoryWriter
from tests.fakes.dead_letter_sink import RecordingSink

EXAMPLES = int(os.environ.get("ORDERREPO_FUZZ_EXAMPLES", "40"))
TOPICS = TopicMap.build("fz")
TOPIC_OF = {fmt: TOPICS.by_channel[channel] for channel, fmt in reversed(CHANNEL_FORMATS.items())}
BOUNDS = LetterBounds(embed_max_bytes=256 * 1024, excerpt_bytes=512, record_max_bytes=1_000_000)
NS = "http://www.nrf-arts.org/IXRetail/namespace/"


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


SHOPIFY_ORDER = {
    "id": 820982911946154508, "name": "#9001", "email": "grace@example.com",
    "created_at": "2026-04-02T09:15:00-04:00", "updated_at": "2026-04-02T09:15:30-04:00",
    "currency": "USD", "financial_status": "paid", "total_price": "25.00", "subtotal_price": "25.00",
    "customer": {"id": 115310627314723954, "email": "grace@example.com", "first_name": "Grace"},
    "line_items": [{"id": 866550311766439020, "sku": "CAP-RED", "title": "Red cap", "quantity": 1,
                    "price": "25.00", "requires_shipping": True}],
}
AMAZON_ORDER = {
    "AmazonOrderId": "114-3941689-8772232", "PurchaseDate": "2026-04-01T12:00:00Z",
    "LastUpdateDate": "2026-04-01T12:05:00Z", "OrderStatus": "Unshipped", "FulfillmentChannel": "MFN",
    "OrderTotal": {"CurrencyCode": "USD", "Amount": "12.50"}, "MarketplaceId": "ATVPDKIKX0DER",
}
CANONICAL_ORDER = {
    "event_id": "b2b-7781-1", "order_id": "b2b-7781", "channel": "b2b", "source": "edi-gateway",
    "kind": "created", "occurred_at": "2026-04-03T08:00:00+00:00", "source_version": 1, "status": "confirmed",
    "placed_at": "2026-04-03T08:00:00+00:00", "currency": "EUR",
    "customer": {"customer_id": "ACME-1", "email": "buyer@acme.example"},
    "lines": [{"line_id": "1", "sku": "BOLT-M8", "name": "M8 bolt", "quantity": 500, "unit_price": "0.10",
               "status": "open", "fulfillment_type": "ship_to_home"}],
}


def _poslog(store: str = "0042", sequence: int = 77, prefix: str = "", uri: str = NS) -> bytes:
    p = f"{prefix}:" if prefix else ""
    declaration = f'xmlns:{prefix}="{uri}"' if prefix else f'xmlns="{uri}"'
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><{p}POSLog {declaration} MajorVersion="6"><{p}Transaction>'
        f"<{p}RetailStoreID>{store}</{p}RetailStoreID><{p}WorkstationID>2</{p}WorkstationID>"
        f"<{p}SequenceNumber>{sequence}</{p}SequenceNumber><{p}BusinessDayDate>2026-04-04</{p}BusinessDayDate>"
        f"<{p}BeginDateTime>2026-04-04T10:00:00-05:00</{p}BeginDateTime>"
        f"<{p}EndDateTime>2026-04-04T10:01:00-05:00</{p}EndDateTime><{p}CurrencyCode>USD</{p}CurrencyCode>"
        f"<{p}RetailTransaction><{p}LineItem><{p}SequenceNumber>1</{p}SequenceNumber>"
        f'<{p}Sale ItemType="Stock"><{p}ItemID>SOCKS-3</{p}ItemID><{p}Description>Socks</{p}Description>'
        f"<{p}ActualSalesUnitPrice>4.00</{p}ActualSalesUnitPrice><{p}ExtendedAmount>8.00</{p}ExtendedAmount>"
        f"<{p}Quantity>2</{p}Quantity></{p}Sale></{p}LineItem>"
        f'<{p}Total TotalType="TransactionNetAmount">8.00</{p}Total></{p}RetailTransaction>'
        f"</{p}Transaction></{p}POSLog>"
    ).encode()


SEEDS: dict[str, list[bytes]] = {
    "shopify": [
        _json({"topic": "orders/create", "webhook_id": "0f1e2d3c", "payload": SHOPIFY_ORDER}),
        _json({"topic": "orders/updated", "payload": {**SHOPIFY_ORDER, "updated_at": "2026-04-02T10:00:00-04:00",
                                                       "financial_status": "refunded"}}),
    ],
    "amazon_sp": [
        _json({"operation": "getOrder", "payload": {"payload": AMAZON_ORDER}}),
        _json({"operation": "getOrder", "payload": {"payload": {**AMAZON_ORDER, "OrderStatus": "Shipped",
                                                                "LastUpdateDate": "2026-04-02T08:00:00Z"}}}),
    ],
    "poslog": [_poslog(), _poslog(store="0101", sequence=5, prefix="arts")],
    "canonical": [_json(CANONICAL_ORDER), _json({**CANONICAL_ORDER, "event_id": "b2b-7781-2", "source_version": 2,
                                                 "occurred_at": "2026-04-03T09:00:00+00:00"})],
}
JSON_FORMATS = ("shopify", "amazon_sp", "canonical")


@pytest.mark.parametrize("fmt", sorted(SEEDS))
def test_every_seed_is_a_valid_message_of_its_format(fmt: str) -> None:
    for seed in SEEDS[fmt]:
        assert decode(fmt, seed), f"{fmt} seed decodes to no change"


# --- input strategies -------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*at, index))
    return found


def _replaced(document: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[head] = _replaced(document[head], rest, new)
    return copy


@st.composite
def wrong_types(draw: st.DrawFn, fmt: str) -> bytes:
    """A valid JSON message with one value anywhere in it replaced by a random JSON value."""
    document = json.loads(draw(st.sampled_from(SEEDS[fmt])))
    path = draw(st.sampled_from(_paths(document)))
    return _json(_replaced(document, path, draw(JSON_VALUES)))


@st.composite
def xml_mutations(draw: st.DrawFn, fmt: str) -> bytes:
    """A valid POSLog with one element's text replaced, or one element removed, or its namespace renamed."""
    seed = draw(st.sampled_from(SEEDS[fmt])).decode()
    elements = re.findall(r"<((?:\w+:)?\w+)[^>]*>([^<]*)</\1>", seed)
    tag, text = draw(st.sampled_from(elements))
    choice = draw(st.sampled_from(["text", "drop", "namespace"]))
    if choice == "text":
        new = draw(st.text(max_size=30)).replace("<", "&lt;").replace("&", "&amp;")
        return seed.replace(f">{text}</{tag}>", f">{new}</{tag}>", 1).encode()
    if choice == "drop":
        return re.sub(rf"<{tag}[^>]*>[^<]*</{tag}>", "", seed, count=1).encode()
    uri = draw(st.sampled_from(["urn:example:unusual", "", "http://www.nrf-arts.org/IXRetail/namespace",
                                "http://www.w3.org/XML/1998/namespace", NS + "extra"]))
    return seed.replace(NS, uri).encode()


def deep_nesting(fmt: str) -> st.SearchStrategy[bytes]:
    depths = st.integers(min_value=50, max_value=200_000)
    if fmt == "poslog":
        return depths.map(lambda d: (f'<POSLog xmlns="{NS}"><Transaction>' + "<a>" * d + "</a>" * d
                                     + "</Transaction></POSLog>").encode())
    return depths.map(lambda d: b'{"payload": ' + b"[" * d + b"]" * d + b"}")


def oversized(fmt: str) -> st.SearchStrategy[bytes]:
    """A valid message padded to 1-7 MB (an unknown field, or XML whitespace), or cut there."""

    def pad(seed: bytes, size: int) -> bytes:
        if fmt == "poslog":
            return seed.replace(b"<Transaction>", b"<Transaction>" + b" " * size, 1)
        return seed[:-1] + b', "filler": "' + b"x" * size + b'"}'

    return st.builds(pad, st.sampled_from(SEEDS[fmt]), st.integers(min_value=1_000_000, max_value=7_000_000))


def odd_encodings(fmt: str) -> st.SearchStrategy[bytes]:
    codecs = st.sampled_from(["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig", "latin-1", "utf-32", "cp1252"])
    return st.builds(lambda seed, codec: seed.decode().replace("Socks", "Chaussettes é").encode(codec),
                     st.sampled_from(SEEDS[fmt]), codecs)


def inputs(fmt: str) -> st.SearchStrategy[bytes | None]:
    seeds = SEEDS[fmt]
    truncated = st.builds(lambda seed, cut: seed[:cut], st.sampled_from(seeds), st.integers(0, 2000))
    mutated = xml_mutations(fmt) if fmt == "poslog" else wrong_types(fmt)
    return st.one_of(
        st.sampled_from(seeds), st.binary(max_size=600), truncated, mutated, deep_nesting(fmt),
        oversized(fmt), odd_encodings(fmt), st.none(), JSON_VALUES.map(_json),
    )


# --- the property -----------------------------------------------------------------------------

def _decoded_event_ids(fmt: str, value: bytes | None) -> set[str]:
    try:
        return {change.event_id for change in decode(fmt, value or b"")}
    except (ChannelDecodeError, IgnoredPayload):
        return set()


def _run(fmt: str, payloads: Sequence[bytes | None]) -> None:
    source, writer, sink = FakeChangeSource(), InMemoryWriter(), RecordingSink()
    records = [source.append(TOPIC_OF[fmt], payload, key=f"k{i}".encode()) for i, payload in enumerate(payloads)]
    worker = IngestWorker(source=source, writer=writer, topics=TOPICS, dead_letter_sink=sink,
                          letter_bounds=BOUNDS, clock=source.clock)

    worker.run(idle_exit_s=1.0)  # must return, never raise

    stats, letters = worker.stats, sink.letters()
    kinds = [letter["kind"] for letter in letters]
    assert stats.records == len(records)
    assert stats.accepted + stats.dead_lettered + stats.ignored == len(records)
    assert (kinds.count("dead_letter"), kinds.count("ignored")) == (stats.dead_lettered, stats.ignored)
    assert len({record.key for record in sink.sent}) == len(sink.sent), "one letter per record not accepted"
    assert all(len(record.value or b"") <= BOUNDS.record_max_bytes for record in sink.sent)
    refused = {(letter["source_topic"], letter["offset"]) for letter in letters}
    written = {event_id for batch in writer.batches for event_id in batch}
    for record in records:
        if (record.topic, record.offset) not in refused:
            assert _decoded_event_ids(fmt, record.value) <= written
    assert source.committed == {p: len(log) for p, log in source.logs.items()} and source.closed and sink.closed


@pytest.mark.parametrize("fmt", sorted(SEEDS))
def test_the_worker_survives_anything_and_every_record_is_accounted_for(fmt: str) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=False,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
    @given(payloads=st.lists(inputs(fmt), min_size=1, max_size=4))
    def property_holds(payloads: list[bytes | None]) -> None:
        _run(fmt, payloads)

    property_holds()


@pytest.mark.parametrize("fmt", sorted(SEEDS))
def test_messages_of_several_megabytes_are_accounted_for_and_bounded(fmt: str) -> None:
    seed = SEEDS[fmt][0]
    cases: list[Callable[[bytes], bytes]] = [
        lambda s: s + b" " * 6_000_000,  # beyond the decoders' 5 MB limit
        lambda s: s[: len(s) // 2] + b"\x00" * 3_000_000,  # truncated, then garbage
        lambda s: b"\xff\xfe" + s * 20_000,  # BOM, then a concatenation of valid messages
    ]
    _run(fmt, [case(seed) for case in cases] + [seed])
