"""Worker-driven visibility: when the worker asks the engine for a refresh after a batch, and when not."""

from __future__ import annotations

from adapters.bus_records import Partition
from adapters.search_engine import EngineUnavailable
from ingest import metrics
from ingest.topics import TopicMap
from ingest.visibility import RefreshAfterWrite
from ingest.worker import IngestWorker
from sample_traffic import generate
from tests.fakes.change_source import FakeChangeSource, FakeClock
from tests.fakes.change_writer import InMemoryWriter
from tests.fakes.dead_letter_sink import RecordingSink

TOPICS = TopicMap.build("t")


class Refreshes:
    """Counts the refreshes asked; `fail` makes each one raise as an engine that is away."""

    def __init__(self, *, fail: bool = False) -> None:
        self.count = 0
        self.fail = fail

    def __call__(self) -> None:
        self.count += 1
        if self.fail:
            raise EngineUnavailable(0, "connection refused")


def test_a_small_batch_refreshes_at_once_and_a_second_one_within_the_gap_does_not() -> None:
    clock, refreshes = FakeClock(), Refreshes()
    policy = RefreshAfterWrite(refreshes, min_gap_s=0.25, max_records=100, clock=clock)

    assert policy.after_batch(40) is True
    clock.advance(0.2)
    assert policy.after_batch(40) is False  # 0.2 s after the last: within the gap
    clock.advance(0.05)
    assert policy.after_batch(40) is True  # 0.25 s after it
    assert refreshes.count == 2


def test_a_batch_larger_than_the_limit_leaves_it_to_the_periodic_refresh() -> None:
    refreshes = Refreshes()
    policy = RefreshAfterWrite(refreshes, min_gap_s=0.25, max_records=100, clock=FakeClock())

    assert policy.after_batch(101) is False
    assert policy.after_batch(100) is True
    assert refreshes.count == 1


def test_a_gap_of_zero_switches_it_off() -> None:
    refreshes = Refreshes()
    policy = RefreshAfterWrite(refreshes, min_gap_s=0, max_records=100, clock=FakeClock())

    assert (policy.enabled, policy.after_batch(1), refreshes.count) == (False, False, 0)


def test_a_failed_refresh_is_counted_and_swallowed_and_the_gap_still_holds() -> None:
    clock, refreshes = FakeClock(), Refreshes(fail=True)
    policy = RefreshAfterWrite(refreshes, min_gap_s=1.0, max_records=100, clock=clock)
    failed = metrics.REFRESHES_ASKED.labels("failed")
    before = failed._value.get()

    assert policy.after_batch(5) is False
    assert policy.after_batch(5) is False  # not retried within the gap: the periodic refresh covers it
    assert (refreshes.count, failed._value.get() - before) == (1, 1)


def _worker(source: FakeChangeSource, policy: RefreshAfterWrite) -> IngestWorker:
    return IngestWorker(source=source, writer=InMemoryWriter(), topics=TOPICS, dead_letter_sink=RecordingSink(),
                        clock=source.clock, visibility=policy)


def test_the_worker_refreshes_after_the_commit_of_a_small_batch_only() -> None:
    source = FakeChangeSource(max_batch=500)
    committed_at_refresh: list[dict[Partition, int]] = []
    policy = RefreshAfterWrite(lambda: committed_at_refresh.append(dict(source.committed)), min_gap_s=0.5,
                               max_records=30, clock=source.clock)
    worker = _worker(source, policy)
    messages = list(generate(orders=10, seed=4))
    for message in messages[:20]:
        source.append(TOPICS.by_channel[message.channel], message.value, key=message.key)

    worker.process(source.poll(timeout_ms=0))  # 20 records: small, refreshed after its commit
    assert committed_at_refresh == [{p: len(log) for p, log in source.logs.items()}]

    for message in messages[20:]:
        source.append(TOPICS.by_channel[message.channel], message.value, key=message.key)
    source.clock.advance(1.0)
    batch = source.poll(timeout_ms=0)
    worker.process(batch)  # more than 30 records: behind, no refresh
    assert sum(len(records) for records in batch.values()) == len(messages) - 20 > 30
    assert (len(committed_at_refresh), worker.stats.refreshes_asked) == (1, 1)


def test_a_failing_refresh_never_fails_the_batch() -> None:
    source = FakeChangeSource()
    worker = _worker(source, RefreshAfterWrite(Refreshes(fail=True), min_gap_s=0.5, max_records=500,
                                               clock=source.clock))
    for message in list(generate(orders=3, seed=2)):
        source.append(TOPICS.by_channel[message.channel], message.value, key=message.key)

    worker.process(source.poll(timeout_ms=0))

    assert (worker.stats.accepted, worker.stats.refreshes_asked) == (worker.stats.records, 0)
    assert source.committed == {p: len(log) for p, log in source.logs.items()}
