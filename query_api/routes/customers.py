"""A customer's orders across every channel ("my orders" and the CSR 360° view)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from order_domain.model import Channel, OrderStatus
from query_api.auth import Caller, Role
from query_api.params import Instant
from query_api.deps import EngineDep, NamesDep, ReaderDep, SettingsDep
from query_api.queries import encode_cursor, history_query
from query_api.schemas import ErrorBody, OrderPage
from query_api.views import order_view

router = APIRouter(prefix="/customers", tags=["customers"])
MAX_LINKED_KEYS = 50
CustomerKey = Annotated[str, Path(min_length=3, max_length=200, pattern=r"^[a-z]+:.+$",
                                  examples=["email:ana@example.com", "loyalty:L-1182", "phone:+15550102030"])]


async def linked_keys(engine: EngineDep, names: NamesDep, key: str, caller: Caller) -> list[str]:
    """One hop of identity linking: keys that co-occur with `key` on any order."""
    if caller.role is Role.STOREFRONT:
        return list(caller.customer_keys)
    body = {"size": 0, "query": {"term": {"identity_keys": key}},
            "aggs": {"keys": {"terms": {"field": "identity_keys", "size": MAX_LINKED_KEYS}}}}
    buckets = (await engine.search(names.orders, body))["aggregations"]["keys"]["buckets"]
    return sorted({key, *(bucket["key"] for bucket in buckets)})


@router.get("/{customer_key}/orders", response_model=OrderPage, responses={403: {"model": ErrorBody}})
async def customer_orders(
    customer_key: CustomerKey, engine: EngineDep, names: NamesDep, caller: ReaderDep, settings: SettingsDep,
    size: Annotated[int, Query(ge=1, le=1000)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    channel: Channel | None = None, status: OrderStatus | None = None,
    store_id: Annotated[str | None, Query(max_length=64)] = None,
    placed_from: Instant | None = None, placed_to: Instant | None = None,
) -> dict:
    """Newest first, every channel, including linked guest and anonymous-POS orders."""
    if size > settings.api_max_page_size:
        raise HTTPException(400, f"size must be between 1 and {settings.api_max_page_size}")
    if caller.role is Role.STOREFRONT and customer_key not in caller.customer_keys:
        raise HTTPException(403, "this token may only read its own customer's orders")
    keys = await linked_keys(engine, names, customer_key, caller)
    body = history_query(keys, caller, size=size, cursor=cursor, channel=channel, status=status,
                         store_id=store_id, placed_from=placed_from, placed_to=placed_to)
    answer = await engine.search(names.orders, body)
    hits = answer["hits"]["hits"]
    return {
        "items": [order_view(hit["_source"], caller) for hit in hits],
        "total": answer["hits"]["total"]["value"],
        "next_cursor": encode_cursor(hits[-1]["sort"]) if len(hits) == size else None,
    }
