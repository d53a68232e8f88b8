"""Pseudonymous order rows for the analyst screen's table, timeline explorer and CSV export.

The same rows as the Parquet export (`query_api.routes.export.order_row`: no name, email,
phone or address; the customer is a keyed pseudonym), paged newest first through the read
service like every order list of the API. Analyst and admin only.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from query_api.deps import AnalystCaller, ReaderDep
from query_api.params import OrderFilters, Paging
from query_api.routes.export import order_row

router = APIRouter(prefix="/console/api/analyst", tags=["console"])


@router.get("/orders")
async def analyst_orders(reader: ReaderDep, caller: AnalystCaller, filters: OrderFilters,
                         page: Paging) -> dict[str, Any]:
    """Orders of the current view, newest first, with the customer as a pseudonym."""
    hits = await reader.list_orders(filters=filters, page=page)
    return {"rows": [order_row(item.document) for item in hits.items], "total": hits.total,
            "next_cursor": page.next_cursor(hits.next_after)}
