"""Neutral shapes of message-bus records, shared by the Kafka adapter and the ingest ports.

Nothing here imports a Kafka client: the ingest core, the operator tools and the
in-memory fakes of the unit tests speak these small dataclasses, and only
`adapters.kafka_bus` converts them to and from the client library's own types.
"""

from __future__ import annotations

from dataclasses import dataclass

Headers = tuple[tuple[str, bytes], ...]


class BusUnavailable(RuntimeError):
    """The broker could not be reached, or did not acknowledge a write in time (retry later)."""


class OffsetsNotCommitted(RuntimeError):
    """The group moved on (a rebalance while the batch was being written, the broker away):
    these offsets were not committed, so whoever owns the partitions now replays the batch,
    which is harmless (writes are idempotent). Never a reason to stop a worker."""


@dataclass(frozen=True, order=True)
class Partition:
    """One partition of one topic."""

    topic: str
    number: int


@dataclass(frozen=True)
class ConsumedRecord:
    """A record read from the bus, with its source coordinates (topic, partition, offset)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int | None = None
    headers: Headers = ()

    @property
    def coordinates(self) -> str:
        """`topic/partition/offset`: identifies the record for good (the dead-letter key)."""
        return f"{self.topic}/{self.partition}/{self.offset}"


@dataclass(frozen=True)
class OutgoingRecord:
    """A record to write; a `None` value is a tombstone (deletes the key on a compacted topic)."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Headers = ()


def parse_coordinates(text: str) -> tuple[str, int, int]:
    """`topic/partition/offset` -> its parts (topic names may not contain '/', so the split is exact)."""
    parts = text.rsplit("/", 2)
    if len(parts) != 3 or not parts[0] or not parts[1].isdigit() or not parts[2].isdigit():
        raise ValueError(f"not topic/partition/offset: {text!r}")
    return parts[0], int(parts[1]), int(parts[2])
