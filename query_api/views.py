"""Shapes stored documents into answers for a caller's role (pure).

- storefront (its own orders only, enforced by the read) and staff (csr, admin): the order
  with shipping address and payments. Payment data is masked at ingest and stays masked
  here: method, card brand and last four digits, amounts and refunds; never a card token.
- analyst: neither address nor payment, and a pseudonym instead of customer identity; in
  timelines, linked identity keys become their pseudonyms and address changes show no address
  (the change itself stays: that the address changed is not personal data).

Answers are built as JSON-ready dicts, not validated models: each role's view is a precomputed
whitelist projection of the response model (`query_api.projection`), so a field the model does
not declare, or the role hides, never reaches an answer; the routes write them as JSON bytes and
keep `response_model` to publish the schema.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from order_domain.significance import TIMELINE_RULES
from query_api.auth import Caller, Role
from query_api.read_port import OrderHits, StoredOrder, TimelineHits
from query_api.projection import projection
from query_api.pseudonyms import pseudonym
from query_api.schemas import AddressOut, CustomerOut, OrderOut, ReferenceMatch, TimelineEntryOut

_PRIVATE_TO_ANALYSTS = ("shipping_address", "payments")
_IDENTITY_PATHS = frozenset({"identity_keys", "shipping_address"})  # timeline changes that name the customer
_NO_CUSTOMER = dict.fromkeys(CustomerOut.model_fields)
_SET_BY_THE_VIEW = frozenset({"customer", "payment", "tier"})  # computed per answer, never a stored value
# compiled once: every role's whitelist of stored fields; the customer's identity only by its declared
# fields (never `card_token`), the pseudonym only for analysts
_ORDER = projection(OrderOut, computed=_SET_BY_THE_VIEW)
_ORDER_FOR_ANALYSTS = projection(OrderOut, frozenset(_PRIVATE_TO_ANALYSTS), _SET_BY_THE_VIEW)
_CUSTOMER = projection(CustomerOut, frozenset({"pseudonym"}))
_ADDRESS = projection(AddressOut)
_ENTRY = projection(TimelineEntryOut, frozenset({"changes"}))
_ZERO = Decimal(0)
OrderView = Callable[[StoredOrder], dict[str, Any]]


def _amount(value: Any) -> Decimal:
    return Decimal(value if type(value) is str else str(value))


def payment_summary(payments: list[dict[str, Any]]) -> dict[str, Any] | None:
    """`PaymentSummary` in JSON form (money as decimal strings), in one pass over the payments."""
    if not payments:
        return None
    authorized = captured = refunded = _ZERO
    methods: set[str] = set()
    cards: list[str] = []
    for payment in payments:
        get = payment.get
        if (value := get("authorized")) is not None:
            authorized += _amount(value)
        if (value := get("captured")) is not None:
            captured += _amount(value)
        if (value := get("refunded")) is not None:
            refunded += _amount(value)
        if method := get("method"):
            methods.add(method)
        if last4 := get("last4"):
            cards.append(f"{get('brand') or 'card'} •••• {last4}")
    return {"methods": sorted(methods), "cards": cards, "authorized": str(authorized), "captured": str(captured),
            "refunded": str(refunded), "net": str(captured - refunded)}


def _staff_view(stored: StoredOrder) -> dict[str, Any]:
    """Storefront (its own orders), csr, admin: the order with its customer, address and masked payments."""
    document = stored.document
    answer = _ORDER(document)
    answer["customer"] = _CUSTOMER(document.get("customer") or {})
    answer["payment"] = payment_summary(document.get("payments") or [])
    answer["tier"] = stored.tier.value
    return answer


def _analyst_view(stored: StoredOrder) -> dict[str, Any]:
    """Analysts: no address, no payment, a pseudonym instead of the customer."""
    document = stored.document
    answer = _ORDER_FOR_ANALYSTS(document)
    keys = document.get("identity_keys") or []
    answer["customer"] = {**_NO_CUSTOMER, "pseudonym": pseudonym(keys[0]) if keys else None}
    answer["tier"] = stored.tier.value
    return answer


def view_for(caller: Caller) -> OrderView:
    """The caller's role's order view, chosen once per answer (a page applies it to every item)."""
    return _analyst_view if caller.role is Role.ANALYST else _staff_view


def order_view(stored: StoredOrder, caller: Caller) -> dict[str, Any]:
    """`OrderOut` in JSON form for the caller's role (the role's projection, see the module docstring)."""
    return view_for(caller)(stored)


def order_page(hits: OrderHits, caller: Caller, next_cursor: str | None) -> dict[str, Any]:
    """`OrderPage` in JSON form."""
    view = view_for(caller)
    return {"items": [view(item) for item in hits.items], "total": hits.total, "next_cursor": next_cursor}


def search_page(hits: OrderHits, caller: Caller, next_cursor: str | None) -> dict[str, Any]:
    """`SearchPage` in JSON form."""
    return {**order_page(hits, caller, next_cursor), "facets": hits.facets}


def reference_match(stored: StoredOrder) -> ReferenceMatch:
    document = stored.document
    return ReferenceMatch(order_id=document["order_id"], channel=document.get("channel"),
                          store_id=document.get("store_id"), placed_at=document.get("placed_at"),
                          status=document.get("status", "pending"), tier=stored.tier)


def field_change(path: str, value: Any, caller: Caller) -> dict[str, Any]:
    """The stored `changes` map (path -> new value) as a `FieldChange` in JSON form: a collection path
    ("returns[]") holds {"added": ids}, an item path ("lines[].status") holds {item id: value}.
    Analysts get identity keys as pseudonyms and no address (see the module docstring)."""
    change = {"path": path, "category": TIMELINE_RULES.get(path, "other"), "value": None, "values": [],
              "added": [], "items": {}, "address": None}
    if caller.role is Role.ANALYST and path in _IDENTITY_PATHS:
        if path == "identity_keys":
            change["values"] = [pseudonym(str(key)) for key in value or []]
        return change
    if path.endswith("[]"):
        change["added"] = [str(item) for item in (value or {}).get("added", [])]
    elif "[]." in path:
        change["items"] = {str(k): v if v is None or isinstance(v, str | int | float) else str(v)
                           for k, v in (value or {}).items()}
    elif path == "shipping_address":
        change["address"] = _ADDRESS(value) if value else None
    elif isinstance(value, list):
        change["values"] = [str(item) for item in value]
    else:
        change["value"] = value if value is None or isinstance(value, str | int | float) else str(value)
    return change


def timeline_view(hits: TimelineHits, caller: Caller) -> dict[str, Any]:
    """`Timeline` in JSON form."""
    entries = [{**_ENTRY(entry), "changes": [field_change(path, value, caller)
                                             for path, value in sorted((entry.get("changes") or {}).items())]}
               for entry in hits.entries]
    return {"order_id": hits.order_id, "entries": entries, "tier": hits.tier.value}
