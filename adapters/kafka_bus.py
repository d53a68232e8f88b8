"""The only door to Kafka (adapter): producers, consumers and topic admin via kafka-python.

Producers are idempotent-ish in effect (acks=all, retries, key = canonical order id
so one order's events share a partition). Consumers never auto-commit: the ingest
worker commits offsets itself, and only after the engine acknowledged the write.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.coordinator.assignors.range import RangePartitionAssignor
from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.structs import TopicPartition


class KafkaUnavailable(RuntimeError):
    pass


def make_producer(bootstrap_servers: str, **overrides: Any) -> KafkaProducer:
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers,
        "acks": "all",
        "retries": 10,
        "linger_ms": 5,
        "batch_size": 256 * 1024,
        "compression_type": "gzip",
        "max_in_flight_requests_per_connection": 1,  # keeps per-partition order across retries
        **overrides,
    }
    try:
        return KafkaProducer(**options)
    except KafkaError as error:
        raise KafkaUnavailable(f"cannot reach Kafka at {bootstrap_servers}: {error}") from error


def make_consumer(
    bootstrap_servers: str, *, group_id: str, topics: Iterable[str],
    listener: ConsumerRebalanceListener | None = None, **overrides: Any,
) -> KafkaConsumer:
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers,
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "max_poll_records": 2000,
        "max_poll_interval_ms": 300_000,
        "session_timeout_ms": 30_000,
        "fetch_max_bytes": 32 * 1024 * 1024,
        # round-robin spreads all topics' partitions evenly over the members (range gives the
        # first member 2 of every 3-partition topic); range stays listed for mixed-version groups
        "partition_assignment_strategy": (RoundRobinPartitionAssignor, RangePartitionAssignor),
        **overrides,
    }
    try:
        consumer = KafkaConsumer(**options)
    except KafkaError as error:
        raise KafkaUnavailable(f"cannot reach Kafka at {bootstrap_servers}: {error}") from error
    consumer.subscribe(list(topics), listener=listener)
    return consumer


def ensure_topics(bootstrap_servers: str, topics: Iterable[str], *, partitions: int = 3) -> None:
    """Create missing topics; existing ones are left as they are."""
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=15_000)
    except KafkaError as error:
        raise KafkaUnavailable(f"cannot reach Kafka at {bootstrap_servers}: {error}") from error
    try:
        existing = set(admin.list_topics())
        missing = [NewTopic(name, partitions, 1) for name in topics if name not in existing]
        if missing:
            try:
                admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass
    finally:
        admin.close()


def delete_topics(bootstrap_servers: str, topics: Iterable[str]) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=15_000)
    try:
        existing = set(admin.list_topics())
        doomed = [name for name in topics if name in existing]
        if doomed:
            admin.delete_topics(doomed)
    finally:
        admin.close()


def end_offsets(bootstrap_servers: str, topics: Iterable[str]) -> dict[TopicPartition, int]:
    """Current end offset of every partition of `topics` (no group, nothing committed)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for topic in topics
                      for p in sorted(consumer.partitions_for_topic(topic) or ())]
        return dict(consumer.end_offsets(partitions)) if partitions else {}
    finally:
        consumer.close()
