"""The value types the sample-traffic generator hands out. Pure.

`TrafficMessage` is exactly what a channel system would put on Kafka (topic by
channel, key = canonical order id, value = native payload bytes); `FaultyMessage`
wraps one after fault injection and says whether (and why) it is poison, so
tests know which messages must reach the dead-letter topic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from order_domain.model import Channel


@dataclass(frozen=True)
class TrafficMessage:
    """One Kafka record: `channel` picks the topic, `key` the partition, `value` is the native payload."""

    channel: Channel
    key: bytes
    value: bytes
    journey: str


@dataclass(frozen=True)
class FaultyMessage:
    """A delivered record; `poison_reason` is None for good ones (originals and duplicates alike)."""

    message: TrafficMessage
    poison_reason: str | None


@dataclass(frozen=True)
class Step:
    """A message with the instant it happens, so one journey's messages can be put in true time order.

    `creates` marks the message that creates an order (counts against the order budget).
    """

    at: datetime
    message: TrafficMessage
    creates: bool = False
