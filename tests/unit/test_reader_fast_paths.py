"""The readers' usual-case shortcuts (no error path built) answer exactly like the full checks,
and every refusal still names its JSON path; the tombstone lookup parts the gate joins into
its one `_mget` split orders from customer keys."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ingest.decoders.reader import ChannelDecodeError, Reader
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
