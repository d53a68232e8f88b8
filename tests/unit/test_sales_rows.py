"""Sales rows from an engine answer: revenue exactly as `round(value, 2)` gives it, byte for byte.

`engine_reader.sales_rows` skips `round(v, 2)` where `round(v * 100) / 100` is provably the same
double; these tests compare the JSON bytes of its rows with rows built with `round(v, 2)` on
every cell, over sums of cents added the ways an engine adds them and over any float at all."""

from __future__ import annotations

import math
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from query_api.engine_reader import sales_rows

CHANNELS = ("web", "app", "store", "marketplace", "call_center", "b2b")


def answer(revenues: list[Any]) -> dict[str, Any]:
    """A trimmed sales answer (`SALES_FIELDS`): one day per six revenues, one channel bucket each."""
    periods = []
    for start in range(0, len(revenues), len(CHANNELS)):
        buckets = [{"key": channel, "doc_count": index + 1, "revenue": {"value": value}}
                   for index, (channel, value) in enumerate(zip(CHANNELS, revenues[start:start + len(CHANNELS)]))]
        periods.append({"key_as_string": f"2026-01-{start // len(CHANNELS) + 1:02d}T00:00:00.000Z",
                        "channel": {"buckets": buckets}})
    return {"aggregations": {"period": {"buckets": periods}}}


def rounded_rows(revenues: list[Any]) -> list[dict[str, Any]]:
    """The rows as they were built before: `round(value, 2)` on every cell."""
    return [{"period": period["key_as_string"], "channel": channel["key"], "orders": channel["doc_count"],
             "revenue": round(channel["revenue"]["value"], 2)}
            for period in answer(revenues)["aggregations"]["period"]["buckets"]
            for channel in period["channel"]["buckets"]]


def assert_same_bytes(revenues: list[Any]) -> None:
    assert orjson.dumps(sales_rows(answer(revenues))) == orjson.dumps(rounded_rows(revenues))


def naive_sum(cents: list[int]) -> float:
    total = 0.0
    for cent in cents:
        total += cent / 100
    return total


cent_lists = st.lists(st.integers(min_value=-10**9, max_value=10**9), min_size=1, max_size=60)


@settings(max_examples=400, deadline=None)
@given(st.lists(cent_lists, min_size=1, max_size=24))
def test_sums_of_cents_round_as_before(days: list[list[int]]) -> None:
    """Sums of cents, added one by one (the error the engine's double sum carries) and exactly."""
    assert_same_bytes([naive_sum(cents) for cents in days] + [math.fsum(c / 100 for c in cents) for cents in days])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-10**15, 10**15), min_size=1,
                max_size=30))
def test_any_number_rounds_as_before(values: list[Any]) -> None:
    assert_same_bytes(values)


def test_edges_round_as_before() -> None:
    """Half cents (exact and not), zero of either sign, ints, the guard's bounds, NaN, infinities."""
    values = [0.125, 2.675, 1.005, 0.005, -0.005, 0.0049999, 0.0, -0.0, -0.001, 0.001, 5, -7, 1225.3700000000001,
              91466.92000000001, 99999999999.995, 1e11, -1e11, 1e300, math.inf, -math.inf, math.nan, 2.5e-324]
    assert_same_bytes(values)
    assert [row["revenue"] for row in sales_rows(answer([1225.3700000000001, 0.1 + 0.2]))] == [1225.37, 0.3]


def test_empty_and_partial_answers() -> None:
    """An empty answer has no `aggregations`; a day may have no channel buckets."""
    assert sales_rows({}) == []
    assert sales_rows({"aggregations": {"period": {"buckets": [{"key_as_string": "2026-01-01T00:00:00.000Z"}]}}}) == []
