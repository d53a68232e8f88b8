"""An in-memory `ChangeSource`: topics as lists, one consumer that owns every partition (or none).

Time is a `FakeClock` that an empty poll advances by its timeout, as a real poll would
block, so the worker's idle exit and backoff pauses run without sleeping.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from adapters.bus_records import ConsumedRecord, OffsetsNotCommitted, Partition


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeChangeSource:
    def __init__(self, *, clock: FakeClock | None = None, max_batch: int = 500, assigned: bool = True) -> None:
        self.clock = clock or FakeClock()
        self.max_batch = max_batch
        self.assigned = assigned
        self.logs: dict[Partition, list[ConsumedRecord]] = {}
        self.positions: dict[Partition, int] = {}
        self.committed: dict[Partition, int] = {}
        self.commits: list[dict[Partition, int]] = []
        self.paused: set[Partition] = set()
        self.refuse_commits = 0  # the next N commits fail as after a rebalance
        self.pause_calls = 0
        self.polls = 0
        self.owned: set[Partition] | None = None  # None: every partition with records
        self.rebalances: list[set[Partition]] = []  # assignments the next polls bring, one per poll
        self.closed = False

    def append(self, topic: str, value: bytes | None, *, key: bytes | None = None, partition: int = 0,
               timestamp_ms: int | None = None) -> ConsumedRecord:
        """Add a record at the end of `topic`/`partition` (offsets count from 0)."""
        log = self.logs.setdefault(Partition(topic, partition), [])
        self.positions.setdefault(Partition(topic, partition), 0)
        record = ConsumedRecord(topic=topic, partition=partition, offset=len(log), key=key, value=value,
                                timestamp_ms=timestamp_ms)
        log.append(record)
        return record

    def extend(self, records: Iterable[tuple[str, bytes | None]]) -> list[ConsumedRecord]:
        return [self.append(topic, value) for topic, value in records]

    def rewind(self) -> None:
        """Read everything again from the committed offsets (what a restarted member does)."""
        self.positions = {p: self.committed.get(p, 0) for p in self.logs}

    def reassign(self, partitions: set[Partition]) -> None:
        """A rebalance: revoked partitions lose their pause, new ones are read from the committed offset."""
        for partition in partitions - self.assignment():
            self.positions[partition] = self.committed.get(partition, 0)
        self.owned = set(partitions)
        self.paused &= self.owned

    def poll(self, *, timeout_ms: int) -> dict[Partition, list[ConsumedRecord]]:
        self.polls += 1
        if self.rebalances:  # as in Kafka, inside the poll, which may then answer the new partitions at once
            self.reassign(self.rebalances.pop(0))
        batch: dict[Partition, list[ConsumedRecord]] = {}
        room = self.max_batch
        for partition in sorted(self.assignment() - self.paused):
            records = self.logs[partition][self.positions[partition]:][:room]
            if records:
                batch[partition] = records
                self.positions[partition] += len(records)
                room -= len(records)
        if not batch:
            self.clock.advance(timeout_ms / 1000)
        return batch

    def commit(self, offsets: Mapping[Partition, int]) -> None:
        if self.refuse_commits:
            self.refuse_commits -= 1
            raise OffsetsNotCommitted("CommitFailedError: the group rebalanced")
        self.commits.append(dict(offsets))
        self.committed.update(offsets)

    def pause(self, partitions: Collection[Partition]) -> None:
        self.pause_calls += 1
        self.paused |= set(partitions) & self.assignment()

    def resume(self, partitions: Collection[Partition]) -> None:
        self.paused -= set(partitions)

    def seek(self, partition: Partition, offset: int) -> None:
        assert partition in self.assignment(), f"seek on {partition}, which is not assigned"
        self.positions[partition] = offset

    def assignment(self) -> set[Partition]:
        if not self.assigned:
            return set()
        return set(self.logs) if self.owned is None else set(self.owned)

    def end_offsets(self, partitions: Collection[Partition]) -> dict[Partition, int]:
        return {p: len(self.logs[p]) for p in partitions}

    def position(self, partition: Partition) -> int:
        return self.positions[partition]

    def close(self) -> None:
        self.closed = True
