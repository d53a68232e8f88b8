"""CSR free-text search over names, email, phone, references, SKUs and tracking numbers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from order_domain.model import Channel, OrderStatus
from query_api.audit import record_csr_read
from query_api.deps import ReaderDep, StaffCaller
from query_api.lean_route import LeanRoute
from query_api.params import Paging
from query_api.read_port import OrderFilter
from query_api.routes import json_answer
from query_api.schemas import SearchPage
from query_api.views import search_page

router = APIRouter(prefix="/search", tags=["search"], route_class=LeanRoute)


@router.get("", response_model=SearchPage)
async def search_orders(
    request: Request, reader: ReaderDep, caller: StaffCaller, page: Paging,
    q: Annotated[str, Query(min_length=1, max_length=200, examples=["ana smith", "555-0102", "#1042"])],
    channel: Channel | None = None, status: OrderStatus | None = None,
    include_cold: Annotated[bool, Query(description="also cold (archived) orders an exact reference, tracking "
                                        "number, SKU, email or loyalty id names: a locator lookup plus one "
                                        "Parquet read per match, first page only")] = False,
) -> Response:
    """Exact reference matches rank first; typos and partial phones are tolerated. Hot and warm
    orders are searched; cold ones only with `include_cold=true`. Audited: who searched and when
    (never the query text, which is often an email or a phone)."""
    text = q.strip()
    if not text:
        raise HTTPException(400, "q must contain something other than spaces")
    hits = await reader.search(text, caller, filters=OrderFilter(channel=channel, status=status), page=page,
                               include_cold=include_cold)
    await record_csr_read(request, caller)
    return json_answer(search_page(hits, caller, page.next_cursor(hits.next_after)))
