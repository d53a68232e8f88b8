"""The ingest worker over in-memory fakes of its ports: outcomes, bounded dead letters, retries, offsets."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest

from adapters.bus_records import Partition
from adapters.search_engine import EngineUnavailable
from ingest import decoders
from ingest.dead_letter import LetterBounds
from ingest.topics import CHANNEL_FORMATS, TopicMap
from ingest.worker import IngestWorker
from ingest.writer import TransientWriteFailure, WriteOutcome
from order_domain.model import OrderChange
from sample_traffic import TrafficMessage, expected_orders, generate
from tests.fakes.change_source import FakeChangeSource, FakeClock
from tests.fakes.change_writer import InMemoryWriter
from tests.fakes.dead_letter_sink import RecordingSink

TOPICS = TopicMap.build("t")
WEB, STORE, APP = "t.web", "t.store", "t.app"


def _worker(source: FakeChangeSource, writer: InMemoryWriter | None = None, sink: RecordingSink | None = None,
            bounds: LetterBounds = LetterBounds()) -> IngestWorker:
    return IngestWorker(source=source, writer=writer or InMemoryWriter(), topics=TOPICS,
                        dead_letter_sink=sink if sink is not None else RecordingSink(), letter_bounds=bounds,
                        clock=source.clock)


def _publish_sample(source: FakeChangeSource, orders: int, seed: int) -> int:
    messages = list(generate(orders=orders, seed=seed))
    for message in messages:
        source.append(TOPICS.by_channel[message.channel], message.value, key=message.key)
    return len(messages)


def test_every_record_ends_accepted_dead_lettered_or_ignored_and_the_offsets_move_past_all() -> None:
    source, writer, sink = FakeChangeSource(), InMemoryWriter(), RecordingSink()
    clean = list(generate(orders=20, seed=3))
    published = _publish_sample(source, orders=20, seed=3)
    source.append(WEB, b"{not json", key=b"k1")
    source.append(STORE, None, key=b"k2")
    source.append("t.unmapped", b"{}")

    worker = _worker(source, writer, sink)
    worker.process(source.poll(timeout_ms=0))

    assert (worker.stats.records, worker.stats.accepted, worker.stats.dead_lettered, worker.stats.ignored) == (
        published + 3, published, 3, 0)
    assert {(x["source_topic"], x["reason"]) for x in sink.letters()} == {
        (WEB, "malformed_json"), (STORE, "empty_message"), ("t.unmapped", "unknown_topic")}
    assert source.committed == {p: len(log) for p, log in source.logs.items()}
    assert writer.documents() == expected_orders(clean)


def test_a_decoder_crash_of_any_kind_is_a_dead_letter_with_the_exception_type(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(payload: bytes, options: object = None) -> list[OrderChange]:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setitem(decoders.ADAPTERS, "shopify", explode)
    source, sink = FakeChangeSource(), RecordingSink()
    source.append(WEB, b'{"id": 1}', key=b"web-1")

    worker = _worker(source, sink=sink)
    worker.process(source.poll(timeout_ms=0))

    [letter] = sink.letters()
    assert (letter["kind"], letter["reason"], letter["channel"]) == ("dead_letter", "decoder_crashed", "web")
    assert letter["detail"] == "RecursionError: maximum recursion depth exceeded"
    assert sink.sent[0].key == f"{WEB}/0/0".encode()
    assert source.committed == {Partition(WEB, 0): 1}


def test_a_document_without_an_order_is_recorded_as_ignored_not_as_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def control_transaction(payload: bytes, options: object = None) -> list[OrderChange]:
        raise decoders.IgnoredPayload("poslog", "control_transaction", "a store-open control transaction")

    monkeypatch.setitem(decoders.ADAPTERS, "poslog", control_transaction)
    source, sink = FakeChangeSource(), RecordingSink()
    source.append(STORE, b"<POSLog/>")

    worker = _worker(source, sink=sink)
    worker.process(source.poll(timeout_ms=0))

    assert (worker.stats.accepted, worker.stats.dead_lettered, worker.stats.ignored) == (0, 0, 1)
    [letter] = sink.letters()
    assert (letter["kind"], letter["reason"], letter["detail"]) == (
        "ignored", "control_transaction", "a store-open control transaction")


def test_a_huge_undecodable_message_becomes_a_bounded_record_that_points_to_the_original() -> None:
    huge = b"<POSLog>" + b"x" * 1_500_000  # unterminated: malformed
    source, sink = FakeChangeSource(), RecordingSink()
    source.append(STORE, huge, key=b"store-9", timestamp_ms=1_700_000_000_000)
    source.append(STORE, b"<POSLog", key=b"store-10")  # small: embedded in full
    bounds = LetterBounds(embed_max_bytes=512 * 1024, excerpt_bytes=100, record_max_bytes=1_000_000)

    _worker(source, sink=sink, bounds=bounds).process(source.poll(timeout_ms=0))

    assert [len(record.value or b"") < 10_000 for record in sink.sent] == [True, True]
    big, small = sink.letters()
    assert (big["original"], big["original_embedded"], big["size_bytes"]) == (None, False, len(huge))
    assert big["sha256"] == hashlib.sha256(huge).hexdigest() and big["excerpt"] == huge[:100].decode()
    assert (big["source_topic"], big["partition"], big["offset"], big["key"]) == (STORE, 0, 0, b"store-9")
    assert (small["original"], small["original_embedded"]) == (b"<POSLog", True)


def test_replaying_the_same_records_writes_the_same_keys_and_the_current_view_has_no_duplicates() -> None:
    source, sink = FakeChangeSource(), RecordingSink()
    source.extend([(WEB, b"[1,"), (APP, b"{}"), (WEB, b"nope")])

    _worker(source, sink=sink).process(source.poll(timeout_ms=0))
    source.positions = {p: 0 for p in source.logs}  # a replay from offset 0 (new group, or a rebuild)
    _worker(source, sink=sink).process(source.poll(timeout_ms=0))

    assert len(sink.sent) == 6 and len({record.key for record in sink.sent}) == 3
    assert sorted((x["source_topic"], x["offset"]) for x in sink.current()) == [(APP, 0), (WEB, 0), (WEB, 1)]


class FailsWhileAnEventIsInTheBatch(InMemoryWriter):
    """A write that fails the same way every time the poison change is in it."""

    def __init__(self, poison_event: str, error: Exception) -> None:
        super().__init__()
        self.poison_event = poison_event
        self.error = error

    def write(self, changes: Sequence[OrderChange]) -> WriteOutcome:
        if any(change.event_id == self.poison_event for change in changes):
            raise self.error
        return super().write(changes)


def _all_but(clean: list[TrafficMessage], event_id: str) -> InMemoryWriter:
    """The same merge fed every change but one."""
    reference = InMemoryWriter()
    reference.write([change for m in clean for change in decoders.decode(
        CHANNEL_FORMATS[m.channel], m.value) if change.event_id != event_id])
    return reference


def _sample_with_a_poison_change(seed: int) -> tuple[FakeChangeSource, list[TrafficMessage], OrderChange]:
    """Sample traffic on the fake source, and the first change of its first web message."""
    source, clean = FakeChangeSource(), list(generate(orders=10, seed=seed))
    _publish_sample(source, orders=10, seed=seed)
    first = source.logs[Partition(WEB, 0)][0]
    return source, clean, decoders.decode("shopify", first.value or b"")[0]


def test_a_change_that_makes_every_write_fail_is_isolated_and_dead_lettered_and_the_rest_is_written() -> None:
    (source, clean, poison), sink = _sample_with_a_poison_change(seed=8), RecordingSink()
    writer = FailsWhileAnEventIsInTheBatch(poison.event_id, ValueError("the store cannot take this change"))

    worker = _worker(source, writer, sink)
    worker.process(source.poll(timeout_ms=0))

    [letter] = sink.letters()
    assert (letter["reason"], letter["detail"]) == (
        "write_failed", "write_failed: ValueError: the store cannot take this change")
    assert (letter["source_topic"], letter["offset"]) == (WEB, 0)
    assert worker.stats.dead_lettered == 1 and worker.stats.accepted == worker.stats.records - 1
    assert writer.documents() == _all_but(clean, poison.event_id).documents()


def test_a_change_the_engine_keeps_refusing_while_the_rest_is_written_is_dead_lettered_not_retried_forever() -> None:
    (source, clean, poison), sink = _sample_with_a_poison_change(seed=9), RecordingSink()
    writer = FailsWhileAnEventIsInTheBatch(poison.event_id, TransientWriteFailure("1 change still unwritten"))

    worker = IngestWorker(source=source, writer=writer, topics=TOPICS, dead_letter_sink=sink, clock=source.clock,
                          stubborn_after=3)
    worker.process(source.poll(timeout_ms=0))

    [letter] = sink.letters()
    assert (letter["reason"], letter["source_topic"], letter["offset"]) == ("refused_repeatedly", WEB, 0)
    assert source.pause_calls == 2, "backed off twice, then found the change on the third refusal"
    assert writer.documents() == _all_but(clean, poison.event_id).documents()


def test_an_engine_that_refuses_everything_for_a_while_never_gets_a_change_dead_lettered() -> None:
    source, sink, writer = FakeChangeSource(), RecordingSink(), RefusesEverythingFor(failures=11)
    clean = list(generate(orders=5, seed=6))
    _publish_sample(source, orders=5, seed=6)

    worker = IngestWorker(source=source, writer=writer, topics=TOPICS, dead_letter_sink=sink, clock=source.clock,
                          stubborn_after=3)
    worker.process(source.poll(timeout_ms=0))

    assert sink.sent == [] and writer.failures_left == 0
    assert writer.documents() == expected_orders(clean)


class UnavailableFor(InMemoryWriter):
    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures_left = failures

    def write(self, changes: Sequence[OrderChange]) -> WriteOutcome:
        if self.failures_left:
            self.failures_left -= 1
            raise self.refusal()
        return super().write(changes)

    def refusal(self) -> Exception:
        return EngineUnavailable(0, "connection refused")


class RefusesEverythingFor(UnavailableFor):
    """The engine answers, but refuses every item for a while (overload)."""

    def refusal(self) -> Exception:
        return TransientWriteFailure("every change still unwritten")


def test_an_engine_outage_pauses_consumption_and_retries_the_same_batch_without_dead_letters() -> None:
    source, sink, writer = FakeChangeSource(), RecordingSink(), UnavailableFor(failures=3)
    clean = list(generate(orders=5, seed=4))
    published = _publish_sample(source, orders=5, seed=4)

    worker = _worker(source, writer, sink)
    worker.process(source.poll(timeout_ms=0))

    assert source.pause_calls == 3 and source.paused == set()
    assert sink.sent == [] and worker.stats.accepted == published
    assert writer.documents() == expected_orders(clean)
    assert source.commits == [{p: len(log) for p, log in source.logs.items()}], "one commit, after the write"


def test_offsets_are_committed_only_after_the_dead_letter_topic_acknowledged() -> None:
    source, sink = FakeChangeSource(), RecordingSink(refuse_first=2)
    source.append(WEB, b"{bad")

    worker = _worker(source, sink=sink)
    worker.process(source.poll(timeout_ms=0))

    assert sink.sends == 3 and len(sink.sent) == 1
    assert source.commits == [{Partition(WEB, 0): 1}]


def test_a_rebuild_replay_counts_dead_letters_without_sending_them() -> None:
    source = FakeChangeSource()
    source.extend([(WEB, b"{bad"), (WEB, b"[")])
    worker = IngestWorker(source=source, writer=InMemoryWriter(), topics=TOPICS, dead_letter_sink=None,
                          clock=source.clock)

    worker.run(idle_exit_s=2.0)

    assert (worker.stats.records, worker.stats.dead_lettered, source.closed) == (2, 2, True)


def test_run_stops_when_idle_and_closes_the_source_and_the_sink() -> None:
    source, sink = FakeChangeSource(), RecordingSink()
    _publish_sample(source, orders=3, seed=1)

    worker = _worker(source, sink=sink)
    worker.run(idle_exit_s=3.0)

    assert worker.stats.records == sum(len(log) for log in source.logs.values())
    assert source.closed and sink.closed
    assert source.clock.now >= 1000.0 + 3.0


def test_a_commit_refused_after_a_rebalance_is_not_fatal_and_the_next_batch_commits() -> None:
    """Found by the fault drill: during a long engine outage the group rebalanced, the commit
    failed, and the worker exited; now the batch is left to the partitions' owner to replay."""
    source, writer = FakeChangeSource(), InMemoryWriter()
    _publish_sample(source, orders=3, seed=5)
    source.refuse_commits = 1
    worker = _worker(source, writer)
    worker.process(source.poll(timeout_ms=0))
    assert source.committed == {} and writer.documents()  # written, offsets left for a replay
    worker.process(source.poll(timeout_ms=0) or {p: log for p, log in source.logs.items()})
    assert source.committed == {p: len(log) for p, log in source.logs.items()}


