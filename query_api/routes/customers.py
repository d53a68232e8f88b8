"""A customer's orders across every channel ("my orders" and the CSR 360° view).

Scope, one rule per role (the read port keeps it, inside the engine query):
- storefront: the orders carrying one of its token's customer keys, and nothing else. A key
  linked only through another order (a phone typed at a POS, a guest checkout's email) is not
  proof that its orders are this customer's, so "my orders" never follows links. The same
  rule serves `/orders/{reference}`: a storefront reads an order by reference exactly when it
  is in its history.
- csr, admin: the 360° view, every key of the key's customer in the identity graph (keys
  joined by any order, through any number of orders, in every tier, minus the pairs a CSR
  unlinked: `order_domain.identity_graph`, `retention.identity_links`), audited (`query_api.audit`).
- analyst: refused; analysts never query by customer key (pseudonyms only).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import Response

from query_api.audit import record_csr_read
from query_api.auth import Role
from query_api.deps import HistoryCaller, ReaderDep
from query_api.lean_route import LeanRoute
from query_api.params import OrderFilters, Paging
from query_api.routes import json_answer
from query_api.schemas import OrderPage
from query_api.views import order_page

router = APIRouter(prefix="/customers", tags=["customers"], route_class=LeanRoute)
CustomerKey = Annotated[str, Path(min_length=3, max_length=200, pattern=r"^[a-z]+:.+$",
                                  examples=["email:ana@example.com", "loyalty:L-1182", "phone:+15550102030"])]


@router.get("/{customer_key}/orders", response_model=OrderPage)
async def customer_orders(customer_key: CustomerKey, request: Request, reader: ReaderDep, caller: HistoryCaller,
                          page: Paging, filters: OrderFilters) -> Response:
    """Newest first, every channel. Staff: every key linked to this one, transitively (guest and
    anonymous-POS orders included). Storefront: only orders carrying one of its token's keys
    (403 for others)."""
    if caller.role is Role.STOREFRONT and customer_key not in caller.customer_keys:
        raise HTTPException(403, "this token may only read its own customer's orders")
    hits = await reader.customer_history(customer_key, caller, filters=filters, page=page)
    await record_csr_read(request, caller, customer_key=customer_key)
    return json_answer(order_page(hits, caller, page.next_cursor(hits.next_after)))
