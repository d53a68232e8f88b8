"""Order by any reference, its timeline and its state at an instant.

A reference resolves to one order when it is an order's global id or when exactly one
order carries it; when several orders carry it (the same number in two channels, a reused
POS receipt number) the answer is HTTP 300 listing every match with channel, store and
date, and the client asks again with the chosen global `order_id`.

Staff reads are audited (`query_api.audit`): one entry per order shown, the 300 answer's
matches included, with the pseudonym of the order's first customer key.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response

from query_api.audit import record_csr_read
from query_api.auth import Caller
from query_api.deps import AnyCaller, ReaderDep
from query_api.errors import AmbiguousReference, error_responses
from query_api.lean_route import LeanRoute
from query_api.params import Instant
from query_api.read_port import OrderReader, StoredOrder, lookup_and_timeline, timeline_of
from query_api.routes import json_answer
from query_api.schemas import ErrorBody, OrderOut, ReferenceMatches, Timeline
from query_api.views import order_view, timeline_view

router = APIRouter(prefix="/orders", tags=["orders"], route_class=LeanRoute)
Reference = Annotated[str, Path(min_length=1, max_length=128, description="global id, web order number, "
                                "POS receipt, marketplace id, call-center ticket, purchase order, tracking number",
                                examples=["web-450123", "#1042", "1Z999AA10123456784"])]
ANSWERS = {300: {"model": ReferenceMatches, "description": "several orders carry this reference: choose one "
                  "`order_id` and ask again"}, **error_responses(ErrorBody, 404)}


async def audit_order(request: Request, caller: Caller, order: StoredOrder) -> None:
    keys = order.document.get("identity_keys") or []
    await record_csr_read(request, caller, customer_key=keys[0] if keys else None,
                          order_id=order.document["order_id"])


async def resolve(request: Request, reader: OrderReader, reference: str, caller: Caller) -> StoredOrder:
    """The one order a reference names (audited for staff); 404 when none, 300 when several."""
    return await shown_order(request, reference, caller, await reader.find_by_reference(reference, caller))


async def shown_order(request: Request, reference: str, caller: Caller, matches: list[StoredOrder]) -> StoredOrder:
    """The one order of a reference's matches (audited for staff); 404 when none, 300 when several."""
    by_id = [match for match in matches if match.document["order_id"] == reference]
    if not by_id and not matches:
        raise HTTPException(404, f"no order found for reference {reference!r}")
    shown = by_id[:1] or matches  # a global id names exactly one order
    for order in shown:
        await audit_order(request, caller, order)
    if len(shown) > 1:
        raise AmbiguousReference(reference, shown)
    return shown[0]


@router.get("/{reference}", response_model=OrderOut, responses=ANSWERS)
async def order_by_reference(reference: Reference, request: Request, reader: ReaderDep,
                             caller: AnyCaller) -> Response:
    """The order with current status, lines, shipments, shipping address, masked payments and returns."""
    return json_answer(order_view(await resolve(request, reader, reference, caller), caller))


@router.get("/{reference}/timeline", response_model=Timeline, responses=ANSWERS)
async def order_timeline(
    reference: Reference, request: Request, reader: ReaderDep, caller: AnyCaller,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Response:
    """The significant changes of one order, oldest first, with channel and actor."""
    matches, early = await lookup_and_timeline(reader, reference, caller, limit=limit)  # one round trip
    order = await shown_order(request, reference, caller, matches)
    hits = timeline_of(order, early) or await reader.timeline(order.document["order_id"], limit=limit, tier=order.tier)
    return json_answer(timeline_view(hits, caller))


@router.get("/{reference}/as-of", response_model=OrderOut, responses=ANSWERS)
async def order_as_of(
    reference: Reference, request: Request, reader: ReaderDep, caller: AnyCaller,
    at: Annotated[Instant, Query(description="instant, ISO 8601 with offset", examples=["2026-03-06T18:00:00Z"])],
) -> Response:
    """The order as it stood at `at`: the significant changes up to then, merged again."""
    order_id = (await resolve(request, reader, reference, caller)).document["order_id"]
    then = await reader.as_of(order_id, at)
    if then is None:
        raise HTTPException(404, f"order {order_id} had no recorded state at {at.isoformat()}")
    return json_answer(order_view(then, caller))
