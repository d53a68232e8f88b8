"""Shapes stored documents for a caller's role (pure). Payment data is always masked at
ingest (brand + last4 only); analysts see pseudonyms instead of customer identity."""

from __future__ import annotations

from typing import Any

from query_api.auth import Caller, Role
from query_api.pseudonyms import pseudonym
from query_api.queries import STORED_ONLY_FIELDS

_INTERNAL = (*STORED_ONLY_FIELDS, "identity_keys")  # also when a query fetched the whole document


def order_view(source: dict[str, Any], caller: Caller) -> dict[str, Any]:
    view = {key: value for key, value in source.items() if key not in _INTERNAL}
    if caller.role is Role.ANALYST:
        keys = source.get("identity_keys") or []
        view["customer"] = {"pseudonym": pseudonym(keys[0])} if keys else {}
        view.pop("shipping_address", None)
    return view
