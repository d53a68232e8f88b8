"""The ingest worker: Kafka consumer group -> decode -> merge -> guarded bulk write (entrypoint).

Delivery is at-least-once; the effect is exactly-once because the merge is
idempotent and order-free and every write is version-guarded.

Offsets: a poll batch is processed to the end (written, or dead-lettered and the
dead letters acknowledged) before its offsets are committed, and committed before
the next poll. Partitions are only revoked inside poll(), so a rebalance never
finds completed-but-uncommitted or committed-but-unwritten work.

Back-pressure: when the engine refuses (unavailable, 429 after retries), the
worker pauses its partitions, keeps polling (to stay in the group) and retries
the same batch with capped, jittered backoff. It never skips the batch.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from kafka import KafkaConsumer, KafkaProducer
from kafka.structs import OffsetAndMetadata, TopicPartition

from adapters.search_engine import EngineError
from ingest import metrics
from ingest.decoders import DEFAULT_OPTIONS, ChannelDecodeError, DecoderOptions, IgnoredPayload, decode
from ingest.dead_letter import DeadLetter
from ingest.topics import TopicMap
from ingest.writer import OrderStoreWriter, TransientWriteFailure
from order_domain.model import OrderChange
from settings.log_setup import get_logger

log = get_logger(__name__)


@dataclass
class WorkerStats:
    records: int = 0
    changes: int = 0
    orders_written: int = 0
    timeline_written: int = 0
    dropped: int = 0
    dead_lettered: int = 0
    batches: int = 0
    last_poll_at: float = field(default_factory=time.time)
    last_progress_at: float = field(default_factory=time.time)
    first_progress_at: float | None = None
    lag: int = 0


class IngestWorker:
    def __init__(
        self, *, consumer: KafkaConsumer, producer: KafkaProducer, writer: OrderStoreWriter, topics: TopicMap,
        health_file: Path | None = None, max_backoff_s: float = 30.0, dead_letters: bool = True,
        rebalance_grace_s: float = 30.0, decoder_options: DecoderOptions = DEFAULT_OPTIONS,
    ) -> None:
        self.consumer = consumer
        self.producer = producer
        self.writer = writer
        self.topics = topics
        self.health_file = health_file
        self.max_backoff_s = max_backoff_s
        self.dead_letters_enabled = dead_letters
        self.rebalance_grace_s = rebalance_grace_s
        self.decoder_options = decoder_options
        self.stats = WorkerStats()
        self.stopping = threading.Event()
        self._lag_checked_at = 0.0

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT finish the batch in hand, commit it, and leave the group cleanly."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())

    def run(self, *, idle_exit_s: float | None = None, on_batch: Callable[[WorkerStats], None] | None = None) -> None:
        idle_since = time.monotonic()
        unassigned_since: float | None = None
        try:
            while not self.stopping.is_set():
                batch = self.consumer.poll(timeout_ms=500)
                self.stats.last_poll_at = time.time()
                assigned = bool(self.consumer.assignment())
                unassigned_since = None if assigned else (unassigned_since or time.monotonic())
                if batch:
                    self.process(batch)
                    idle_since = time.monotonic()
                    if on_batch:
                        on_batch(self.stats)
                elif not assigned:
                    # waiting for a rebalance is not being idle, unless it outlasts any rebalance
                    # (more workers than partitions: this one will never get any)
                    idle_since = time.monotonic()
                    waited = idle_since - (unassigned_since or idle_since)
                    if idle_exit_s is not None and waited > idle_exit_s + self.rebalance_grace_s:
                        log.info("no partitions assigned for a while; stopping", idle_seconds=idle_exit_s)
                        break
                elif idle_exit_s is not None and time.monotonic() - idle_since > idle_exit_s:
                    log.info("no records for a while; stopping", idle_seconds=idle_exit_s)
                    break
                self._refresh_lag_and_health()
        finally:
            self.close()

    def close(self) -> None:
        self.producer.flush(30)
        self.consumer.close(autocommit=False)
        log.info("worker stopped", **self.stats.__dict__)

    def process(self, batch: dict[TopicPartition, list[Any]]) -> None:
        started = time.monotonic()
        records = [record for partition_records in batch.values() for record in partition_records]
        changes, origin, dead = self._decode(records)
        rejected = self._write_with_backpressure(changes)
        dead += [self._dead_letter(origin[event_id], "rejected_by_engine", reason, None)
                 for event_id, reason in rejected.items()]
        self._send_dead_letters(dead)
        self.consumer.commit({tp: OffsetAndMetadata(rs[-1].offset + 1, "", -1) for tp, rs in batch.items()})
        self._observe(records, started)

    def _decode(self, records: list[Any]) -> tuple[list[OrderChange], dict[str, Any], list[DeadLetter]]:
        changes: list[OrderChange] = []
        origin: dict[str, Any] = {}
        dead: list[DeadLetter] = []
        for record in records:
            metrics.EVENTS_CONSUMED.labels(record.topic).inc()
            fmt = self.topics.format_of(record.topic)
            try:
                if fmt is None:
                    raise ChannelDecodeError(record.topic, "unknown_topic", "topic", "no channel is mapped to this topic")
                if record.value is None:
                    raise ChannelDecodeError(fmt, "empty_message", "value", "message has no value (tombstone)")
                decoded = decode(fmt, record.value, self.decoder_options)
            except ChannelDecodeError as error:
                dead.append(self._dead_letter(record, error.reason, str(error), error.location))
                continue
            except IgnoredPayload as ignored:  # carries no order: counted and logged, never an error
                log.info("message carries no order; ignored", topic=record.topic, offset=record.offset,
                         reason=ignored.reason)
                continue
            for change in decoded:
                metrics.CHANGES_DECODED.labels(change.channel.value).inc()
                origin[change.event_id] = record
            changes.extend(decoded)
        self.stats.changes += len(changes)
        return changes, origin, dead

    def _write_with_backpressure(self, changes: list[OrderChange]) -> dict[str, str]:
        attempt = 0
        while True:
            try:
                outcome = self.writer.write(changes)
                break
            except (TransientWriteFailure, EngineError) as error:
                attempt += 1
                delay = min(self.max_backoff_s, 0.5 * 2**attempt) * (0.5 + random.random())
                metrics.ENGINE_BACKOFFS.inc()
                log.warning("engine refused the batch; pausing consumption", error=str(error)[:300],
                            retry_in_s=round(delay, 2), attempt=attempt)
                self._pause_for(delay)
        self.stats.orders_written += outcome.orders_written
        self.stats.timeline_written += outcome.timeline_written
        self.stats.dropped += outcome.noise + outcome.unchanged
        metrics.ORDERS_WRITTEN.inc(outcome.orders_written)
        metrics.TIMELINE_WRITTEN.inc(outcome.timeline_written)
        metrics.DROPPED.labels("noise").inc(outcome.noise)
        metrics.DROPPED.labels("changed_nothing").inc(outcome.unchanged)
        metrics.CONFLICTS.inc(outcome.conflicts_retried)
        return outcome.rejected

    def _pause_for(self, seconds: float) -> None:
        """Paused partitions return nothing from poll(); polling keeps the group membership alive."""
        assigned = list(self.consumer.assignment())
        self.consumer.pause(*assigned)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.consumer.poll(timeout_ms=min(1000, max(1, int((deadline - time.monotonic()) * 1000))))
        self.consumer.resume(*assigned)

    def _dead_letter(self, record: Any, reason: str, detail: str, location: str | None) -> DeadLetter:
        return DeadLetter(
            reason=reason, detail=detail, location=location, source_topic=record.topic,
            partition=record.partition, offset=record.offset, timestamp_ms=record.timestamp,
            key=record.key, original=record.value,
        )

    def _send_dead_letters(self, dead: list[DeadLetter]) -> None:
        """Acknowledged before the offsets move past the records they came from."""
        unique = list({(d.partition, d.offset, d.source_topic, d.reason): d for d in dead}.values())
        if not self.dead_letters_enabled:  # a replay: the live run already sent these
            self.stats.dead_lettered += len(unique)
            return
        futures = [
            self.producer.send(self.topics.dead_letter, key=d.key, value=d.value(), headers=d.headers())
            for d in unique
        ]
        for future, letter in zip(futures, unique, strict=True):
            future.get(timeout=60)
            metrics.DEAD_LETTERED.labels(letter.reason).inc()
            log.warning("dead-lettered", reason=letter.reason, source=f"{letter.source_topic}/"
                        f"{letter.partition}/{letter.offset}", detail=letter.detail[:200])
        self.stats.dead_lettered += len(futures)

    def _observe(self, records: list[Any], started: float) -> None:
        now = time.time()
        self.stats.records += len(records)
        self.stats.batches += 1
        self.stats.last_progress_at = now
        if self.stats.first_progress_at is None:  # when the first batch *started*: benchmarks time from here
            self.stats.first_progress_at = now - (time.monotonic() - started)
        metrics.BATCH_SECONDS.observe(time.monotonic() - started)
        for record in records:
            if record.timestamp:
                metrics.VISIBLE_LAG.observe(max(0.0, now - record.timestamp / 1000))

    def _refresh_lag_and_health(self) -> None:
        assigned = list(self.consumer.assignment())
        if assigned and time.monotonic() - self._lag_checked_at > 5:
            self._lag_checked_at = time.monotonic()
            ends = self.consumer.end_offsets(assigned)
            self.stats.lag = sum(max(0, ends[tp] - self.consumer.position(tp)) for tp in assigned)
            metrics.CONSUMER_LAG.set(self.stats.lag)
        if self.health_file is not None:
            self.health_file.parent.mkdir(parents=True, exist_ok=True)
            self.health_file.write_bytes(orjson.dumps(self.stats.__dict__))


def health_verdict(health: dict[str, Any], *, now: float, stall_after_s: float = 120.0) -> tuple[bool, str]:
    """Healthy = polling recently, and not sitting on a backlog without progress."""
    if now - float(health["last_poll_at"]) > 60:
        return False, f"no poll for {now - float(health['last_poll_at']):.0f}s"
    if int(health.get("lag", 0)) > 0 and now - float(health["last_progress_at"]) > stall_after_s:
        return False, f"stalled: lag {health['lag']} and no progress for {now - float(health['last_progress_at']):.0f}s"
    return True, f"ok: lag {health.get('lag', 0)}, {health.get('records', 0)} records processed"
