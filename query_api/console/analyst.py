"""Pseudonymous order rows for the analyst screen's table, timeline explorer and CSV export.

The same rows as the Parquet export (`query_api.routes.export.order_row`: no name, email,
phone or address; the customer is a keyed pseudonym), paged newest first as JSON so the
screen can list and group them. Analyst and admin only.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from order_domain.model import Channel, OrderStatus
from query_api.analytics_queries import placed_between
from query_api.deps import AnalystDep, EngineDep, NamesDep, SettingsDep
from query_api.params import Instant
from query_api.queries import NEWEST_FIRST, decode_cursor, encode_cursor
from query_api.routes.export import order_row

router = APIRouter(prefix="/console/api/analyst", tags=["console"])
ROW_SOURCE = ["order_id", "channel", "status", "placed_at", "updated_at", "store_id", "currency", "totals.total",
              "facts", "identity_keys"]


@router.get("/orders")
async def analyst_orders(
    engine: EngineDep, names: NamesDep, caller: AnalystDep, settings: SettingsDep,
    channel: Channel | None = None, status: OrderStatus | None = None,
    placed_from: Instant | None = None, placed_to: Instant | None = None,
    size: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> dict[str, Any]:
    """Orders of the current view, newest first, with the customer as a pseudonym."""
    if size > settings.api_max_page_size:
        raise HTTPException(400, f"size must be between 1 and {settings.api_max_page_size}")
    if placed_from and placed_to and placed_from >= placed_to:
        raise HTTPException(400, "`placed_from` must be before `placed_to`")
    filters = placed_between(placed_from, placed_to)
    filters += [{"term": {f: v}} for f, v in (("channel", channel), ("status", status)) if v]
    # newest-first search_after paging, the same contract as every order list of the API
    after = {"search_after": decode_cursor(cursor)} if cursor else {}
    answer = await engine.search(names.orders, {"size": size, "sort": NEWEST_FIRST, "track_total_hits": True,
                                                "_source": ROW_SOURCE, "query": {"bool": {"filter": filters}}, **after})
    hits = answer["hits"]["hits"]
    last = hits[-1]["sort"] if len(hits) == size else None
    return {"rows": [order_row(hit["_source"]) for hit in hits], "total": answer["hits"]["total"]["value"],
            "next_cursor": encode_cursor(last) if last else None}
