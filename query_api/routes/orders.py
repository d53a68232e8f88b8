"""Order by any reference, and its timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from order_domain.merge import merge_all
from order_domain.model import OrderChange

from query_api.params import Instant
from query_api.deps import EngineDep, NamesDep, ReaderDep
from query_api.queries import reference_query, timeline_query
from query_api.schemas import ErrorBody, OrderOut, Timeline
from query_api.views import order_view

router = APIRouter(prefix="/orders", tags=["orders"])
Reference = Annotated[str, Path(min_length=1, max_length=128, description="global id, web order number, "
                                "POS receipt, marketplace id, call-center ticket, tracking number",
                                examples=["web-450123", "#1042", "1Z999AA10123456784"])]


async def _find(engine: EngineDep, names: NamesDep, reference: str, caller: ReaderDep) -> dict:
    hits = (await engine.search(names.orders, reference_query(reference, caller)))["hits"]["hits"]
    if not hits:
        raise HTTPException(404, f"no order found for reference {reference!r}")
    return hits[0]["_source"]


@router.get("/{reference}", response_model=OrderOut, responses={404: {"model": ErrorBody}})
async def order_by_reference(reference: Reference, engine: EngineDep, names: NamesDep, caller: ReaderDep) -> dict:
    """The order with current status, lines, shipments, masked payments and linked returns."""
    return order_view(await _find(engine, names, reference, caller), caller)


@router.get("/{reference}/timeline", response_model=Timeline, responses={404: {"model": ErrorBody}})
async def order_timeline(
    reference: Reference, engine: EngineDep, names: NamesDep, caller: ReaderDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict:
    """The significant changes of one order, oldest first, with channel and actor."""
    order_id = (await _find(engine, names, reference, caller))["order_id"]
    hits = (await engine.search(names.events, timeline_query(order_id, size=limit)))["hits"]["hits"]
    return {"order_id": order_id, "entries": [hit["_source"] for hit in hits]}


@router.get("/{reference}/as-of", response_model=OrderOut, responses={404: {"model": ErrorBody}})
async def order_as_of(
    reference: Reference, engine: EngineDep, names: NamesDep, caller: ReaderDep,
    at: Annotated[Instant, Query(description="instant, ISO 8601 with offset", examples=["2026-03-06T18:00:00Z"])],
) -> dict:
    """The order as it stood at `at`: the significant changes up to then, merged again."""
    order_id = (await _find(engine, names, reference, caller))["order_id"]
    body = {"size": 1000, "query": {"bool": {"filter": [{"term": {"order_id": order_id}},
                                                         {"range": {"occurred_at": {"lte": at.isoformat()}}}]}},
            "sort": [{"occurred_at": "asc"}, {"entry_id": "asc"}]}
    hits = (await engine.search(names.events, body))["hits"]["hits"]
    events = [OrderChange.model_validate(hit["_source"]["event"]) for hit in hits if hit["_source"].get("event")]
    if not events:
        raise HTTPException(404, f"order {order_id} had no recorded state at {at.isoformat()}")
    return order_view(merge_all(None, events).to_document(), caller)
