"""The Kafka change source on the real broker: what the worker's back-off relies on when the
group rebalances under it (pause and resume of partitions no longer assigned, seek back)."""

from __future__ import annotations

import time

from adapters.bus_records import ConsumedRecord, Partition
from adapters.kafka_bus import KafkaChangeSource, delete_topics, ensure_topics, make_consumer, make_producer


def _poll_until(source: KafkaChangeSource, count: int, timeout_s: float = 60) -> list[ConsumedRecord]:
    found: list[ConsumedRecord] = []
    deadline = time.monotonic() + timeout_s
    while len(found) < count and time.monotonic() < deadline:
        for records in source.poll(timeout_ms=1000).values():
            found.extend(records)
    return found


def test_revoked_partitions_are_skipped_and_seek_reads_again(kafka_servers: str, unique_name: str) -> None:
    topic = f"{unique_name}-source"
    ensure_topics(kafka_servers, [topic], partitions=1)
    source = KafkaChangeSource(make_consumer(kafka_servers, group_id=f"{unique_name}-g", topics=[topic]))
    try:
        producer = make_producer(kafka_servers)
        for i in range(5):
            producer.send(topic, key=b"order-1", value=f"event {i}".encode())
        producer.flush(30)
        producer.close()
        mine, gone = Partition(topic, 0), Partition(f"{unique_name}-revoked", 0)

        assert [r.offset for r in _poll_until(source, 5)] == [0, 1, 2, 3, 4]
        source.pause({mine, gone})  # the client raised KeyError for a partition not assigned
        source.seek(mine, 2)
        assert source.poll(timeout_ms=500) == {}  # paused
        source.resume({mine, gone})
        assert [r.value for r in _poll_until(source, 3)] == [b"event 2", b"event 3", b"event 4"]
    finally:
        source.close()
        delete_topics(kafka_servers, [topic])
