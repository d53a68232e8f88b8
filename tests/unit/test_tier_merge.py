"""One newest-first sequence paged across tiers: `query_api.tier_merge` with fake tier sources
that page the way the engine and the locator do (strictly after the cursor, `size` at a time)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from query_api.read_port import SortKey
from query_api.tier_merge import MISSING_DATE, TierPage, merge_pages, newest_first_key, placed_millis, rank

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class FakeTierSource:
    """A tier's documents, sorted like the engine sorts them; `stale` ids are copies a move left
    behind: the source returns them and the screen drops them (as `authoritative` does)."""

    documents: list[dict[str, Any]]
    stale: set[str] = field(default_factory=set)

    def page(self, after: SortKey | None, size: int) -> TierPage[str]:
        ordered = sorted(self.documents, key=lambda d: rank(newest_first_key(d)))
        rest = [d for d in ordered if after is None or rank(newest_first_key(d)) > rank(after)]
        raw = rest[:size]
        kept = [(newest_first_key(d), d["order_id"]) for d in raw if d["order_id"] not in self.stale]
        return TierPage(kept, newest_first_key(raw[-1]) if len(raw) == size else None)


def _order(n: int, placed: datetime | None) -> dict[str, Any]:
    return {"order_id": f"ord-{n:04d}", "placed_at": placed.isoformat() if placed else None}


def _all_pages(sources: list[FakeTierSource], size: int) -> list[list[str]]:
    pages, after = [], None
    for _ in range(1000):
        taken, after = merge_pages([source.page(after, size) for source in sources], size)
        assert len(taken) <= size
        pages.append(taken)
        if after is None:
            return pages
    raise AssertionError("paging did not end")


def _tiers(seed: int) -> tuple[list[FakeTierSource], list[str]]:
    """Three tiers, newest mostly hot, with shared timestamps, undated orders and stale copies."""
    rng = random.Random(seed)
    documents = [_order(n, None if n % 17 == 0 else T0 - timedelta(hours=rng.randrange(0, 2000)))
                 for n in range(120)]
    by_tier: dict[str, list[dict[str, Any]]] = {"hot": [], "warm": [], "cold": []}
    for document in documents:
        by_tier[rng.choice(["hot", "warm", "cold"])].append(document)
    stale = rng.sample(by_tier["cold"], 5)  # moving hot -> cold: the hot copy is still there
    sources = [FakeTierSource(by_tier["hot"] + stale, stale={d["order_id"] for d in stale}),
               FakeTierSource(by_tier["warm"]), FakeTierSource(by_tier["cold"])]
    expected = [d["order_id"] for d in sorted(documents, key=lambda d: rank(newest_first_key(d)))]
    return sources, expected


@pytest.mark.parametrize("size", [1, 2, 3, 7, 20, 119, 120, 500])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pages_across_tiers_are_one_sorted_sequence_without_gaps_or_duplicates(size: int, seed: int) -> None:
    sources, expected = _tiers(seed)
    pages = _all_pages(sources, size)
    assert [order for page in pages for order in page] == expected


def test_a_full_page_of_stale_copies_moves_the_cursor_on_with_an_empty_page() -> None:
    hot = FakeTierSource([_order(n, T0 - timedelta(hours=n)) for n in range(3)], stale={"ord-0000", "ord-0001"})
    cold = FakeTierSource([_order(n, T0 - timedelta(hours=n)) for n in range(2)] + [_order(9, T0 - timedelta(days=9))])
    first, after = merge_pages([hot.page(None, 2), cold.page(None, 2)], 2)
    assert first == ["ord-0000", "ord-0001"] and after == newest_first_key(_order(1, T0 - timedelta(hours=1)))
    second, after = merge_pages([hot.page(after, 2), cold.page(after, 2)], 2)
    assert second == ["ord-0002", "ord-0009"] and after is None


def test_the_cursor_is_the_sort_key_of_the_last_item_as_the_engine_writes_it() -> None:
    sources, expected = _tiers(5)
    taken, after = merge_pages([source.page(None, 10) for source in sources], 10)
    assert taken == expected[:10]
    assert after is not None and after[1] == expected[9] and isinstance(after[0], int)


def test_an_empty_tier_and_an_exhausted_sequence_end_with_no_cursor() -> None:
    assert merge_pages([FakeTierSource([]).page(None, 5)], 5) == ([], None)
    only = FakeTierSource([_order(1, T0), _order(2, None)])
    assert merge_pages([only.page(None, 5), FakeTierSource([]).page(None, 5)], 5) == (["ord-0001", "ord-0002"], None)


def test_dates_sort_as_the_engine_sorts_them() -> None:
    assert placed_millis("2025-01-10T09:00:00.123999+00:00") == 1736499600123  # truncated, not rounded
    assert placed_millis("2025-01-10T10:00:00+01:00") == placed_millis(datetime(2025, 1, 10, 9, tzinfo=UTC))
    assert placed_millis("1969-12-31T23:59:59.999+00:00") == -1
    assert placed_millis(None) == MISSING_DATE
    undated, dated = _order(1, None), _order(2, datetime(1900, 1, 1, tzinfo=UTC))
    assert rank(newest_first_key(dated)) < rank(newest_first_key(undated))  # undated orders come last


def test_a_timeline_from_any_tier_shows_significant_entries_in_event_time_order() -> None:
    from query_api.tiered_reader import shown_entries

    entries = [
        {"entry_id": "c", "event_id": "e3", "occurred_at": "2026-03-01T10:00:00+00:00", "source_version": 2},
        {"entry_id": "a", "event_id": "e1", "occurred_at": "2026-03-01T10:00:00+00:00", "source_version": 1},
        {"entry_id": "b", "event_id": "e2", "occurred_at": "2026-02-01T10:00:00+00:00", "significant": False},
        {"entry_id": "d", "event_id": "e0", "occurred_at": "2026-01-01T10:00:00+00:00", "significant": True},
    ]
    assert [e["entry_id"] for e in shown_entries(entries)] == ["d", "a", "c"]
