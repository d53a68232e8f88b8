"""A customer's orders across every channel ("my orders" and the CSR 360° view)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path

from query_api.auth import Role
from query_api.deps import AnyCaller, ReaderDep
from query_api.params import OrderFilters, Paging, encode_cursor
from query_api.schemas import ErrorBody, OrderPage
from query_api.views import order_page

router = APIRouter(prefix="/customers", tags=["customers"])
CustomerKey = Annotated[str, Path(min_length=3, max_length=200, pattern=r"^[a-z]+:.+$",
                                  examples=["email:ana@example.com", "loyalty:L-1182", "phone:+15550102030"])]


@router.get("/{customer_key}/orders", response_model=OrderPage, responses={403: {"model": ErrorBody}})
async def customer_orders(customer_key: CustomerKey, reader: ReaderDep, caller: AnyCaller, page: Paging,
                          filters: OrderFilters) -> OrderPage:
    """Newest first, every channel, including linked guest and anonymous-POS orders."""
    if caller.role is Role.STOREFRONT and customer_key not in caller.customer_keys:
        raise HTTPException(403, "this token may only read its own customer's orders")
    hits = await reader.customer_history(customer_key, caller, filters=filters, page=page)
    return order_page(hits, caller, encode_cursor(hits.next_after))
