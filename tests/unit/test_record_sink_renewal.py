"""A producer stuck after a broker restart is replaced: the worker's retry of a dead letter goes
through a fresh client instead of failing for as long as the stuck one stays stuck."""

from __future__ import annotations

from typing import Any

import pytest
from kafka.errors import KafkaTimeoutError

from adapters.bus_records import OutgoingRecord
from adapters.kafka_bus import KafkaRecordSink, KafkaUnavailable


class _Future:
    def __init__(self, *, fails: bool) -> None:
        self.fails = fails

    def get(self, timeout: float) -> None:
        if self.fails:
            raise KafkaTimeoutError("Expiring 1 record(s): 20000 ms has passed since batch creation")


class _Producer:
    def __init__(self, *, stuck: bool) -> None:
        self.stuck = stuck
        self.sent: list[tuple[str, bytes | None]] = []
        self.closed = False

    def send(self, topic: str, *, key: bytes | None, value: bytes | None, headers: Any) -> _Future:
        self.sent.append((topic, value))
        return _Future(fails=self.stuck)

    def close(self, timeout: float | None = None) -> None:
        self.closed = True


def _record() -> OutgoingRecord:
    return OutgoingRecord(topic="shop.dead-letters", key=b"k", value=b"letter", headers=())


def test_a_failed_send_renews_the_producer_and_the_retry_is_acknowledged() -> None:
    stuck, fresh = _Producer(stuck=True), _Producer(stuck=False)
    sink = KafkaRecordSink(stuck, ack_timeout_s=0.1, renew=lambda: fresh)  # type: ignore[arg-type]
    with pytest.raises(KafkaUnavailable):
        sink.send([_record()])
    assert stuck.closed
    sink.send([_record()])
    assert fresh.sent == [("shop.dead-letters", b"letter")]


def test_without_renew_the_same_producer_is_kept() -> None:
    stuck = _Producer(stuck=True)
    sink = KafkaRecordSink(stuck, ack_timeout_s=0.1)  # type: ignore[arg-type]
    for _ in range(2):
        with pytest.raises(KafkaUnavailable):
            sink.send([_record()])
    assert not stuck.closed and len(stuck.sent) == 2
