"""Exports for analysts: filtered orders or timelines as Parquet, streamed page by page.

Pages come from one consistent view of the store (the reader's export pages), so an
export of any size is consistent; customer identity is pseudonymised. The first page is
read before the response starts, so a failing store still answers 4xx/503; a failure
later aborts the stream (see `query_api.parquet_stream`): never a complete-looking file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from order_domain.model import Channel
from query_api.deps import AnalystCaller, ReaderDep
from query_api.lean_route import LeanRoute
from query_api.params import Instant, OrderFilters, StoreId
from query_api.parquet_stream import parquet_stream
from query_api.read_port import Pages, TimelineFilter
from query_api.views import pseudonym

router = APIRouter(prefix="/export", tags=["export"], route_class=LeanRoute)
UTC_TIME = pl.Datetime("us", "UTC")
ORDER_COLUMNS: dict[str, Any] = {
    "order_id": pl.Utf8, "channel": pl.Utf8, "status": pl.Utf8, "placed_at": UTC_TIME, "updated_at": UTC_TIME,
    "store_id": pl.Utf8, "currency": pl.Utf8, "total": pl.Float64, "line_count": pl.Int32,
    "fulfillment_type": pl.Utf8, "fulfillment_hours": pl.Float64, "has_return": pl.Boolean,
    "cross_channel": pl.Boolean, "customer": pl.Utf8,
}
TIMELINE_COLUMNS: dict[str, Any] = {
    "entry_id": pl.Utf8, "order_id": pl.Utf8, "occurred_at": UTC_TIME, "channel": pl.Utf8, "source": pl.Utf8,
    "kind": pl.Utf8, "categories": pl.List(pl.Utf8), "status_after": pl.Utf8, "store_id": pl.Utf8, "actor": pl.Utf8,
}
PARQUET = "application/vnd.apache.parquet"
PARQUET_ANSWER: dict[int | str, dict[str, Any]] = {200: {
    "description": "Parquet file, streamed", "content": {PARQUET: {"schema": {"type": "string", "format": "binary"}}}}}
Limit = Annotated[int | None, Query(ge=1, le=100_000_000, description="at most this many rows")]


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def order_row(source: dict[str, Any]) -> dict[str, Any]:
    facts = source.get("facts") or {}
    keys = source.get("identity_keys") or []
    total = (source.get("totals") or {}).get("total")
    return {
        "order_id": source["order_id"], "channel": source.get("channel"), "status": source.get("status"),
        "placed_at": _time(source.get("placed_at")), "updated_at": _time(source.get("updated_at")),
        "store_id": source.get("store_id"), "currency": source.get("currency"),
        "total": float(total) if total is not None else None, "line_count": facts.get("line_count"),
        "fulfillment_type": facts.get("fulfillment_type"), "fulfillment_hours": facts.get("fulfillment_hours"),
        "has_return": facts.get("has_return"), "cross_channel": facts.get("cross_channel"),
        "customer": pseudonym(keys[0]) if keys else None,
    }


def timeline_row(source: dict[str, Any]) -> dict[str, Any]:
    return {**{k: source.get(k) for k in TIMELINE_COLUMNS}, "occurred_at": _time(source.get("occurred_at"))}


async def _rows(pages: Pages, to_row: Any) -> AsyncIterator[list[dict[str, Any]]]:
    async for page in pages:
        yield [to_row(document) for document in page]


async def _primed(pages: AsyncIterator[list[dict[str, Any]]]) -> AsyncIterator[list[dict[str, Any]]]:
    """Fetch the first page before the response starts, so store errors still become 4xx/503."""
    first = await anext(pages, None)

    async def replay() -> AsyncIterator[list[dict[str, Any]]]:
        if first is not None:
            yield first
            async for page in pages:
                yield page

    return replay()


async def _parquet_response(pages: AsyncIterator[list[dict[str, Any]]], schema: dict[str, Any],
                            filename: str) -> StreamingResponse:
    stream = parquet_stream(await _primed(pages), schema)
    return StreamingResponse(stream, media_type=PARQUET,
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})


async def timeline_filter(channel: Channel | None = None, store_id: StoreId = None,
                          occurred_from: Instant | None = None, occurred_to: Instant | None = None) -> TimelineFilter:
    return TimelineFilter(channel=channel, store_id=store_id, occurred_from=occurred_from, occurred_to=occurred_to)


@router.get("/orders.parquet", response_class=StreamingResponse, responses=PARQUET_ANSWER)
async def export_orders(reader: ReaderDep, caller: AnalystCaller, filters: OrderFilters,
                        limit: Limit = None) -> StreamingResponse:
    """A filtered order set as Parquet (pseudonymised customer), streamed."""
    pages = _rows(reader.export_orders(filters, limit=limit), order_row)
    return await _parquet_response(pages, ORDER_COLUMNS, "orders.parquet")


@router.get("/timeline.parquet", response_class=StreamingResponse, responses=PARQUET_ANSWER)
async def export_timeline(reader: ReaderDep, caller: AnalystCaller,
                          filters: Annotated[TimelineFilter, Depends(timeline_filter)],
                          limit: Limit = None) -> StreamingResponse:
    """Timelines in bulk (per channel, per store, per period) as Parquet, streamed."""
    pages = _rows(reader.export_timeline(filters, limit=limit), timeline_row)
    return await _parquet_response(pages, TIMELINE_COLUMNS, "timeline.parquet")
