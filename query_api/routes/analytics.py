"""Analysts: aggregates, as-of questions, bulk timelines."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query

from order_domain.model import Channel, OrderStatus
from query_api.analytics_queries import (
    cross_channel_journeys,
    fulfillment_percentiles,
    in_state_at,
    placed_between,
    rates_by_channel,
    sales_by_channel,
)
from query_api.auth import Caller, Role
from query_api.params import Instant
from query_api.deps import EngineDep, NamesDep, SettingsDep, require
from query_api.queries import NEWEST_FIRST, ORDER_ANSWER_SOURCE, decode_cursor, encode_cursor
from query_api.schemas import OrderPage
from query_api.views import order_view

router = APIRouter(prefix="/analytics", tags=["analytics"])
AnalyticsCaller = Annotated[Caller, Depends(require(Role.ANALYST, Role.CSR, Role.ADMIN))]
From = Annotated[Instant | None, Query(description="placed at or after (ISO 8601 with offset)")]
To = Annotated[Instant | None, Query(description="placed before (ISO 8601 with offset)")]


def _check_range(placed_from: Instant | None, placed_to: Instant | None) -> list[dict[str, Any]]:
    if placed_from and placed_to and placed_from >= placed_to:
        raise HTTPException(400, "`placed_from` must be before `placed_to`")
    return placed_between(placed_from, placed_to)


@router.get("/sales")
async def sales(engine: EngineDep, names: NamesDep, caller: AnalyticsCaller, placed_from: From = None,
                placed_to: To = None, interval: Literal["day", "week", "month"] = "day") -> dict:
    """Orders and revenue per channel per day (or week / month)."""
    answer = await engine.search(names.orders, sales_by_channel(interval, _check_range(placed_from, placed_to)))
    rows = [{"period": period["key_as_string"], "channel": channel["key"], "orders": channel["doc_count"],
             "revenue": round(channel["revenue"]["value"], 2)}
            for period in answer["aggregations"]["period"]["buckets"] for channel in period["channel"]["buckets"]]
    return {"interval": interval, "rows": rows}


@router.get("/fulfillment-times")
async def fulfillment_times(engine: EngineDep, names: NamesDep, caller: AnalyticsCaller,
                            placed_from: From = None, placed_to: To = None) -> dict:
    """Hours from placing to delivery/completion, p50/p90/p99 by fulfillment type."""
    answer = await engine.search(names.orders, fulfillment_percentiles(_check_range(placed_from, placed_to)))
    return {"by_fulfillment_type": {
        bucket["key"]: {"orders": bucket["doc_count"],
                        **{f"p{float(k):g}": v for k, v in bucket["hours"]["values"].items()}}
        for bucket in answer["aggregations"]["type"]["buckets"]}}


@router.get("/rates")
async def rates(engine: EngineDep, names: NamesDep, caller: AnalyticsCaller,
                placed_from: From = None, placed_to: To = None) -> dict:
    """Cancellation and return rates by channel."""
    answer = await engine.search(names.orders, rates_by_channel(_check_range(placed_from, placed_to)))
    return {"by_channel": {
        b["key"]: {"orders": b["doc_count"], "cancelled": b["cancelled"]["doc_count"],
                   "cancellation_rate": round(b["cancelled"]["doc_count"] / b["doc_count"], 4),
                   "returned": b["returned"]["doc_count"],
                   "return_rate": round(b["returned"]["doc_count"] / b["doc_count"], 4)}
        for b in answer["aggregations"]["channel"]["buckets"]}}


@router.get("/cross-channel-journeys")
async def journeys(engine: EngineDep, names: NamesDep, caller: AnalyticsCaller,
                   placed_from: From = None, placed_to: To = None) -> dict:
    """Where orders were bought and where they came back (e.g. bought online, returned in store)."""
    answer = await engine.search(names.orders, cross_channel_journeys(_check_range(placed_from, placed_to)))
    return {"journeys": [
        {"bought_on": bought["key"], "returned_on": returned["key"], "orders": returned["doc_count"]}
        for bought in answer["aggregations"]["bought"]["buckets"] for returned in bought["returned"]["buckets"]]}


@router.get("/orders-in-state", response_model=OrderPage)
async def orders_in_state(
    engine: EngineDep, names: NamesDep, caller: AnalyticsCaller, settings: SettingsDep,
    status: OrderStatus, at: Instant, store_id: Annotated[str | None, Query(max_length=64)] = None,
    channel: Channel | None = None, size: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> dict:
    """The orders that were in `status` at instant `at` (e.g. awaiting pickup in a store last Friday 18:00)."""
    if size > settings.api_max_page_size:
        raise HTTPException(400, f"size must be between 1 and {settings.api_max_page_size}")
    filters = [in_state_at(status, at)]
    filters += [{"term": {f: v}} for f, v in (("store_id", store_id), ("channel", channel)) if v]
    body: dict[str, Any] = {"size": size, "query": {"bool": {"filter": filters}}, "sort": NEWEST_FIRST,
                            "track_total_hits": True, "_source": ORDER_ANSWER_SOURCE}
    if cursor:
        body["search_after"] = decode_cursor(cursor)
    answer = await engine.search(names.orders, body)
    hits = answer["hits"]["hits"]
    return {"items": [order_view(h["_source"], caller) for h in hits], "total": answer["hits"]["total"]["value"],
            "next_cursor": encode_cursor(hits[-1]["sort"]) if len(hits) == size else None}
