"""CSR free-text search over names, email, phone, references, SKUs and tracking numbers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from order_domain.model import Channel, OrderStatus
from query_api.deps import EngineDep, NamesDep, SettingsDep, StaffDep
from query_api.queries import encode_cursor, search_query
from query_api.schemas import SearchPage
from query_api.views import order_view

router = APIRouter(prefix="/search", tags=["search"])


@router.get("", response_model=SearchPage)
async def search_orders(
    engine: EngineDep, names: NamesDep, caller: StaffDep, settings: SettingsDep,
    q: Annotated[str, Query(min_length=1, max_length=200, examples=["ana smith", "555-0102", "#1042"])],
    size: Annotated[int, Query(ge=1, le=1000)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    channel: Channel | None = None, status: OrderStatus | None = None,
) -> dict:
    """Exact reference matches rank first; typos and partial phones are tolerated."""
    if size > settings.api_max_page_size:
        raise HTTPException(400, f"size must be between 1 and {settings.api_max_page_size}")
    text = q.strip()
    if not text:
        raise HTTPException(400, "q must contain something other than spaces")
    answer = await engine.search(names.orders, search_query(text, caller, size=size, cursor=cursor,
                                                      channel=channel, status=status))
    hits = answer["hits"]["hits"]
    return {
        "items": [order_view(hit["_source"], caller) for hit in hits],
        "total": answer["hits"]["total"]["value"],
        "next_cursor": encode_cursor(hits[-1]["sort"]) if len(hits) == size else None,
        "facets": {name: {b["key"]: b["doc_count"] for b in agg["buckets"]}
                   for name, agg in answer.get("aggregations", {}).items()},
    }
