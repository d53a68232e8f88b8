"""An in-memory `DeadLetterSink` (and `RecordSink`): keeps what was acknowledged; can refuse a few times."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.bus_records import BusUnavailable, ConsumedRecord, OutgoingRecord
from ingest.dead_letter import DeadLetter, latest_letters


class RecordingSink:
    def __init__(self, *, refuse_first: int = 0) -> None:
        self.sent: list[OutgoingRecord] = []
        self.refusals_left = refuse_first
        self.sends = 0
        self.closed = False

    def send(self, records: Sequence[OutgoingRecord]) -> None:
        self.sends += 1
        if self.refusals_left:
            self.refusals_left -= 1
            raise BusUnavailable("the fake broker is down")
        self.sent.extend(records)

    def close(self) -> None:
        self.closed = True

    def letters(self) -> list[dict[str, Any]]:
        """Every record sent, parsed, in sending order (duplicates included)."""
        return [DeadLetter.parse(record.value) for record in self.sent if record.value is not None]

    def as_topic(self) -> list[ConsumedRecord]:
        """What a reader of the dead-letter topic would see (one partition, in sending order)."""
        return [ConsumedRecord(topic=r.topic, partition=0, offset=i, key=r.key, value=r.value, timestamp_ms=i)
                for i, r in enumerate(self.sent)]

    def current(self) -> list[dict[str, Any]]:
        """The de-duplicated view `orderrepo dlq list` shows."""
        return latest_letters(self.as_topic())
