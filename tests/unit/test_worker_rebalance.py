"""A rebalance while the worker backs off (found reviewing the fault drill's vanished workers).

A broker restart or a member leaving rebalances the group; when that happens inside one of
the polls a back-off makes to stay in the group, newly assigned partitions are not paused
and that very poll may answer their records. Those records must be read again, not dropped
(a later commit would move past them: orders lost), and resuming partitions revoked meanwhile
must not end the worker.
"""

from __future__ import annotations

from adapters.bus_records import Partition
from ingest.topics import TopicMap
from ingest.worker import IngestWorker
from sample_traffic import expected_orders, generate
from tests.fakes.change_source import FakeChangeSource
from tests.fakes.dead_letter_sink import RecordingSink
from tests.unit.test_worker import UnavailableFor

TOPICS = TopicMap.build("t")


def _setup(orders: int, seed: int) -> tuple[FakeChangeSource, UnavailableFor, IngestWorker, list[Partition]]:
    source, writer = FakeChangeSource(), UnavailableFor(failures=2)
    for message in generate(orders=orders, seed=seed):
        source.append(TOPICS.by_channel[message.channel], message.value, key=message.key)
    worker = IngestWorker(source=source, writer=writer, topics=TOPICS, dead_letter_sink=RecordingSink(),
                          clock=source.clock)
    return source, writer, worker, sorted(source.logs)


def test_partitions_assigned_during_a_back_off_lose_no_record() -> None:
    source, writer, worker, partitions = _setup(orders=12, seed=11)
    assert len(partitions) >= 3
    source.reassign({partitions[0]})
    batch = source.poll(timeout_ms=0)
    source.rebalances = [set(partitions)]  # the first back-off poll brings every other partition

    worker.process(batch)  # the engine refuses twice: two back-offs, the rebalance inside the first
    worker.run(idle_exit_s=5.0)

    expected = expected_orders(list(generate(orders=12, seed=11)))
    assert worker.stats.records == sum(len(log) for log in source.logs.values())
    assert {i: o.status for i, o in writer.documents().items()} == {i: o.status for i, o in expected.items()}
    assert source.committed == {p: len(log) for p, log in source.logs.items()}
    assert source.paused == set()


def test_partitions_revoked_during_a_back_off_do_not_end_the_worker() -> None:
    source, writer, worker, partitions = _setup(orders=6, seed=12)
    batch = source.poll(timeout_ms=0)
    source.rebalances = [set(partitions[1:])]  # the first partition moves to another member

    worker.process(batch)

    assert source.assignment() == set(partitions[1:]) and source.paused == set()
    assert worker.stats.records == sum(len(records) for records in batch.values())
