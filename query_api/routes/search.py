"""CSR free-text search over names, email, phone, references, SKUs and tracking numbers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request

from order_domain.model import Channel, OrderStatus
from query_api.audit import record_csr_read
from query_api.deps import ReaderDep, StaffCaller
from query_api.params import Paging
from query_api.read_port import OrderFilter
from query_api.schemas import SearchPage
from query_api.views import search_page

router = APIRouter(prefix="/search", tags=["search"])


@router.get("", response_model=SearchPage)
async def search_orders(
    request: Request, reader: ReaderDep, caller: StaffCaller, page: Paging,
    q: Annotated[str, Query(min_length=1, max_length=200, examples=["ana smith", "555-0102", "#1042"])],
    channel: Channel | None = None, status: OrderStatus | None = None,
) -> SearchPage:
    """Exact reference matches rank first; typos and partial phones are tolerated. Audited: who
    searched and when (never the query text, which is often an email or a phone)."""
    text = q.strip()
    if not text:
        raise HTTPException(400, "q must contain something other than spaces")
    hits = await reader.search(text, caller, filters=OrderFilter(channel=channel, status=status), page=page)
    await record_csr_read(request, caller)
    return search_page(hits, caller, page.next_cursor(hits.next_after))
