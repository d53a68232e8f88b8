"""The ingest worker: change source -> decode -> merge -> guarded bulk write (entrypoint side).

Delivery is at-least-once; the effect is exactly-once because the merge is
idempotent and order-free and every write is version-guarded.

Every record ends one way, and the counts add up (records = accepted +
dead-lettered + ignored):
- accepted: decoded into changes that were written (or dropped as changing nothing);
- dead-lettered: the decoder refused it, crashed on it (any exception: reason
  `decoder_crashed`), or the engine refused its change for good; a change that makes
  every write fail is found and dead-lettered, never retried forever
  (`ingest.write_guard`);
- ignored: a well-formed document that carries no order (`IgnoredPayload`, or no
  change at all): counted, logged and recorded as kind=ignored.
Dead-letter and ignored records are bounded (see `ingest.dead_letter`) and keyed by
source coordinates, so a replay never duplicates them.

Offsets: a poll batch is processed to the end (written, and its dead-letter records
acknowledged) before its offsets are committed, and committed before the next poll.
Partitions are only revoked inside poll(), so a rebalance never finds
completed-but-uncommitted or committed-but-unwritten work.

Back-pressure: when the engine (or the dead-letter topic) is unavailable, the worker
pauses its partitions, keeps polling (to stay in the group) and retries the same
batch with capped, jittered backoff (`ingest.back_off`). It never skips the batch.

Memory and freshness: a batch is what one poll returns (at most ORDERREPO_INGEST_MAX_POLL_RECORDS
records; the worker never waits to fill it), so its size bounds the worker's transient memory and
the time a record waits behind the batch before it. Counts and health: `ingest.worker_stats`;
batch timings for the freshness analysis: `ingest.batch_trace`; a refresh of the hot indices right
after a small batch's commit (best effort, off by default): `ingest.visibility`.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from adapters.bus_records import BusUnavailable, ConsumedRecord, OffsetsNotCommitted, Partition
from ingest import metrics
from ingest.decoders import DEFAULT_OPTIONS, DecoderOptions
from ingest.admission import TOMBSTONED
from ingest.back_off import BackOff
from ingest.batch_trace import BatchTiming, BatchTrace, trace_path
from ingest.dead_letter import DEAD_LETTER, IGNORED, DeadLetter, LetterBounds, decode_or_letter
from ingest.ports import ChangeSource, DeadLetterSink
from ingest.topics import TopicMap
from ingest.visibility import RefreshAfterWrite
from ingest.write_guard import ChangeWriter, GuardedWrite
from ingest.worker_stats import WorkerStats, health_verdict
from ingest.writer import WriteOutcome
from order_domain.model import OrderChange
from settings.log_setup import get_logger

log = get_logger(__name__)

__all__ = ["IngestWorker", "WorkerStats", "health_verdict"]  # the stats' home is ingest.worker_stats


@dataclass
class _Decoded:
    changes: list[OrderChange] = field(default_factory=list)
    origin: dict[str, ConsumedRecord] = field(default_factory=dict)  # event id -> its source record
    letters: dict[str, DeadLetter] = field(default_factory=dict)  # source coordinates -> its one letter


class IngestWorker:
    def __init__(
        self, *, source: ChangeSource, writer: ChangeWriter, topics: TopicMap,
        dead_letter_sink: DeadLetterSink | None, letter_bounds: LetterBounds = LetterBounds(),
        health_file: Path | None = None, max_backoff_s: float = 30.0, rebalance_grace_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic, stubborn_after: int = 10,
        decoder_options: DecoderOptions = DEFAULT_OPTIONS, trace_batches: int = 0,
        visibility: RefreshAfterWrite | None = None,
    ) -> None:
        """`dead_letter_sink=None` (a rebuild replay): dead letters are counted, not re-sent.
        `trace_batches`: keep the timings of that many recent batches (`ingest.batch_trace`).
        `visibility`: asks for a refresh after a small batch (`ingest.visibility`; None: never)."""
        self.source = source
        self.writer = writer
        self.topics = topics
        self.dead_letter_sink = dead_letter_sink
        self.letter_bounds = letter_bounds
        self.health_file = health_file
        self.rebalance_grace_s = rebalance_grace_s
        self.clock = clock
        self.decoder_options = decoder_options
        self.stats = WorkerStats()
        self.stopping = threading.Event()
        self._lag_checked_at = -float("inf")
        self.trace = BatchTrace(trace_batches)
        self.visibility = visibility
        self._backing = BackOff(source, clock=clock, max_backoff_s=max_backoff_s)
        self._guard = GuardedWrite(writer, back_off=self._engine_back_off, stubborn_after=stubborn_after)

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT finish the batch in hand, commit it, and leave the group cleanly."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())

    def run(self, *, idle_exit_s: float | None = None, on_batch: Callable[[WorkerStats], None] | None = None) -> None:
        idle_since = self.clock()
        unassigned_since: float | None = None
        try:
            while not self.stopping.is_set():
                poll_started = time.time()
                batch = self.source.poll(timeout_ms=500)
                self.stats.last_poll_at = time.time()
                assigned = bool(self.source.assignment())
                if assigned or unassigned_since is None:
                    unassigned_since = None if assigned else self.clock()
                if batch:
                    self.process(batch, poll_started=poll_started)
                    idle_since = self.clock()
                    if on_batch:
                        on_batch(self.stats)
                elif not assigned:
                    # waiting for a rebalance is not being idle, unless it outlasts any rebalance
                    # (more workers than partitions: this one will never get any)
                    idle_since = self.clock()
                    waited = idle_since - (unassigned_since or idle_since)
                    if idle_exit_s is not None and waited > idle_exit_s + self.rebalance_grace_s:
                        log.info("no partitions assigned for a while; stopping", idle_seconds=idle_exit_s)
                        break
                elif idle_exit_s is not None and self.clock() - idle_since > idle_exit_s:
                    log.info("no records for a while; stopping", idle_seconds=idle_exit_s)
                    break
                self._refresh_lag_and_health()
        finally:
            self.close()

    def close(self) -> None:
        try:
            self.source.close()
        finally:
            if self.dead_letter_sink is not None:
                self.dead_letter_sink.close()
            if self.health_file is not None:
                self.trace.save(trace_path(self.health_file))
        log.info("worker stopped", **self.stats.__dict__)

    def process(self, batch: dict[Partition, list[ConsumedRecord]], *, poll_started: float | None = None) -> None:
        """`poll_started`: when the poll that returned `batch` began (epoch seconds; for the trace)."""
        started = self.clock()
        timing = self.trace.start(poll_started=poll_started or time.time(), polled=time.time(),
                                  offsets={p: (rs[0].offset, rs[-1].offset) for p, rs in batch.items() if rs})
        if self.stats.cpu_at_first_batch is None:
            self.stats.cpu_at_first_batch = time.process_time()
        records = [record for partition_records in batch.values() for record in partition_records]
        cpu_started = time.process_time()
        decoded = self._decode(records)
        self.stats.spent("decode", cpu_started)
        timing.decoded = time.time()
        outcome = self._guard.write(decoded.changes)
        timing.written = time.time()
        self._count_writes(outcome)
        for event_id, reason in outcome.rejected.items():
            record = decoded.origin[event_id]
            slug = reason.split(":", 1)[0]
            kind = IGNORED if slug == TOMBSTONED else DEAD_LETTER  # a replay after an erasure is expected
            decoded.letters.setdefault(record.coordinates, DeadLetter.of(
                record, reason=slug, detail=reason, kind=kind, channel=self._channel(record)))
        letters = list(decoded.letters.values())
        self._send_letters(letters)
        self._commit({partition: rs[-1].offset + 1 for partition, rs in batch.items() if rs})
        timing.committed = time.time()
        if self.visibility is not None:
            self.stats.refreshes_asked += self.visibility.after_batch(len(records))
        self._observe(records, letters, started)

    def _commit(self, offsets: dict[Partition, int]) -> None:
        """Found by the fault drill: a rebalance during a long engine outage made the commit fail
        and the worker exit. Uncommitted offsets are replayed by the partitions' owner instead."""
        try:
            self.source.commit(offsets)
        except OffsetsNotCommitted as error:
            metrics.COMMITS_LOST.inc()
            log.warning("offsets not committed; the partitions' owner replays this batch (idempotent)",
                        error=str(error)[:300])

    def _decode(self, records: list[ConsumedRecord]) -> _Decoded:
        decoded = _Decoded()
        for record in records:
            result = decode_or_letter(record, self.topics, self.decoder_options)
            if isinstance(result, DeadLetter):
                decoded.letters[record.coordinates] = result
                continue
            for change in result:
                decoded.origin[change.event_id] = record
            decoded.changes.extend(result)
        self.stats.changes += len(decoded.changes)
        # counted per batch, not per record: a labelled counter's lookup was 3% of the worker's CPU
        for topic, count in Counter(record.topic for record in records).items():
            metrics.EVENTS_CONSUMED.labels(topic).inc(count)
        for channel, count in Counter(change.channel.value for change in decoded.changes).items():
            metrics.CHANGES_DECODED.labels(channel).inc(count)
        return decoded

    def _channel(self, record: ConsumedRecord) -> str | None:
        channel = self.topics.channel_of(record.topic)
        return channel.value if channel is not None else None

    def _count_writes(self, outcome: WriteOutcome) -> None:
        self.stats.orders_written += outcome.orders_written
        self.stats.timeline_written += outcome.timeline_written
        self.stats.dropped += outcome.noise + outcome.unchanged
        metrics.ORDERS_WRITTEN.inc(outcome.orders_written)
        metrics.TIMELINE_WRITTEN.inc(outcome.timeline_written)
        metrics.DROPPED.labels("noise").inc(outcome.noise)
        metrics.DROPPED.labels("changed_nothing").inc(outcome.unchanged)
        metrics.CONFLICTS.inc(outcome.conflicts_retried)

    def _send_letters(self, letters: list[DeadLetter]) -> None:
        """Acknowledged before the offsets move past the records they came from."""
        if not letters or self.dead_letter_sink is None:  # a replay: the live run already sent these
            return
        records = [letter.to_record(self.topics.dead_letter, self.letter_bounds) for letter in letters]
        attempt = 0
        while True:
            try:
                self.dead_letter_sink.send(records)
                break
            except BusUnavailable as error:
                attempt += 1
                self._backing.wait(attempt, refused_by="dead-letter topic", error=error)
        for letter in letters:
            ignored = letter.kind == IGNORED
            self._remember_reason(letter)
            (metrics.IGNORED if ignored else metrics.DEAD_LETTERED).labels(letter.reason).inc()
            (log.info if ignored else log.warning)(
                "ignored: carries no order" if ignored else "dead-lettered", reason=letter.reason,
                source=letter.coordinates, detail=letter.detail[:200])

    def _by_channel(self, behind: dict[Partition, int]) -> dict[str, int]:
        lag: dict[str, int] = {}
        for partition, count in behind.items():
            channel = self.topics.channel_of(partition.topic)
            name = channel.value if channel is not None else partition.topic
            lag[name] = lag.get(name, 0) + count
        return lag

    def _remember_reason(self, letter: DeadLetter) -> None:
        seen = self.stats.dead_letter_reasons.setdefault(letter.reason, {"count": 0, "kind": letter.kind})
        seen.update(count=seen["count"] + 1, latest=letter.detail[:200], at=time.time())

    def _engine_back_off(self, attempt: int, error: Exception) -> None:
        metrics.ENGINE_BACKOFFS.inc()
        self._backing.wait(attempt, refused_by="engine", error=error)

    def _observe(self, records: list[ConsumedRecord], letters: list[DeadLetter], started: float) -> None:
        now = time.time()
        ignored = sum(1 for letter in letters if letter.kind == IGNORED)
        self.stats.records += len(records)
        self.stats.ignored += ignored
        self.stats.dead_lettered += len(letters) - ignored
        self.stats.accepted += len(records) - len(letters)
        self.stats.batches += 1
        self.stats.last_progress_at = now
        if self.stats.first_progress_at is None:  # when the first batch *started*: benchmarks time from here
            self.stats.first_progress_at = now - (self.clock() - started)
        metrics.BATCH_SECONDS.observe(self.clock() - started)
        self.stats.cpu_at_last_batch = time.process_time()
        self.stats.split_cpu(getattr(self.writer, "cpu_by_stage", {}))
        for record in records:
            if record.timestamp_ms:
                metrics.VISIBLE_LAG.observe(max(0.0, now - record.timestamp_ms / 1000))

    def _refresh_lag_and_health(self) -> None:
        assigned = self.source.assignment()
        if assigned and self.clock() - self._lag_checked_at > 5:
            self._lag_checked_at = self.clock()
            try:
                ends = self.source.end_offsets(assigned)
                behind = {p: max(0, ends[p] - self.source.position(p)) for p in assigned}
                self.stats.lag = sum(behind.values())
                self.stats.lag_by_channel = self._by_channel(behind)
            except BusUnavailable as error:  # found by the fault drill: a broker restart ended the worker here
                log.warning("consumer lag unknown while the broker is away", error=str(error)[:300])
            else:
                metrics.CONSUMER_LAG.set(self.stats.lag)
        if self.health_file is not None:
            self.health_file.parent.mkdir(parents=True, exist_ok=True)
            self.health_file.write_bytes(orjson.dumps(self.stats.__dict__))
