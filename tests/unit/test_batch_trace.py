"""The worker's batch trace: what it keeps, and how a record's freshness splits into its stages."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.bus_records import Partition
from ingest.batch_trace import (
    STAGES,
    BatchTiming,
    BatchTrace,
    batch_records,
    batches_ahead,
    breakdown,
    find_batch,
    load_batches,
    record_stages,
    trace_path,
)
from ingest.dead_letter import LetterBounds
from ingest.topics import TopicMap
from ingest.worker import IngestWorker
from sample_traffic import generate
from tests.fakes.change_source import FakeChangeSource
from tests.fakes.change_writer import InMemoryWriter
from tests.fakes.dead_letter_sink import RecordingSink

TOPICS = TopicMap.build("t")


def _timing(poll_started: float, offsets: dict[str, tuple[int, int]]) -> BatchTiming:
    return BatchTiming(poll_started, poll_started + 0.1, decoded=poll_started + 0.3, written=poll_started + 0.8,
                       committed=poll_started + 0.85, offsets=offsets)


def test_a_record_sent_while_the_worker_was_busy_waited_for_it_and_the_stages_add_up() -> None:
    batch = _timing(10.0, {"t.app/0": (5, 9)})

    stages = record_stages(batch, sent=9.0, visible=11.5)

    assert list(stages) == list(STAGES)
    assert stages == pytest.approx({"waiting for the worker": 1.0, "broker and fetch": 0.1, "decode": 0.2,
                                    "write": 0.5, "commit": 0.05, "refresh and search": 0.65})
    assert sum(stages.values()) == pytest.approx(11.5 - 9.0)


def test_a_record_sent_during_the_poll_waited_only_for_the_broker() -> None:
    stages = record_stages(_timing(10.0, {}), sent=10.04, visible=11.0)

    assert stages["waiting for the worker"] == 0.0
    assert stages["broker and fetch"] == pytest.approx(0.06)


def test_the_batch_of_a_record_is_found_by_partition_and_offset_and_a_replay_answers_the_latest() -> None:
    first, other, replay = _timing(1.0, {"t.app/0": (0, 9)}), _timing(2.0, {"t.app/1": (0, 9)}), \
        _timing(3.0, {"t.app/0": (5, 12)})
    batches = [first, other, replay]

    assert find_batch(batches, topic="t.app", partition=0, offset=3) is first
    assert find_batch(batches, topic="t.app", partition=0, offset=7) is replay
    assert find_batch(batches, topic="t.app", partition=1, offset=9) is other
    assert find_batch(batches, topic="t.app", partition=1, offset=10) is None
    assert find_batch(batches, topic="t.web", partition=0, offset=0) is None


def test_the_breakdown_averages_every_record_and_the_slowest_twentieth_apart() -> None:
    rows = [dict.fromkeys(STAGES, 0.0) | {"write": float(n)} for n in range(1, 41)]  # 1 s .. 40 s of write

    split = breakdown(rows)

    assert split["records"] == 40
    assert split["mean"]["write"] == 20.5
    assert split["slowest_5%"]["write"] == 39.5  # the two slowest: 39 and 40
    assert breakdown([]) == {}


def test_batches_ahead_counts_only_the_same_workers_batches_begun_after_the_send() -> None:
    in_hand, fetched_ahead, own = _timing(10.0, {}), _timing(10.9, {}), _timing(11.8, {})
    other_worker = BatchTiming(11.0, 11.1, worker=1)
    batches = [in_hand, fetched_ahead, other_worker, own]

    assert batches_ahead(batches, own, sent=10.5) == 1  # sent while the worker wrote `in_hand`
    assert batches_ahead(batches, own, sent=9.0) == 2
    assert batches_ahead(batches, own, sent=11.0) == 0
    assert batches_ahead(batches, other_worker, sent=10.5) == 0


def test_extra_keys_are_averaged_beside_the_stages_and_do_not_rank_the_tail() -> None:
    rows = [dict.fromkeys(STAGES, 0.0) | {"write": float(n), "batches ahead": float(40 - n)} for n in range(1, 41)]

    split = breakdown(rows)

    assert split["mean"]["batches ahead"] == 19.5
    assert split["slowest_5%"]["batches ahead"] == 0.5  # the two slowest writes had 1 and 0 ahead


def test_the_trace_keeps_only_the_latest_batches_and_nothing_when_off(tmp_path: Path) -> None:
    on, off = BatchTrace(2), BatchTrace(0)
    for n in range(3):
        for trace in (on, off):
            trace.start(poll_started=n, polled=n + 0.5, offsets={Partition("t.app", 0): (n, n)})
    on.save(tmp_path / "on.json")
    off.save(tmp_path / "off.json")

    assert [batch.offsets for batch in load_batches([tmp_path / "on.json", tmp_path / "off.json"])] == [
        {"t.app/0": (1, 1)}, {"t.app/0": (2, 2)}]
    assert [batch.worker for batch in load_batches([tmp_path / "off.json", tmp_path / "on.json"])] == [1, 1]
    assert not (tmp_path / "off.json").exists()


def test_the_worker_times_each_batch_in_order_and_writes_the_trace_beside_its_health_file(tmp_path: Path) -> None:
    source = FakeChangeSource(max_batch=7)
    messages = list(generate(orders=5, seed=2))
    for message in messages:
        source.append(TOPICS.by_channel[message.channel], message.value, key=message.key)
    health = tmp_path / "run" / "ingest-g.health.json"
    worker = IngestWorker(source=source, writer=InMemoryWriter(), topics=TOPICS, dead_letter_sink=RecordingSink(),
                          letter_bounds=LetterBounds(), clock=source.clock, health_file=health, trace_batches=100)

    worker.run(idle_exit_s=1.0)

    batches = load_batches([trace_path(health)])
    assert trace_path(health) == tmp_path / "run" / "ingest-g.trace.json"
    assert len(batches) == worker.stats.batches
    assert sum(last - first + 1 for batch in batches for first, last in batch.offsets.values()) == len(messages)
    assert all(b.poll_started <= b.polled <= b.decoded <= b.written <= b.committed for b in batches)


def test_a_batch_holds_the_records_of_every_partition_span() -> None:
    batch = BatchTiming(poll_started=1.0, polled=1.1, offsets={"t.web/0": (10, 14), "t.app/2": (7, 7)})

    assert batch_records(batch) == 6
