"""Engine query bodies for every read: filters, paging and aggregations in one place
(pure: builds dicts, no I/O; `query_api.engine_reader` sends them).

Storefront callers get their customer-key filter inside every query, so isolation
is enforced by the engine, not by post-filtering. Paged queries sort by a total order
that ends in `order_id` and continue with `search_after`, so a page boundary is a sort
key that means the same in every tier.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from order_domain.model import STATUS_RANK, OrderStatus
from query_api.auth import Caller, Role
from query_api.read_port import MAX_REFERENCE_MATCHES, OrderFilter, PageRequest, TimelineFilter

NEWEST_FIRST = [{"placed_at": {"order": "desc", "missing": "_last"}}, {"order_id": "asc"}]
# Stored for merging and matching, never answered: three quarters of an order's bytes (the merge
# stamps alone are two thirds), which the engine would otherwise serialise and the API parse and drop.
STORED_ONLY_FIELDS = ("stamps", "search", "facts", "event_entries")
ORDER_ANSWER_SOURCE = {"excludes": list(STORED_ONLY_FIELDS)}
# A timeline entry keeps the original event for as-of replays; timelines answer without it.
TIMELINE_ANSWER_SOURCE = {"excludes": ["event"]}
MAX_TIMELINE_ENTRIES = 1000
_DIGITS = re.compile(r"\D+")


def isolation_filter(caller: Caller) -> list[dict[str, Any]]:
    if caller.role is Role.STOREFRONT:
        return [{"terms": {"identity_keys": list(caller.customer_keys)}}]
    return []


def time_range(field: str, start: datetime | None, end: datetime | None) -> list[dict[str, Any]]:
    """`start` inclusive, `end` exclusive; no clause when both are open."""
    if not (start or end):
        return []
    return [{"range": {field: {op: v.isoformat() for op, v in (("gte", start), ("lt", end)) if v}}}]


def order_filters(filters: OrderFilter) -> list[dict[str, Any]]:
    terms = (("channel", filters.channel), ("status", filters.status), ("store_id", filters.store_id))
    return [{"term": {field: value}} for field, value in terms if value] + time_range(
        "placed_at", filters.placed_from, filters.placed_to)


def timeline_export_query(filters: TimelineFilter) -> dict[str, Any]:
    return {"bool": {"filter": timeline_filters(filters), **SHOWN_ENTRIES}}


def timeline_filters(filters: TimelineFilter) -> list[dict[str, Any]]:
    terms = (("channel", filters.channel), ("store_id", filters.store_id))
    return [{"term": {field: value}} for field, value in terms if value] + time_range(
        "occurred_at", filters.occurred_from, filters.occurred_to)


def paged(body: dict[str, Any], page: PageRequest) -> dict[str, Any]:
    body["size"] = page.size
    if page.after is not None:
        body["search_after"] = page.after
    return body


def reference_spellings(reference: str) -> list[str]:
    """A web order number is written "#1042" and typed "1042": both spellings match."""
    bare = reference.lstrip("#") or reference
    return sorted({reference, bare, f"#{bare}"})


def reference_query(reference: str, caller: Caller) -> dict[str, Any]:
    """Reference fields only (global id, every reference value, tracking numbers): a SKU, an email
    or a loyalty id is not an order reference. Every match is returned, newest first."""
    spellings = reference_spellings(reference)
    return {
        "size": MAX_REFERENCE_MATCHES, "_source": ORDER_ANSWER_SOURCE, "sort": NEWEST_FIRST,
        "query": {"bool": {
            "should": [{"term": {"order_id": reference}}, {"terms": {"references.value": spellings}},
                       {"nested": {"path": "shipments", "query": {"term": {"shipments.tracking_number": reference}}}}],
            "minimum_should_match": 1,
            "filter": isolation_filter(caller),
        }},
    }


def history_query(keys: list[str], caller: Caller, *, filters: OrderFilter, page: PageRequest) -> dict[str, Any]:
    query = {"bool": {"filter": [{"terms": {"identity_keys": keys}}, *isolation_filter(caller),
                                 *order_filters(filters)]}}
    return paged({"query": query, "sort": NEWEST_FIRST, "track_total_hits": True,
                  "_source": ORDER_ANSWER_SOURCE}, page)


# A typo is tolerated after the first letter: the edit-distance automaton then walks only the terms
# that share it, which took 31% (30,000 orders) and 42% (100,000) off the query's shard time (bench.search_cost).
FUZZY_PREFIX = 1


def search_facets() -> dict[str, Any]:
    """The facets of a first search page, a new dict each time (a body is the caller's to extend)."""
    return {"channel": {"terms": {"field": "channel"}}, "status": {"terms": {"field": "status"}},
            "store": {"terms": {"field": "store_id", "size": 20}}}


def search_query(text: str, caller: Caller, *, filters: OrderFilter, page: PageRequest) -> dict[str, Any]:
    """Exact references first, then phones (any formatting, partial), then fuzzy names/emails/SKUs.

    Facets (channel, status, store) come with the first page only: they count the whole result,
    which a later page repeats, and they make the engine visit every match. On a hot index the
    warm-only clause costs nothing: its `_index` filter rewrites it away before any term is read."""
    digits = _DIGITS.sub("", text)
    should: list[dict[str, Any]] = [
        {"term": {"search.refs": {"value": text, "boost": 50}}},
        {"match": {"search.text": {"query": text, "fuzziness": "AUTO", "prefix_length": FUZZY_PREFIX, "operator": "and",
                                   "boost": 3}}},
        {"match": {"search.text.partial": {"query": text, "operator": "and"}}},
    ]
    if len(digits) >= 4:
        should += [{"term": {"search.phones": {"value": digits, "boost": 20}}},
                   {"match": {"search.phones.partial": {"query": digits, "boost": 5}}}]
    should.append(_warm_partial(text, digits))
    body: dict[str, Any] = {
        "track_total_hits": True, "_source": ORDER_ANSWER_SOURCE,
        "query": {"bool": {"should": should, "minimum_should_match": 1,
                           "filter": [*isolation_filter(caller), *order_filters(filters)]}},
        "sort": ["_score", {"order_id": "asc"}],
    }
    if page.after is None:  # facets describe the whole result: the first page shows them, later pages repeat nothing
        body["aggs"] = search_facets()
    return paged(body, page)


def _warm_partial(text: str, digits: str) -> dict[str, Any]:
    """Warm indices have no n-gram subfields (idle, read-only, kept small): there, prefixes of
    words and partial phone numbers are matched at query time, on warm indices only."""
    partial: list[dict[str, Any]] = [{"match_bool_prefix": {"search.text": {"query": text, "operator": "and"}}}]
    if len(digits) >= 4:
        partial.append({"wildcard": {"search.phones": {"value": f"*{digits}*"}}})
    return {"bool": {"filter": [{"wildcard": {"_index": "*-warm-*"}}], "should": partial, "minimum_should_match": 1}}


# Every event of an order is stored; the timeline shows the ones that changed something
# (`significant`; documents from before the flag have none and are shown), in event-time order.
SHOWN_ENTRIES = {"must_not": [{"term": {"significant": False}}]}
EVENT_TIME_ORDER = [{"occurred_at": "asc"}, {"source_version": {"order": "asc", "unmapped_type": "long"}},
                    {"event_id": "asc"}]


def timeline_query(order_id: str, *, size: int) -> dict[str, Any]:
    return {"size": size, "query": {"bool": {"filter": [{"term": {"order_id": order_id}}], **SHOWN_ENTRIES}},
            "_source": TIMELINE_ANSWER_SOURCE, "sort": EVENT_TIME_ORDER}


def as_of_query(order_id: str, at: datetime) -> dict[str, Any]:
    """The entries (with their original events) recorded up to `at`."""
    return {"size": MAX_TIMELINE_ENTRIES, "sort": EVENT_TIME_ORDER, "_source": ["event"],
            "query": {"bool": {"filter": [{"term": {"order_id": order_id}},
                                          {"range": {"occurred_at": {"lte": at.isoformat()}}}]}}}


def in_state_at(status: OrderStatus, at: datetime) -> dict[str, Any]:
    """Reached `status` by `at`, and no higher-ranked status by then (statuses only move up)."""
    higher = [s for s in OrderStatus if STATUS_RANK[s] > STATUS_RANK[status]]
    return {"bool": {
        "filter": [{"range": {f"status_history.{status.value}": {"lte": at.isoformat()}}}],
        "must_not": [{"range": {f"status_history.{s.value}": {"lte": at.isoformat()}}} for s in higher],
    }}


def orders_query(*, filters: OrderFilter, page: PageRequest) -> dict[str, Any]:
    """Every order the filters select, newest first (the analyst's current view, which reads
    the derived facts as the export does)."""
    query = {"bool": {"filter": order_filters(filters)}}
    source = {"excludes": [field for field in STORED_ONLY_FIELDS if field != "facts"]}
    return paged({"query": query, "sort": NEWEST_FIRST, "track_total_hits": True, "_source": source}, page)


def in_state_query(status: OrderStatus, at: datetime, *, filters: OrderFilter, page: PageRequest) -> dict[str, Any]:
    query = {"bool": {"filter": [in_state_at(status, at), *order_filters(filters)]}}
    return paged({"query": query, "sort": NEWEST_FIRST, "track_total_hits": True,
                  "_source": ORDER_ANSWER_SOURCE}, page)


def sales_by_channel(interval: str, filters: list[dict[str, Any]]) -> dict[str, Any]:
    return {"size": 0, "query": {"bool": {"filter": filters}}, "aggs": {"period": {
        "date_histogram": {"field": "placed_at", "calendar_interval": interval, "min_doc_count": 1},
        "aggs": {"channel": {"terms": {"field": "channel", "size": 10},
                             "aggs": {"revenue": {"sum": {"field": "totals.total"}}}}},
    }}}


def fulfillment_percentiles(filters: list[dict[str, Any]]) -> dict[str, Any]:
    return {"size": 0, "query": {"bool": {"filter": [*filters, {"exists": {"field": "facts.fulfillment_hours"}}]}},
            "aggs": {"type": {"terms": {"field": "facts.fulfillment_type", "size": 10}, "aggs": {
                "hours": {"percentiles": {"field": "facts.fulfillment_hours", "percents": [50, 90, 99]}}}}}}


def rates_by_channel(filters: list[dict[str, Any]]) -> dict[str, Any]:
    return {"size": 0, "query": {"bool": {"filter": filters}}, "aggs": {"channel": {
        "terms": {"field": "channel", "size": 10},
        "aggs": {"cancelled": {"filter": {"term": {"status": "cancelled"}}},
                 "returned": {"filter": {"term": {"facts.has_return": True}}}},
    }}}


def cross_channel_journeys(filters: list[dict[str, Any]]) -> dict[str, Any]:
    return {"size": 0, "query": {"bool": {"filter": [*filters, {"term": {"facts.has_return": True}}]}},
            "aggs": {"bought": {"terms": {"field": "channel", "size": 10}, "aggs": {
                "returned": {"terms": {"field": "facts.return_channels", "size": 10}}}}}}
