"""Per-channel corpora written from each format's public specification decode as stated.

Each file under tests/corpora/<channel>/ is one message as the real system sends
it (Shopify webhook bodies in the receiver's envelope, SP-API responses in the
poller's envelope, POSLog documents of several versions). Its channel's
EXPECTED.json says what it must decode to: the changes (order id, kind, status,
line statuses, fulfillment types, references, identity keys, payments,
shipments, returns...), or ``ignored`` with the reason, or ``dead_letter`` with
the reason. Only the keys an expectation names are compared, and every named key
is compared exactly.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ingest.decoders import ChannelDecodeError, DecoderOptions, IgnoredPayload, decode
from order_domain.identity import identity_keys
from order_domain.model import OrderChange

CORPORA = Path(__file__).resolve().parents[1] / "corpora"
OPTIONS = DecoderOptions(
    pos_default_tz="Europe/Berlin",
    pos_store_tz={"0042": "America/New_York", "S117": "America/Chicago"},
    store_locations=frozenset({"61234567", "STORE-0042"}),
)
CASES = [
    (channel, name, expected)
    for channel in ("shopify", "amazon_sp", "poslog")
    for name, expected in sorted(json.loads((CORPORA / channel / "EXPECTED.json").read_text()).items())
]


def test_every_corpus_file_has_an_expectation_and_the_corpora_are_broad() -> None:
    for channel in ("shopify", "amazon_sp", "poslog"):
        files = {p.name for p in (CORPORA / channel).iterdir() if p.name != "EXPECTED.json"}
        assert files == set(json.loads((CORPORA / channel / "EXPECTED.json").read_text()))
        assert len(files) >= 15, channel


@pytest.mark.parametrize(("channel", "name", "expected"), CASES, ids=[f"{c}/{n}" for c, n, _ in CASES])
def test_corpus_file_decodes_as_its_specification_says(channel: str, name: str, expected: dict[str, Any]) -> None:
    payload = (CORPORA / channel / name).read_bytes()
    if "ignored" in expected:
        with pytest.raises(IgnoredPayload) as ignored:
            decode(channel, payload, OPTIONS)
        assert ignored.value.reason == expected["ignored"]
        return
    if "dead_letter" in expected:
        with pytest.raises(ChannelDecodeError) as rejected:
            decode(channel, payload, OPTIONS)
        assert rejected.value.reason == expected["dead_letter"]
        return
    changes = decode(channel, payload, OPTIONS)
    assert len(changes) == len(expected["changes"])
    for change, want in zip(changes, expected["changes"], strict=True):
        check_change(change, want)


def _text(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value.value if hasattr(value, "value") else value


def check_change(change: OrderChange, want: dict[str, Any]) -> None:
    for key in ("order_id", "kind", "status", "store_id", "currency", "original_order_id"):
        if key in want:
            assert _text(getattr(change, key)) == want[key], key
    for key in ("occurred_at", "placed_at"):
        if key in want:
            assert _text(getattr(change, key)) == want[key], key
    lines = {line.line_id: line for line in change.lines}
    if "lines" in want:
        assert {i: _text(line.status) for i, line in lines.items()} == want["lines"]
    for key, attr in (("fulfillment", "fulfillment_type"), ("stores", "store_id"), ("quantities", "quantity"),
                      ("prices", "unit_price"), ("skus", "sku")):
        for line_id, value in want.get(key, {}).items():
            assert _text(getattr(lines[line_id], attr)) == value, (key, line_id)
    refs = {(ref.kind.value, ref.value) for ref in change.references}
    if "references" in want:
        assert refs == {tuple(ref) for ref in want["references"]}
    assert {tuple(ref) for ref in want.get("has_references", [])} <= refs
    if "identity_keys" in want:
        assert identity_keys(change.customer) == want["identity_keys"]
    if "total" in want:
        assert change.totals is not None and _text(change.totals.total) == want["total"]
    if "address" in want:
        assert change.shipping_address is not None
        assert {k: getattr(change.shipping_address, k) for k in want["address"]} == want["address"]
    _check_items(change, want)


def _check_items(change: OrderChange, want: dict[str, Any]) -> None:
    for key, items, id_field in (("payments", change.payments, "payment_id"), ("returns", change.returns, "return_id"),
                                 ("shipments", change.shipments, "shipment_id")):
        if key not in want:
            continue
        found = {getattr(item, id_field): item for item in items}
        assert set(found) == set(want[key]), key
        for item_id, fields in want[key].items():
            for field, value in fields.items():
                actual = getattr(found[item_id], field)
                if field == "lines":
                    actual = {part.line_id: part.quantity for part in actual or ()}
                elif field == "line_ids":
                    actual = list(actual or ())
                assert _text(actual) == value, (key, item_id, field)
