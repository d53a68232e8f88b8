"""Exports for analysts: filtered orders or timelines as Parquet, streamed page by page.

Pages come from a point in time with search_after, so an export of any size is
consistent and never hits the 10,000-result window; customer identity is
pseudonymised.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from adapters.search_engine import AsyncSearchEngine
from order_domain.model import Channel, OrderStatus
from query_api.analytics_queries import placed_between
from query_api.params import Instant
from query_api.deps import AnalystDep, EngineDep, NamesDep
from query_api.parquet_stream import parquet_stream
from query_api.views import pseudonym

router = APIRouter(prefix="/export", tags=["export"])
PAGE = 2000
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


def _time(value: str | None) -> Instant | None:
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


async def _pages(engine: AsyncSearchEngine, index: str, query: dict[str, Any], sort: list[Any],
                 to_row: Any, limit: int | None) -> AsyncIterator[list[dict[str, Any]]]:
    pit = await engine.open_pit(index)
    sent, after = 0, None
    try:
        while limit is None or sent < limit:
            body: dict[str, Any] = {"size": PAGE if limit is None else min(PAGE, limit - sent),
                                    "query": query, "sort": sort, "track_total_hits": False}
            if after is not None:
                body["search_after"] = after
            hits = (await engine.search_pit(pit, body))["hits"]["hits"]
            if not hits:
                return
            sent += len(hits)
            after = hits[-1]["sort"]
            yield [to_row(hit["_source"]) for hit in hits]
    finally:
        await engine.close_pit(pit)


async def _primed(pages: AsyncIterator[list[dict[str, Any]]]) -> AsyncIterator[list[dict[str, Any]]]:
    """Fetch the first page before the response starts, so engine errors still become 4xx/503."""
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
    return StreamingResponse(stream, media_type="application/vnd.apache.parquet",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/orders.parquet", response_class=StreamingResponse)
async def export_orders(
    engine: EngineDep, names: NamesDep, caller: AnalystDep,
    channel: Channel | None = None, status: OrderStatus | None = None,
    store_id: Annotated[str | None, Query(max_length=64)] = None,
    placed_from: Instant | None = None, placed_to: Instant | None = None,
    limit: Annotated[int | None, Query(ge=1, le=100_000_000)] = None,
) -> StreamingResponse:
    """A filtered order set as Parquet (pseudonymised customer), streamed."""
    filters = placed_between(placed_from, placed_to)
    filters += [{"term": {f: v}} for f, v in (("channel", channel), ("status", status), ("store_id", store_id)) if v]
    pages = _pages(engine, names.orders, {"bool": {"filter": filters}}, [{"order_id": "asc"}], order_row, limit)
    return await _parquet_response(pages, ORDER_COLUMNS, "orders.parquet")


@router.get("/timeline.parquet", response_class=StreamingResponse)
async def export_timeline(
    engine: EngineDep, names: NamesDep, caller: AnalystDep,
    channel: Channel | None = None, store_id: Annotated[str | None, Query(max_length=64)] = None,
    occurred_from: Instant | None = None, occurred_to: Instant | None = None,
    limit: Annotated[int | None, Query(ge=1, le=100_000_000)] = None,
) -> StreamingResponse:
    """Timelines in bulk (per channel, per store, per period) as Parquet, streamed."""
    filters: list[dict[str, Any]] = [{"term": {f: v}} for f, v in (("channel", channel), ("store_id", store_id)) if v]
    if occurred_from or occurred_to:
        filters.append({"range": {"occurred_at": {op: v.isoformat() for op, v in
                                                  (("gte", occurred_from), ("lt", occurred_to)) if v}}})
    pages = _pages(engine, names.events, {"bool": {"filter": filters}}, [{"entry_id": "asc"}], timeline_row, limit)
    return await _parquet_response(pages, TIMELINE_COLUMNS, "timeline.parquet")
