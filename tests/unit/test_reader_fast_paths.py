"""The readers' usual-case shortcuts (no error path built, cached timestamps, no empty customer
built) answer exactly like the full checks, and every refusal still names its JSON path; the tombstone lookup parts the gate joins into
its one `_mget` split orders from customer keys."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from ingest.decoders.reader import ChannelDecodeError, Reader, customer_identity
from order_domain.model import CustomerIdentity
from retention.tombstones import Tombstones

R = Reader("shopify")


@pytest.mark.parametrize(("raw", "expected"), [(2, 2), ("2", 2), (2.0, 2), (0, 0), (1_000_000, 1_000_000)])
def test_counts(raw: object, expected: int) -> None:
    assert R.integer({"q": raw}, "q", "payload.line_items[0]") == expected


@pytest.mark.parametrize("raw", [-1, 1_000_001, True, "2.5"])
def test_bad_counts_name_their_path(raw: object) -> None:
    with pytest.raises(ChannelDecodeError) as refused:
        R.integer({"q": raw}, "q", "payload.line_items[0]")
    assert refused.value.location == "payload.line_items[0].q"


def test_amounts_and_their_refusal() -> None:
    assert R.money({"p": "19.99"}, "p", "payload") == Decimal("19.99")
    assert R.money({"p": 19.99}, "p", "payload") == Decimal("19.99")
    with pytest.raises(ChannelDecodeError) as refused:
        R.money({"p": "12.34567"}, "p", "payload.lines[1]")
    assert (refused.value.reason, refused.value.location) == ("invalid_value", "payload.lines[1].p")


def test_timestamps_and_their_refusals() -> None:
    assert R.timestamp({"t": "2026-03-01T12:00:00+02:00"}, "t", "payload") == datetime(2026, 3, 1, 10, tzinfo=UTC)
    for raw in ("2026-03-01T12:00:00", "1969-12-31T23:00:00Z", "yesterday"):
        with pytest.raises(ChannelDecodeError) as refused:
            R.timestamp({"t": raw}, "t", "payload.fulfillments[0]")
        assert (refused.value.reason, refused.value.location) == ("invalid_timestamp", "payload.fulfillments[0].t")


def test_tombstone_lookup_parts() -> None:
    class _Names:
        tombstones = "p-tombstones"

    wanted = Tombstones(engine=None, names=_Names()).wanted(["o-2", "o-1", "o-2"], {"h1"})  # type: ignore[arg-type]
    assert wanted == [{"_index": "p-tombstones", "_id": "order:o-1"}, {"_index": "p-tombstones", "_id": "order:o-2"},
                      {"_index": "p-tombstones", "_id": "customer:h1"}]
    hits = [{"_source": {"kind": "order", "order_id": "o-1", "reason": "erased", "at": "2026-01-01T00:00:00+00:00"}},
            {"_source": {"kind": "customer", "key_hash": "h1", "reason": "erased", "at": "2026-01-02T00:00:00+00:00"}}]
    assert Tombstones.found(hits) == ({"o-1"}, {"h1": datetime(2026, 1, 2, tzinfo=UTC)})


def test_a_repeated_timestamp_reads_the_same_instant_and_a_refused_one_stays_refused() -> None:
    first = R.timestamp({"t": "2026-03-01T12:00:00-08:00"}, "t", "payload")
    again = R.timestamp({"t": "2026-03-01T12:00:00-08:00"}, "t", "payload.fulfillments[0]")
    assert first == again == datetime(2026, 3, 1, 20, tzinfo=UTC) and again.tzinfo is UTC
    for at in ("payload", "payload.refunds[2]"):
        with pytest.raises(ChannelDecodeError) as refused:
            R.timestamp({"t": "2026-03-01T12:00:00"}, "t", at)
        assert (refused.value.reason, refused.value.location) == ("invalid_timestamp", f"{at}.t")


def test_customer_identity_is_none_only_when_every_field_is_absent() -> None:
    assert customer_identity(email=None, phone=None, name=None) is None
    assert customer_identity(email=" a@example.com ", phone=None) == CustomerIdentity(email="a@example.com")
    with pytest.raises(ValidationError):
        customer_identity(email="x" * 300)  # the model's own limits still apply


def test_the_guard_turns_a_model_refusal_into_the_decode_error_with_its_location() -> None:
    with pytest.raises(ChannelDecodeError) as refused, R.guard():
        CustomerIdentity(email="")
    assert (refused.value.reason, refused.value.location) == ("invalid_value", "CustomerIdentity.email")
    with pytest.raises(KeyError), R.guard():
        raise KeyError("not a model refusal: passes through")
