"""The only door to Kafka (adapter): producers, consumers and topic admin via kafka-python.

Producers are idempotent-ish in effect (acks=all, retries, key = canonical order id
so one order's events share a partition). Consumers never auto-commit: the ingest
worker commits offsets itself, and only after the engine acknowledged the write.
`KafkaChangeSource` and `KafkaRecordSink` wrap a consumer and a producer behind the
ingest ports (`ingest.ports.ChangeSource`, `RecordSink`/`DeadLetterSink`); they speak
the neutral records of `adapters.bus_records`, so nothing above this module sees
kafka-python's types.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.coordinator.assignors.range import RangePartitionAssignor
from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata, TopicPartition

from settings.log_setup import get_logger
from adapters.bus_records import BusUnavailable, ConsumedRecord, OffsetsNotCommitted, OutgoingRecord, Partition

DEFAULT_MAX_REQUEST_BYTES = 1_048_576  # kafka-python's default; the broker's message.max.bytes is ~1 MiB

log = get_logger(__name__)


class KafkaUnavailable(BusUnavailable):
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


def ensure_topics(bootstrap_servers: str, topics: Iterable[str], *, partitions: int = 3,
                  configs: Mapping[str, dict[str, str]] | None = None) -> None:
    """Create missing topics (with `configs[name]` as topic configuration); existing ones are left as they are."""
    configs = configs or {}
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=15_000)
    except KafkaError as error:
        raise KafkaUnavailable(f"cannot reach Kafka at {bootstrap_servers}: {error}") from error
    try:
        existing = set(admin.list_topics())
        missing = [NewTopic(name, partitions, 1, topic_configs=configs.get(name, {}))
                   for name in topics if name not in existing]
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


def end_offsets(bootstrap_servers: str, topics: Iterable[str]) -> dict[Partition, int]:
    """Current end offset of every partition of `topics` (no group, nothing committed)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    try:
        partitions = _partitions_of(consumer, topics)
        return {_neutral(tp): end for tp, end in consumer.end_offsets(partitions).items()} if partitions else {}
    finally:
        consumer.close()


def read_topic(bootstrap_servers: str, topic: str, *, poll_timeout_ms: int = 1000) -> list[ConsumedRecord]:
    """Every record of `topic` from the beginning to the end offsets seen at the start (no group)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False,
                             fetch_max_bytes=32 * 1024 * 1024)
    try:
        partitions = _partitions_of(consumer, [topic])
        if not partitions:
            return []
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = {tp: end for tp, end in consumer.end_offsets(partitions).items() if end > 0}
        found: list[ConsumedRecord] = []
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            for records in consumer.poll(timeout_ms=poll_timeout_ms).values():
                found.extend(_record(record) for record in records)
        return found
    finally:
        consumer.close()


def read_record(bootstrap_servers: str, topic: str, partition: int, offset: int, *,
                timeout_s: float = 30.0) -> ConsumedRecord | None:
    """The record at these coordinates, or None when it is gone (retention, compaction) or never was."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False,
                             max_partition_fetch_bytes=64 * 1024 * 1024)
    tp = TopicPartition(topic, partition)
    try:
        if partition not in (consumer.partitions_for_topic(topic) or ()):
            return None
        consumer.assign([tp])
        if not consumer.beginning_offsets([tp])[tp] <= offset < consumer.end_offsets([tp])[tp]:
            return None
        consumer.seek(tp, offset)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for record in consumer.poll(timeout_ms=1000, max_records=1).get(tp, []):
                return _record(record) if record.offset == offset else None
        return None
    finally:
        consumer.close()


def _partitions_of(consumer: KafkaConsumer, topics: Iterable[str]) -> list[TopicPartition]:
    return [TopicPartition(topic, p) for topic in topics for p in sorted(consumer.partitions_for_topic(topic) or ())]


def _neutral(tp: TopicPartition) -> Partition:
    return Partition(tp.topic, tp.partition)


def _native(partition: Partition) -> TopicPartition:
    return TopicPartition(partition.topic, partition.number)


def _record(record: Any) -> ConsumedRecord:
    return ConsumedRecord(
        topic=record.topic, partition=record.partition, offset=record.offset, key=record.key, value=record.value,
        timestamp_ms=record.timestamp, headers=tuple((name, value or b"") for name, value in record.headers or ()),
    )


