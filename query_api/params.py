"""Shared request parameters: one definition of a valid instant, one paging dependency
(page size bounds + cursor decoding) for every paged route, and the order filters.

A cursor is the sort key of the last item of the previous page, base64url(JSON): opaque to
clients, and the same across tiers (see `query_api.read_port`).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import Depends, HTTPException, Query
from pydantic import AfterValidator

from order_domain.model import Channel, OrderStatus
from query_api.deps import SettingsDep
from query_api.read_port import OrderFilter, PageRequest, SortKey

EARLIEST_YEAR, LATEST_YEAR = 1970, 2200
MAX_CURSOR_VALUES = 4


def _sane_instant(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a timezone offset, e.g. 2026-03-06T18:00:00Z")
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"must be between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value.astimezone(UTC)


Instant = Annotated[datetime, AfterValidator(_sane_instant)]
StoreId = Annotated[str | None, Query(max_length=64)]


class BadCursor(ValueError):
    pass


def encode_cursor(sort_values: SortKey | None) -> str | None:
    if sort_values is None:
        return None
    return base64.urlsafe_b64encode(orjson.dumps(sort_values)).decode().rstrip("=")


def decode_cursor(cursor: str) -> SortKey:
    try:
        values: Any = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, orjson.JSONDecodeError) as error:
        raise BadCursor("malformed cursor: pass back the `next_cursor` of the previous page unchanged") from error
    if not isinstance(values, list) or not values or len(values) > MAX_CURSOR_VALUES or not all(
        isinstance(v, str | int | float) or v is None for v in values
    ):
        raise BadCursor("malformed cursor: pass back the `next_cursor` of the previous page unchanged")
    return values


async def page_request(
    settings: SettingsDep,
    size: Annotated[int, Query(ge=1, le=1000, description="items per page (at most ORDERREPO_API_MAX_PAGE_SIZE)")] = 20,
    cursor: Annotated[str | None, Query(max_length=512, description="`next_cursor` of the previous page")] = None,
) -> PageRequest:
    if size > settings.api_max_page_size:
        raise HTTPException(400, f"size must be between 1 and {settings.api_max_page_size}")
    return PageRequest(size=size, after=decode_cursor(cursor) if cursor else None)


async def placed_range(
    placed_from: Annotated[Instant | None, Query(description="placed at or after (ISO 8601 with offset)")] = None,
    placed_to: Annotated[Instant | None, Query(description="placed before (ISO 8601 with offset)")] = None,
) -> OrderFilter:
    if placed_from and placed_to and placed_from >= placed_to:
        raise HTTPException(400, "`placed_from` must be before `placed_to`")
    return OrderFilter(placed_from=placed_from, placed_to=placed_to)


PlacedRange = Annotated[OrderFilter, Depends(placed_range)]


async def order_filter(placed: PlacedRange, channel: Channel | None = None, status: OrderStatus | None = None,
                       store_id: StoreId = None) -> OrderFilter:
    return OrderFilter(channel=channel, status=status, store_id=store_id, placed_from=placed.placed_from,
                       placed_to=placed.placed_to)


Paging = Annotated[PageRequest, Depends(page_request)]
OrderFilters = Annotated[OrderFilter, Depends(order_filter)]
