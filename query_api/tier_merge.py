"""Several tiers' sorted pages merged into one page of one newest-first sequence (pure).

Every tier source pages by the same total sort key as the API's cursor — `[placed_at in
epoch milliseconds, order_id]`, newest first, orders without a date last — so a cursor
means the same thing in every tier and a tier-merging reader can page hot, warm and cold as
one sequence. Guarantees of `merge_pages`:
- no gap: an item is only answered when no source can still hold an earlier one (a source
  that has more after its page bounds what may be taken);
- no duplicate: the cursor is the sort key of the last item taken (or, when a page is
  empty because a source's whole page was screened out, that source's last key), and every
  source continues strictly after it;
- a page never holds more than `size` items; it may hold fewer while `next_after` says more
  follow (items a source screened out, or items dropped after reading, still move the cursor).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from query_api.read_port import SortKey

T = TypeVar("T")
# The engine's sort value of a missing date sorted descending with `missing: _last`.
MISSING_DATE = -(2**63)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def placed_millis(value: Any) -> int:
    """Epoch milliseconds as the engine sorts a date (truncated, exact integer arithmetic)."""
    if not value:
        return MISSING_DATE
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def newest_first_key(document: dict[str, Any]) -> SortKey:
    """The cursor value of an order document, identical to the engine's sort values."""
    return [placed_millis(document.get("placed_at")), document["order_id"]]


def rank(key: SortKey) -> tuple[int, str]:
    """Ascending position of a sort key in the newest-first sequence."""
    return -int(key[0]), str(key[1])


@dataclass(frozen=True)
class TierPage(Generic[T]):
    """One source's page: its surviving items with their sort keys, in order, and `last`, the
    sort key of the last item the source looked at when it may hold more (None: exhausted)."""

    items: list[tuple[SortKey, T]]
    last: SortKey | None


def merge_pages(pages: Sequence[TierPage[T]], size: int) -> tuple[list[T], SortKey | None]:
    """The first `size` items of the merged sequence and the cursor after them (None: the end)."""
    bounds = [page.last for page in pages if page.last is not None]
    bound = min(bounds, key=rank) if bounds else None
    merged = sorted((item for page in pages for item in page.items), key=lambda item: rank(item[0]))
    safe = [item for item in merged if bound is None or rank(item[0]) <= rank(bound)]
    taken = safe[:size]
    if len(taken) == len(merged) and bound is None:
        return [value for _, value in taken], None
    return [value for _, value in taken], taken[-1][0] if taken else bound
