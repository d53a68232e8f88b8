"""The fault drills' own logic: the independent ground truth, the verdict, skew and memory slope."""

from __future__ import annotations

import orjson
import polars as pl

from chaos.ground_truth import ground_truth, judge
from chaos.processes import slope_mb_per_min
from chaos.skew import skew_channel
from order_domain.model import Channel
from sample_traffic import TrafficMessage


def _event(event_id: str, order_id: str, at: str, status: str, *, quantity: int | None = None) -> TrafficMessage:
    event = {"event_id": event_id, "order_id": order_id, "channel": "b2b", "source": "erp", "kind": "updated",
             "occurred_at": at, "status": status}
    if quantity is not None:
        event["lines"] = [{"line_id": "1", "sku": "SKU-1", "quantity": quantity}]
    return TrafficMessage(channel=Channel.B2B, key=order_id.encode(), value=orjson.dumps(event), journey="test")


STREAM = [
    _event("e2", "o1", "2026-03-02T10:00:00Z", "shipped", quantity=3),
    _event("e1", "o1", "2026-03-01T10:00:00Z", "confirmed", quantity=5),  # older, arrives later
    _event("e3", "o2", "2026-03-01T10:00:00Z", "cancelled"),
    _event("e4", "o2", "2026-03-02T10:00:00Z", "confirmed"),  # cancelled outranks it
    TrafficMessage(channel=Channel.B2B, key=b"o3", value=b"{not json", journey="poison"),
]


def test_ground_truth_applies_the_documented_rules_whatever_the_arrival_order() -> None:
    for stream in (STREAM, list(reversed(STREAM))):
        truth = ground_truth(stream)
        assert truth.orders.rows() == [("o1", "shipped"), ("o2", "cancelled")]
        assert truth.lines.rows() == [("o1", "1", 3)]  # the last writer by event time, not by arrival
        assert (truth.messages, truth.refused) == (5, 1)


def test_the_verdict_names_lost_doubled_regressed_and_unexpected_orders() -> None:
    truth = ground_truth(STREAM)
    copies = pl.DataFrame({"order_id": ["o1", "o1", "o9"], "status": ["shipped", "shipped", "pending"],
                           "index": ["hot", "warm", "hot"]})
    lines = pl.DataFrame({"order_id": ["o1"], "line_id": ["1"], "quantity": [5]})
    verdict = judge(truth, copies, lines)
    assert (verdict.lost, verdict.doubled, verdict.regressed, verdict.unexpected) == (["o2"], ["o1"], ["o1"], ["o9"])
    assert not verdict.ok


def test_a_faithful_store_passes() -> None:
    truth = ground_truth(STREAM)
    copies = pl.DataFrame({"order_id": ["o1", "o2"], "status": ["shipped", "cancelled"], "index": ["hot", "hot"]})
    lines = pl.DataFrame({"order_id": ["o1"], "line_id": ["1"], "quantity": [3]})
    assert judge(truth, copies, lines).ok


def test_skew_moves_only_the_chosen_channel_by_exactly_the_minutes_given() -> None:
    web = TrafficMessage(channel=Channel.WEB, key=b"w", value=b'{"x": 1}', journey="t")
    skewed = skew_channel([STREAM[0], web], Channel.B2B, minutes=7)
    assert orjson.loads(skewed[0].value)["occurred_at"] == "2026-03-02T10:07:00+00:00"
    assert skewed[1] is web


def test_memory_slope_is_in_megabytes_per_minute() -> None:
    growing = [(t, 100_000_000 + t * 1_000_000) for t in range(0, 120, 5)]  # 1 MB per second
    assert round(slope_mb_per_min(growing), 6) == 60.0
    assert slope_mb_per_min([(t, 5) for t in range(10)]) == 0.0
