"""Publish sample (or any) traffic to the channel topics through a `RecordSink` port.

Each message goes to its channel's topic with key = canonical order id, so all
messages of one order share a partition and keep their order; messages are sent
in chunks the sink acknowledges, so the count returned has been accepted by the bus.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import islice
from typing import Protocol

from adapters.bus_records import OutgoingRecord
from ingest.ports import RecordSink
from ingest.topics import TopicMap
from order_domain.model import Channel

PROGRESS_EVERY = 1_000


class ChannelMessage(Protocol):
    """A native message for one channel (e.g. `sample_traffic.TrafficMessage`)."""

    @property
    def channel(self) -> Channel: ...

    @property
    def key(self) -> bytes: ...

    @property
    def value(self) -> bytes: ...


def publish_traffic(messages: Iterable[ChannelMessage], *, sink: RecordSink, topics: TopicMap,
                    progress: Callable[[int], None] | None = None) -> int:
    """Send every message and return how many were acknowledged (progress is reported every 1,000)."""
    sent = 0
    stream = iter(messages)
    while chunk := list(islice(stream, PROGRESS_EVERY)):
        sink.send([OutgoingRecord(topic=topics.by_channel[m.channel], key=m.key, value=m.value) for m in chunk])
        sent += len(chunk)
        if progress is not None:
            progress(sent)
    if progress is not None and sent == 0:
        progress(sent)
    return sent
