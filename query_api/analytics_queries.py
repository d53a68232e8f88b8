"""Engine query bodies for analysts: as-of questions and aggregates (pure)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from order_domain.model import STATUS_RANK, OrderStatus


def placed_between(placed_from: datetime | None, placed_to: datetime | None) -> list[dict[str, Any]]:
    if not (placed_from or placed_to):
        return []
    return [{"range": {"placed_at": {op: v.isoformat() for op, v in (("gte", placed_from), ("lt", placed_to)) if v}}}]


def in_state_at(status: OrderStatus, at: datetime) -> dict[str, Any]:
    """Reached `status` by `at`, and no higher-ranked status by then (statuses only move up)."""
    higher = [s for s in OrderStatus if STATUS_RANK[s] > STATUS_RANK[status]]
    return {"bool": {
        "filter": [{"range": {f"status_history.{status.value}": {"lte": at.isoformat()}}}],
        "must_not": [{"range": {f"status_history.{s.value}": {"lte": at.isoformat()}}} for s in higher],
    }}


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
