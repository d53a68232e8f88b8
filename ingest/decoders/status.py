"""Order status that never contradicts the lines of the same event. Pure.

A channel's own order state lags or leads its lines (a Shopify order "paid"
whose lines are fulfilled, a POS receipt whose lines were all voided). When an
event carries the order's *complete* line list, the order status it reports is
raised to what its lines prove, using the canonical lifecycle rank:

    every live line cancelled                -> cancelled
    every line returned / some returned      -> returned / partially_returned
    every line picked up                     -> completed
    every line delivered or picked up        -> delivered
    every line shipped or beyond / some      -> shipped / partially_shipped

"Live" lines are those not cancelled. An event that carries only some lines (a
fulfillment, a refund) does not call this: it cannot know the whole order.
"""

from __future__ import annotations

from collections.abc import Iterable

from order_domain.model import STATUS_RANK, LineStatus, OrderLine, OrderStatus

_GONE = frozenset({LineStatus.SHIPPED, LineStatus.DELIVERED, LineStatus.PICKED_UP})
_ARRIVED = frozenset({LineStatus.DELIVERED, LineStatus.PICKED_UP})


def from_lines(lines: Iterable[OrderLine]) -> OrderStatus | None:
    """The order status the complete set of `lines` implies (None: nothing beyond open)."""
    states = [line.status or LineStatus.OPEN for line in lines]
    if not states:
        return None
    live = [state for state in states if state is not LineStatus.CANCELLED]
    if not live:
        return OrderStatus.CANCELLED
    returned = sum(state is LineStatus.RETURNED for state in live)
    if returned:
        return OrderStatus.RETURNED if returned == len(live) else OrderStatus.PARTIALLY_RETURNED
    return _progress(live)


def _progress(live: list[LineStatus]) -> OrderStatus | None:
    if all(state is LineStatus.PICKED_UP for state in live):
        return OrderStatus.COMPLETED
    if all(state in _ARRIVED for state in live):
        return OrderStatus.DELIVERED
    gone = sum(state in _GONE for state in live)
    if gone == len(live):
        return OrderStatus.SHIPPED
    return OrderStatus.PARTIALLY_SHIPPED if gone else None


def highest(*statuses: OrderStatus | None) -> OrderStatus | None:
    """The highest-ranked of the given statuses (the merge's own rule), None if none given."""
    present = [status for status in statuses if status is not None]
    return max(present, key=STATUS_RANK.__getitem__) if present else None


def consistent(native: OrderStatus | None, lines: Iterable[OrderLine]) -> OrderStatus | None:
    """The channel's status raised to what the complete line list proves."""
    return highest(native, from_lines(lines))
