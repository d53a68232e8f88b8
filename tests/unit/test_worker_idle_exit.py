"""`--idle-exit` with more workers than partitions: a member that never gets a partition still stops."""

from __future__ import annotations

from ingest.topics import TopicMap
from ingest.worker import IngestWorker
from tests.fakes.change_source import FakeChangeSource, FakeClock
from tests.fakes.change_writer import InMemoryWriter
from tests.fakes.dead_letter_sink import RecordingSink


def test_an_unassigned_member_stops_after_idle_exit_plus_the_rebalance_grace() -> None:
    clock = FakeClock(start=0.0)
    source = FakeChangeSource(clock=clock, assigned=False)  # the group has more members than partitions
    worker = IngestWorker(source=source, writer=InMemoryWriter(), topics=TopicMap.build("t"),
                          dead_letter_sink=RecordingSink(), rebalance_grace_s=3.0, clock=clock)

    worker.run(idle_exit_s=2.0)

    # each empty poll waits its 0.5 s timeout: it gave up after 2 + 3 s without an assignment, not before
    assert 5.0 < clock.now <= 5.5 + 0.5
    assert source.closed and worker.stats.records == 0


def test_an_assigned_member_waits_only_the_idle_exit() -> None:
    clock = FakeClock(start=0.0)
    source = FakeChangeSource(clock=clock)
    source.append("t.web", b"{bad")
    worker = IngestWorker(source=source, writer=InMemoryWriter(), topics=TopicMap.build("t"),
                          dead_letter_sink=RecordingSink(), rebalance_grace_s=3.0, clock=clock)

    worker.run(idle_exit_s=2.0)

    assert 2.0 < clock.now <= 3.0 and worker.stats.dead_lettered == 1