class KafkaChangeSource:
    """A consumer-group member behind the `ChangeSource` port (never auto-commits)."""

    def __init__(self, consumer: KafkaConsumer) -> None:
        self._consumer = consumer

    def poll(self, *, timeout_ms: int) -> dict[Partition, list[ConsumedRecord]]:
        try:
            batch = self._consumer.poll(timeout_ms=timeout_ms)
        except KafkaError as error:  # the broker away: nothing to process now, the worker polls again
            log.warning("poll failed; polling again", error=f"{type(error).__name__}: {error}"[:300])
            return {}
        return {_neutral(tp): [_record(record) for record in records] for tp, records in batch.items()}

    def commit(self, offsets: Mapping[Partition, int]) -> None:
        try:
            self._consumer.commit({_native(p): OffsetAndMetadata(offset, "", -1) for p, offset in offsets.items()})
        except KafkaError as error:  # CommitFailedError after a rebalance, or the coordinator away
            raise OffsetsNotCommitted(f"{type(error).__name__}: {error}") from error

    def pause(self, partitions: Collection[Partition]) -> None:
        self._consumer.pause(*self._still_assigned(partitions))

    def resume(self, partitions: Collection[Partition]) -> None:
        self._consumer.resume(*self._still_assigned(partitions))

    def seek(self, partition: Partition, offset: int) -> None:
        self._consumer.seek(_native(partition), offset)

    def _still_assigned(self, partitions: Collection[Partition]) -> list[TopicPartition]:
        """A rebalance during a worker's back-off (the broker restarted, a member left) revokes partitions
        it paused; the client raises KeyError for those, which ended the worker. They are skipped."""
        assigned = self._consumer.assignment()
        return [tp for tp in map(_native, partitions) if tp in assigned]

    def assignment(self) -> set[Partition]:
        return {_neutral(tp) for tp in self._consumer.assignment()}

    def end_offsets(self, partitions: Collection[Partition]) -> dict[Partition, int]:
        try:
            answer = self._consumer.end_offsets([_native(p) for p in partitions])
        except KafkaError as error:  # the broker away (KafkaTimeoutError): the caller tries again later
            raise BusUnavailable(f"end offsets unknown: {type(error).__name__}: {error}") from error
        return {_neutral(tp): end for tp, end in answer.items()}

    def position(self, partition: Partition) -> int:
        try:
            return int(self._consumer.position(_native(partition)))
        except KafkaError as error:
            raise BusUnavailable(f"position unknown: {type(error).__name__}: {error}") from error

    def close(self) -> None:
        self._consumer.close(autocommit=False)


class KafkaRecordSink:
    """A producer behind the `RecordSink` port: `send` waits for the broker's acknowledgement.

    After a broker restart a kafka-python producer can stay convinced for minutes that no broker
    is reachable while consumers have long reconnected; with `renew`, a send that fails replaces
    the producer, so the caller's retry goes through a fresh client instead of the stuck one."""

    def __init__(self, producer: KafkaProducer, *, ack_timeout_s: float = 60.0,
                 renew: Callable[[], KafkaProducer] | None = None) -> None:
        self._producer = producer
        self._ack_timeout_s = ack_timeout_s
        self._renew = renew

    def send(self, records: Sequence[OutgoingRecord]) -> None:
        try:
            futures = [self._producer.send(r.topic, key=r.key, value=r.value, headers=list(r.headers))
                       for r in records]
            for future in futures:
                future.get(timeout=self._ack_timeout_s)
        except KafkaError as error:
            self._replace_producer()
            raise KafkaUnavailable(f"Kafka did not acknowledge {len(records)} record(s): {error}") from error

    def _replace_producer(self) -> None:
        if self._renew is None:
            return
        try:
            self._producer.close(timeout=1)
        except KafkaError:
            pass  # what it still held was not acknowledged: the caller sends it again
        try:
            self._producer = self._renew()
        except KafkaError:
            pass  # broker still away: the old (closed) client fails the next send, which renews again

    def close(self) -> None:
        self._producer.flush(30)
        self._producer.close()
