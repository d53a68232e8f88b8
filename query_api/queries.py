"""Engine query bodies for each read (pure: builds dicts, no I/O).

Storefront callers get their customer-key filter inside every query, so isolation
is enforced by the engine, not by post-filtering.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime
from typing import Any

import orjson

from query_api.auth import Caller, Role

NEWEST_FIRST = [{"placed_at": {"order": "desc", "missing": "_last"}}, {"order_id": "asc"}]
# Stored for merging and matching, never answered: three quarters of an order's bytes (the merge
# stamps alone are two thirds), which the engine would otherwise serialise and the API parse and drop.
STORED_ONLY_FIELDS = ("stamps", "search", "facts")
ORDER_ANSWER_SOURCE = {"excludes": list(STORED_ONLY_FIELDS)}
# A timeline entry keeps the original event for as-of replays; timelines answer without it.
TIMELINE_ANSWER_SOURCE = {"excludes": ["event"]}
_DIGITS = re.compile(r"\D+")


class BadCursor(ValueError):
    pass


def encode_cursor(sort_values: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(sort_values)).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, orjson.JSONDecodeError) as error:
        raise BadCursor("malformed cursor: pass back the `next_cursor` of the previous page unchanged") from error
    if not isinstance(values, list) or not values or len(values) > 4 or not all(
        isinstance(v, str | int | float) or v is None for v in values
    ):
        raise BadCursor("malformed cursor: pass back the `next_cursor` of the previous page unchanged")
    return values


def isolation_filter(caller: Caller) -> list[dict[str, Any]]:
    if caller.role is Role.STOREFRONT:
        return [{"terms": {"identity_keys": list(caller.customer_keys)}}]
    return []


def reference_query(reference: str, caller: Caller) -> dict[str, Any]:
    return {
        "size": 1, "_source": ORDER_ANSWER_SOURCE,
        "query": {"bool": {
            "should": [{"term": {"order_id": reference}}, {"term": {"search.refs": reference}}],
            "minimum_should_match": 1,
            "filter": isolation_filter(caller),
        }},
    }


def history_query(
    keys: list[str], caller: Caller, *, size: int, cursor: str | None,
    channel: str | None = None, status: str | None = None, store_id: str | None = None,
    placed_from: datetime | None = None, placed_to: datetime | None = None,
) -> dict[str, Any]:
    filters: list[dict[str, Any]] = [{"terms": {"identity_keys": keys}}, *isolation_filter(caller)]
    filters += [{"term": {field: value}} for field, value in
                (("channel", channel), ("status", status), ("store_id", store_id)) if value]
    if placed_from or placed_to:
        bounds = {op: value.isoformat() for op, value in (("gte", placed_from), ("lt", placed_to)) if value}
        filters.append({"range": {"placed_at": bounds}})
    body: dict[str, Any] = {"size": size, "query": {"bool": {"filter": filters}}, "sort": NEWEST_FIRST,
                            "track_total_hits": True, "_source": ORDER_ANSWER_SOURCE}
    if cursor:
        body["search_after"] = decode_cursor(cursor)
    return body


def search_query(text: str, caller: Caller, *, size: int, cursor: str | None,
                 channel: str | None = None, status: str | None = None) -> dict[str, Any]:
    """Exact references first, then phones (any formatting, partial), then fuzzy names/emails/SKUs."""
    digits = _DIGITS.sub("", text)
    should: list[dict[str, Any]] = [
        {"term": {"search.refs": {"value": text, "boost": 50}}},
        {"match": {"search.text": {"query": text, "fuzziness": "AUTO", "operator": "and", "boost": 3}}},
        {"match": {"search.text.partial": {"query": text, "operator": "and"}}},
    ]
    if len(digits) >= 4:
        should += [{"term": {"search.phones": {"value": digits, "boost": 20}}},
                   {"match": {"search.phones.partial": {"query": digits, "boost": 5}}}]
    filters = [*isolation_filter(caller)]
    filters += [{"term": {field: value}} for field, value in (("channel", channel), ("status", status)) if value]
    body: dict[str, Any] = {
        "size": size, "track_total_hits": True, "_source": ORDER_ANSWER_SOURCE,
        "query": {"bool": {"should": should, "minimum_should_match": 1, "filter": filters}},
        "sort": ["_score", {"order_id": "asc"}],
        "aggs": {"channel": {"terms": {"field": "channel"}}, "status": {"terms": {"field": "status"}},
                 "store": {"terms": {"field": "store_id", "size": 20}}},
    }
    if cursor:
        body["search_after"] = decode_cursor(cursor)
    return body


def timeline_query(order_id: str, *, size: int) -> dict[str, Any]:
    return {"size": size, "query": {"term": {"order_id": order_id}}, "_source": TIMELINE_ANSWER_SOURCE,
            "sort": [{"occurred_at": "asc"}, {"entry_id": "asc"}]}
