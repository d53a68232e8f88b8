"""`expected_orders`: the independent reference result the engine's documents are compared with. Pure.

It uses only the channel adapters and the domain (merge, and the link events one
order's events make for another), never the ingest worker, so a bug in the
pipeline cannot hide by also being in the reference.
"""

from __future__ import annotations

from collections.abc import Iterable

from ingest.decoders import decode
from sample_traffic.messages import TrafficMessage
from ingest.topics import CHANNEL_FORMATS
from order_domain.merge import merge
from order_domain.model import ChangeKind, Order
from order_domain.timeline import link_changes


def expected_orders(messages: Iterable[TrafficMessage]) -> dict[str, Order]:
    """Decode every (clean) message and fold its changes per order id; heartbeats change nothing."""
    orders: dict[str, Order] = {}
    for message in messages:
        for decoded in decode(CHANNEL_FORMATS[message.channel], message.value):
            for change in (decoded, *link_changes(decoded)):
                if change.kind is not ChangeKind.HEARTBEAT:
                    orders[change.order_id] = merge(orders.get(change.order_id), change)
    return orders
