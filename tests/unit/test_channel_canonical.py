"""Canonical adapter: OrderChange JSON (single or batch), pydantic errors become ChannelDecodeError."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.decoders import canonical
from ingest.decoders.reader import ChannelDecodeError
from order_domain.model import Channel, OrderChange, OrderStatus
from tests.unit.channel_helpers import FIXTURES, JSON_VALUES, decodes_or_rejects



def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def encode(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def test_call_center_event_round_trips_with_utc_timestamps() -> None:
    [change] = canonical.decode(encode(load("canonical_call_center.json")))
    assert (change.order_id, change.channel, change.status) == ("cc-88120", Channel.CALL_CENTER, OrderStatus.CONFIRMED)
    assert change.occurred_at.isoformat() == "2026-03-06T15:45:00+00:00"
    assert change.placed_at is not None and change.placed_at.utcoffset().total_seconds() == 0


def test_batch_decodes_in_order() -> None:
    changes = canonical.decode(encode(load("canonical_b2b_batch.json")))
    assert [change.event_id for change in changes] == ["b2b-PO-5512-v1", "b2b-PO-5512-v2"]


def test_model_dump_json_is_accepted_back() -> None:
    [change] = canonical.decode(encode(load("canonical_call_center.json")))
    assert canonical.decode(change.model_dump_json().encode()) == [change]


def with_(doc: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {**doc, **fields}


BASE = load("canonical_call_center.json")


@pytest.mark.parametrize(
    ("payload", "reason", "location"),
    [
        (b"{not json", "malformed_json", "$"),
        (encode({k: v for k, v in BASE.items() if k != "order_id"}), "missing_field", "order_id"),
        (encode(with_(BASE, occurred_at="2026-03-06T16:45:00")), "invalid_timestamp", "occurred_at"),
        (encode(with_(BASE, occurred_at="noon")), "invalid_timestamp", "occurred_at"),
        (encode(with_(BASE, colour="red")), "unknown_field", "colour"),
        (encode(with_(BASE, lines=[{"line_id": "1", "quantity": -1}])), "invalid_value", "lines[0].quantity"),
        (encode(with_(BASE, channel="fax")), "invalid_value", "channel"),
        (encode([BASE, with_(BASE, event_id="")]), "invalid_value", "[1].event_id"),
        (encode(with_(BASE, payments=[{"payment_id": "p", "last4": "4111111111111111"}])), "invalid_value",
         "payments[0].last4"),
    ],
)
def test_validation_errors_carry_reason_and_json_path(payload: bytes, reason: str, location: str) -> None:
    with pytest.raises(ChannelDecodeError) as caught:
        canonical.decode(payload)
    assert (caught.value.source, caught.value.reason, caught.value.location) == ("canonical", reason, location)




@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_raise_channel_decode_error(payload: bytes) -> None:
    decodes_or_rejects(canonical.decode, payload)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(OrderChange.model_fields)), JSON_VALUES, max_size=6), st.booleans())
def test_arbitrary_structures_only_raise_channel_decode_error(overrides: dict[str, Any], batch: bool) -> None:
    doc = with_(BASE, **overrides)
    decodes_or_rejects(canonical.decode, encode([doc] if batch else doc))