def test_the_broker_away_while_the_lag_is_measured_is_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by the fault drill: end offsets timed out during a broker restart and the worker exited."""
    from adapters.bus_records import BusUnavailable

    source = FakeChangeSource()
    _publish_sample(source, orders=2, seed=9)

    def away(partitions: object) -> dict[Partition, int]:
        raise BusUnavailable("end offsets unknown: KafkaTimeoutError")

    monkeypatch.setattr(source, "end_offsets", away)
    worker = _worker(source)
    worker.process(source.poll(timeout_ms=0))
    source.clock.advance(10)
    worker._refresh_lag_and_health()
    assert worker.stats.lag == 0 and source.committed == {p: len(log) for p, log in source.logs.items()}


def test_the_health_file_carries_lag_per_channel_and_the_latest_reason_per_dead_letter_kind(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import orjson

    source = FakeChangeSource()
    _publish_sample(source, orders=2, seed=4)
    source.append(WEB, b"{not json", key=b"k1")
    worker = IngestWorker(source=source, writer=InMemoryWriter(), topics=TOPICS, dead_letter_sink=RecordingSink(),
                          clock=source.clock, health_file=tmp_path / "health.json")
    worker.process(source.poll(timeout_ms=0))
    source.append(STORE, b"<late/>", key=b"k2")  # one record behind on the store topic
    source.clock.advance(10)
    worker._refresh_lag_and_health()
    health = orjson.loads((tmp_path / "health.json").read_bytes())
    assert {channel: lag for channel, lag in health["lag_by_channel"].items() if lag} == {"store": 1}
    assert set(health["lag_by_channel"]) == {"web", "store", "call_center"}
    assert health["dead_letter_reasons"]["malformed_json"]["count"] == 1
    assert health["dead_letter_reasons"]["malformed_json"]["kind"] == "dead_letter"
