"""Shared request parameters: one definition of a valid instant, one paging dependency
(page size bounds + cursor decoding) for every paged route, and the order filters.

A cursor is the sort key of the last item of the previous page plus a MAC, base64url(JSON):
opaque to clients, the same across tiers (see `query_api.read_port`), and bound to the query
that issued it (route, path parameters, filters; not the page size) by an HMAC under a key
derived from the token secret. So the API only ever sends the engine sort values it issued
itself for this very query: a tampered, forged or truncated cursor, or one taken from another
customer's or another filter's pages, is refused with 400 `bad_cursor` before any read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import Depends, HTTPException, Query, Request
from pydantic import AfterValidator

from order_domain.model import Channel, OrderStatus
from query_api.read_port import OrderFilter, PageRequest, SortKey

EARLIEST_YEAR, LATEST_YEAR = 1970, 2200
MAX_CURSOR_VALUES = 4


class InstantOutOfRange(Exception):
    """A well-formed instant outside the years the store answers for: refused with 400, not 422,
    since the request is valid by the published schema (any RFC 3339 date-time) and refused on
    its meaning. Not a ValueError on purpose: pydantic lets it through to its own handler."""


def _sane_instant(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a timezone offset, e.g. 2026-03-06T18:00:00Z")
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise InstantOutOfRange(f"instants must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}; "
                                f"got {value.isoformat()}")
    return value.astimezone(UTC)


Instant = Annotated[datetime, AfterValidator(_sane_instant)]
StoreId = Annotated[str | None, Query(max_length=64)]


class BadCursor(ValueError):
    pass


_MAC_BYTES = 16
_CURSOR_HELP = "pass back the `next_cursor` of the previous page of the same query unchanged"
_NOT_PAGED = frozenset({"cursor", "size"})  # a client may change the page size between pages


def _mac(values: bytes, *, key: bytes, scope: str) -> str:
    digest = hmac.new(key, scope.encode() + b"\n" + values, hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def encode_cursor(sort_values: SortKey | None, *, key: bytes, scope: str) -> str | None:
    if sort_values is None:
        return None
    values = orjson.dumps(sort_values)
    payload = orjson.dumps([orjson.Fragment(values), _mac(values, key=key, scope=scope)])
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(cursor: str, *, key: bytes, scope: str) -> SortKey:
    """The sort values of a cursor this API issued for `scope`; `BadCursor` for anything else."""
    try:
        payload: Any = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, orjson.JSONDecodeError) as error:
        raise BadCursor(f"malformed cursor: {_CURSOR_HELP}") from error
    if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[1], str)):
        raise BadCursor(f"malformed cursor: {_CURSOR_HELP}")
    values = payload[0]
    expected = _mac(orjson.dumps(values), key=key, scope=scope).encode()
    if not hmac.compare_digest(expected, payload[1].encode()):  # bytes: a str compare refuses non-ASCII
        raise BadCursor(f"cursor was not issued for this query: {_CURSOR_HELP}")
    if not isinstance(values, list) or not values or len(values) > MAX_CURSOR_VALUES or not all(
        isinstance(v, str | int | float) or v is None for v in values
    ):
        raise BadCursor(f"malformed cursor: {_CURSOR_HELP}")
    return values


@dataclass(frozen=True)
class CursorPage(PageRequest):
    """A page request that issues the next page's cursor, bound to the query it came with."""

    key: bytes = b""
    scope: str = ""

    def next_cursor(self, after: SortKey | None) -> str | None:
        return encode_cursor(after, key=self.key, scope=self.scope)


def cursor_key(token_secret: str) -> bytes:
    """The cursor MAC key: derived from the token secret, never the secret itself."""
    return hmac.new(token_secret.encode(), b"orderrepo-cursor-v1", hashlib.sha256).digest()


def query_scope(request: Request) -> str:
    """What a cursor is bound to: route template, path parameters and every query parameter but
    the page size and the cursor itself (repeated parameters in their order)."""
    route = str(getattr(request.scope.get("route"), "path", request.url.path))
    params = sorted(request.path_params.items())
    query = sorted((name, value) for name, value in request.query_params.multi_items() if name not in _NOT_PAGED)
    return orjson.dumps([route, params, query]).decode()


async def page_request(
    request: Request,
    size: Annotated[int, Query(ge=1, le=1000, description="items per page (at most ORDERREPO_API_MAX_PAGE_SIZE)")] = 20,
    cursor: Annotated[str | None, Query(max_length=512, description="`next_cursor` of the previous page of the "
                                        "same query (same path and filters); anything else answers 400")] = None,
) -> CursorPage:
    largest = request.app.state.settings.api_max_page_size  # read here: one dependency less per request
    if size > largest:
        raise HTTPException(400, f"size must be between 1 and {largest}")
    key, scope = request.app.state.cursor_key, query_scope(request)
    after = decode_cursor(cursor, key=key, scope=scope) if cursor else None
    return CursorPage(size=size, after=after, key=key, scope=scope)


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


Paging = Annotated[CursorPage, Depends(page_request)]
OrderFilters = Annotated[OrderFilter, Depends(order_filter)]
