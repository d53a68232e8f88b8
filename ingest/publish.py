"""Publish sample (or any) traffic to the channel topics. Adapter side: the only I/O is the given producer.

Each message goes to its channel's topic with key = canonical order id, so all
messages of one order share a partition and keep their order; the producer is
flushed before returning, so the count returned has been handed to Kafka.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from kafka import KafkaProducer

from sample_traffic import TrafficMessage
from ingest.topics import TopicMap

PROGRESS_EVERY = 1_000


def publish_traffic(messages: Iterable[TrafficMessage], *, producer: KafkaProducer, topics: TopicMap,
                    progress: Callable[[int], None] | None = None) -> int:
    """Send every message, flush, and return how many were sent (progress is reported every 1,000)."""
    sent = 0
    for message in messages:
        producer.send(topics.by_channel[message.channel], key=message.key, value=message.value)
        sent += 1
        if progress is not None and sent % PROGRESS_EVERY == 0:
            progress(sent)
    producer.flush()
    if progress is not None:
        progress(sent)
    return sent
