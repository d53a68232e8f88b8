"""Analysts: aggregates and as-of questions (bulk timelines are in `export`).

Answers are validated in one pass from the reader's dataclasses (`from_attributes`): a sales
answer holds hundreds of rows, and copying each through `dataclasses.asdict` (a deep copy per
field) cost more CPU than everything else in the request. The sales answer, the largest, is
written as JSON bytes straight from the reader's rows (plain dicts, `read_port.SalesRow`):
its rows are the engine's own aggregation, typed by the reader, with nothing a role hides, so
validating them again per field was pure cost; `response_model` still publishes its shape."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from order_domain.model import Channel, OrderStatus
from query_api.deps import AnalyticsCaller, ReaderDep
from query_api.lean_route import LeanRoute
from query_api.params import Instant, Paging, PlacedRange, StoreId
from query_api.read_port import ChannelRates, Interval, OrderFilter
from query_api.routes import json_answer
from query_api.schemas import (
    ChannelRatesOut,
    FulfillmentAnswer,
    JourneysAnswer,
    OrderPage,
    RatesAnswer,
    SalesAnswer,
)
from query_api.views import order_page

router = APIRouter(prefix="/analytics", tags=["analytics"], route_class=LeanRoute)


@router.get("/sales", response_model=SalesAnswer)
async def sales(reader: ReaderDep, caller: AnalyticsCaller, placed: PlacedRange,
                interval: Interval = "day") -> Response:
    """Orders and revenue per channel per day (or week / month)."""
    rows = await reader.sales(interval, placed)
    return json_answer({"interval": interval, "rows": rows})


@router.get("/fulfillment-times", response_model=FulfillmentAnswer)
async def fulfillment_times(reader: ReaderDep, caller: AnalyticsCaller, placed: PlacedRange) -> FulfillmentAnswer:
    """Hours from placing to delivery/completion, p50/p90/p99 by fulfillment type."""
    times = await reader.fulfillment_times(placed)
    return FulfillmentAnswer.model_validate({"by_fulfillment_type": times}, from_attributes=True)


def _rates(counts: ChannelRates) -> ChannelRatesOut:
    return ChannelRatesOut(orders=counts.orders, cancelled=counts.cancelled, returned=counts.returned,
                           cancellation_rate=round(counts.cancelled / counts.orders, 4),
                           return_rate=round(counts.returned / counts.orders, 4))


@router.get("/rates", response_model=RatesAnswer)
async def rates(reader: ReaderDep, caller: AnalyticsCaller, placed: PlacedRange) -> RatesAnswer:
    """Cancellation and return rates by channel."""
    return RatesAnswer(by_channel={channel: _rates(c) for channel, c in (await reader.rates(placed)).items()})


@router.get("/cross-channel-journeys", response_model=JourneysAnswer)
async def journeys(reader: ReaderDep, caller: AnalyticsCaller, placed: PlacedRange) -> JourneysAnswer:
    """Where orders were bought and where they came back (e.g. bought online, returned in store)."""
    return JourneysAnswer.model_validate({"journeys": await reader.journeys(placed)}, from_attributes=True)


@router.get("/orders-in-state", response_model=OrderPage)
async def orders_in_state(reader: ReaderDep, caller: AnalyticsCaller, page: Paging, status: OrderStatus,
                          at: Instant, store_id: StoreId = None, channel: Channel | None = None) -> Response:
    """The orders that were in `status` at instant `at` (e.g. awaiting pickup in a store last Friday 18:00)."""
    filters = OrderFilter(store_id=store_id, channel=channel)
    hits = await reader.orders_in_state(status, at, filters=filters, page=page)
    return json_answer(order_page(hits, caller, page.next_cursor(hits.next_after)))
