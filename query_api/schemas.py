"""Response models (separate from the stored document), so the OpenAPI spec documents every answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    error: str = Field(examples=["bad_request"])
    detail: str = Field(examples=["page size must be between 1 and 100"])


class OrderOut(BaseModel):
    order_id: str = Field(examples=["web-450123"])
    channel: str | None = None
    channels_seen: list[str] = []
    status: str = Field(examples=["shipped"])
    placed_at: datetime | None = None
    updated_at: datetime | None = None
    store_id: str | None = None
    currency: str | None = None
    references: list[dict[str, Any]] = []
    customer: dict[str, Any] = {}
    lines: list[dict[str, Any]] = []
    shipments: list[dict[str, Any]] = []
    payments: list[dict[str, Any]] = []
    returns: list[dict[str, Any]] = []
    totals: dict[str, Any] = {}
    original_order_id: str | None = None
    indexed_at: datetime | None = Field(default=None, description="when this state became searchable (freshness)")


class OrderPage(BaseModel):
    items: list[OrderOut]
    total: int
    next_cursor: str | None = Field(default=None, description="pass as `cursor` to get the next page")


class SearchPage(OrderPage):
    facets: dict[str, dict[str, int]] = {}


class TimelineEntryOut(BaseModel):
    entry_id: str
    order_id: str
    occurred_at: datetime
    channel: str
    source: str
    kind: str
    actor: str | None = None
    categories: list[str]
    status_after: str | None = None
    changes: dict[str, Any] = {}


class Timeline(BaseModel):
    order_id: str
    entries: list[TimelineEntryOut]
