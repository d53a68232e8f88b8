"""An order's status never contradicts its lines: the derivation rule. Pure.

Channels report an order status and, often, line statuses; they do not always
agree (a fulfillment webhook marks a line shipped while the order still says
"pending"). The order status is therefore a function of two order-free inputs:

- the *reported* status: the highest-ranked status any event reported
  (the keys of ``status_history``; ``pending`` when none did);
- the status the *lines* imply, from the lines that carry a status (lines
  without one say nothing):

  ======================================================  =====================
  line statuses (cancelled lines set aside, unless all)    implied order status
  ======================================================  =====================
  every line cancelled                                     cancelled
  every other line returned                                returned
  some line returned                                       partially_returned
  every other line delivered or picked up (some delivered) delivered
  every other line picked up                               completed
  every other line shipped, delivered or picked up         shipped
  some line shipped, delivered or picked up                partially_shipped
  some line allocated or picked                            in_progress
  only open lines                                          (nothing implied)
  ======================================================  =====================

The order status is the higher-ranked of the two (so it is never *behind* its
lines: no "pending" order with a shipped line), with one exception: a reported
cancellation does not hold against lines that went out (shipped, delivered,
picked up or returned) — an order is cancelled only if nothing of it left; the
lines' status is the answer then. Both inputs are merged order-free (max rank,
set union), so the status converges under any arrival order like every field.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from order_domain.model import STATUS_RANK, LineStatus, OrderStatus

WENT_OUT = frozenset({LineStatus.SHIPPED, LineStatus.DELIVERED, LineStatus.PICKED_UP, LineStatus.RETURNED})
_OUT = frozenset({LineStatus.SHIPPED, LineStatus.DELIVERED, LineStatus.PICKED_UP})
_HANDED_OVER = frozenset({LineStatus.DELIVERED, LineStatus.PICKED_UP})
_WORKED_ON = frozenset({LineStatus.ALLOCATED, LineStatus.PICKED})


def status_from_lines(line_statuses: Iterable[LineStatus | None]) -> OrderStatus | None:
    """The order status the lines imply, or None when they imply nothing (no status, or all open)."""
    known = [status for status in line_statuses if status is not None]
    if not known:
        return None
    live = {status for status in known if status != LineStatus.CANCELLED}
    if not live:
        return OrderStatus.CANCELLED
    if live == {LineStatus.RETURNED}:
        return OrderStatus.RETURNED
    if LineStatus.RETURNED in live:
        return OrderStatus.PARTIALLY_RETURNED
    if live <= _HANDED_OVER:
        return OrderStatus.DELIVERED if LineStatus.DELIVERED in live else OrderStatus.COMPLETED
    if live <= _OUT:
        return OrderStatus.SHIPPED
    if live & _OUT:
        return OrderStatus.PARTIALLY_SHIPPED
    return OrderStatus.IN_PROGRESS if live & _WORKED_ON else None


def reported_status(reported: Iterable[OrderStatus]) -> OrderStatus:
    """The highest-ranked reported status; ``pending`` when nothing was reported."""
    return max(reported, key=STATUS_RANK.__getitem__, default=OrderStatus.PENDING)


def order_status(reported: OrderStatus, line_statuses: Iterable[LineStatus | None]) -> OrderStatus:
    """The order's status: the reported one, lifted to what its lines imply (module rule)."""
    return _derived(reported, frozenset(status for status in line_statuses if status is not None))


@lru_cache(maxsize=4096)  # asked for every event; a few hundred distinct inputs exist (11 x 2^8 at most)
def _derived(reported: OrderStatus, lines: frozenset[LineStatus]) -> OrderStatus:
    implied = status_from_lines(lines)
    if implied is None:
        return reported
    if reported == OrderStatus.CANCELLED and not WENT_OUT.isdisjoint(lines):
        return implied
    return max(reported, implied, key=STATUS_RANK.__getitem__)


def contradicts(status: OrderStatus, line_statuses: Iterable[LineStatus | None]) -> bool:
    """True when `status` is behind what the lines imply, or cancels lines that went out."""
    lines = [line for line in line_statuses if line is not None]
    implied = status_from_lines(lines)
    if implied is None:
        return False
    if status is OrderStatus.CANCELLED:
        return bool(WENT_OUT.intersection(lines))
    return STATUS_RANK[status] < STATUS_RANK[implied]
