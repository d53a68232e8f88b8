"""Ports: what the ingest core needs from the outside world, as small structural Protocols.

The real adapters (`adapters.search_engine`, `adapters.kafka_bus`) and the in-memory
fakes used by unit tests both satisfy these without inheriting from them, so the
worker and writer can be exercised without servers and the fakes are checked by
the same contract suite as the real adapters (`tests/contract/`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from adapters.bus_records import ConsumedRecord, OutgoingRecord, Partition
from adapters.search_engine import BulkItemResult
from order_domain.model import OrderChange


class OrderStore(Protocol):
    """The current-state and timeline documents, with optimistic concurrency.

    `mget` answers found documents by id, each with `_source`, `_seq_no` and
    `_primary_term`; `bulk` applies index/create/delete actions in the engine's bulk
    action shape (`_op_type`, `_index`, `_id`, `_source`, `if_seq_no`,
    `if_primary_term`) and yields one result per item, matched by `doc_id`.
    """

    def mget(self, index: str, ids: list[str]) -> dict[str, dict[str, Any]]: ...

    def aliases_of(self, alias: str) -> list[str]: ...

    def bulk(
        self, actions: Iterable[dict[str, Any]], *, chunk_size: int = 1000, max_retries: int = 5,
        refresh: bool | str = False,
    ) -> Iterator[BulkItemResult]: ...


class ChangeSource(Protocol):
    """The channel topics as the worker consumes them (a consumer-group member).

    `poll` answers the records of the assigned partitions by partition, in offset
    order; `commit` stores, per partition, the offset of the *next* record to read;
    paused partitions answer nothing from `poll` while polling keeps the membership
    alive; pausing or resuming a partition no longer assigned does nothing; `seek` makes
    the next `poll` answer an assigned partition from that offset. Partitions are only
    assigned and revoked inside `poll`.
    """

    def poll(self, *, timeout_ms: int) -> dict[Partition, list[ConsumedRecord]]: ...

    def commit(self, offsets: Mapping[Partition, int]) -> None: ...

    def pause(self, partitions: Collection[Partition]) -> None: ...

    def resume(self, partitions: Collection[Partition]) -> None: ...

    def seek(self, partition: Partition, offset: int) -> None: ...

    def assignment(self) -> set[Partition]: ...

    def end_offsets(self, partitions: Collection[Partition]) -> dict[Partition, int]: ...

    def position(self, partition: Partition) -> int: ...

    def close(self) -> None: ...


class RecordSink(Protocol):
    """Writes records to the bus. `send` returns only once the broker acknowledged every
    record, and raises `BusUnavailable` otherwise, so a caller may move offsets after it."""

    def send(self, records: Sequence[OutgoingRecord]) -> None: ...

    def close(self) -> None: ...


class DeadLetterSink(RecordSink, Protocol):
    """The dead-letter topic: a `RecordSink` the worker writes dead-letter and ignored
    records to, acknowledged before the offsets of their source records are committed."""


class Admission(Protocol):
    """What tiering answers for a batch: the changes to write, and those a tombstone blocks."""

    to_write: list[OrderChange]
    blocked: list[OrderChange]


class WriteAdmission(Protocol):
    """Tiering's door on the write path (`retention.write_gate.WriteGate`): before a batch is
    merged, warm and cold orders it touches are brought back to hot with their history, and
    changes to erased or expired orders are blocked by their tombstones. Raises when an order
    could not be brought back yet (a concurrent move): the batch is retried like an outage."""

    def admit(self, changes: Sequence[OrderChange]) -> Admission: ...
