"""A steady producer that outlives a broker restart: what it was given is delivered, eventually.

The ground truth is computed from every message handed to it, so the publisher must not
lose one while Kafka is away: each send's acknowledgement is awaited at the end, and every
message whose send failed or was never acknowledged is sent again until the broker
acknowledges it (a duplicate is harmless: ingest is idempotent). After a broker restart the
client can stay convinced that no broker is reachable ("No node available for metadata refresh"
for minutes, seen with kafka-python 3.0 while the consumers had long reconnected), so a round
that acknowledges nothing replaces the producer, as a channel's client restart would. A
publisher that cannot deliver within its deadline says so (`error`), and the drill fails
instead of judging a stream that was never fully produced.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from ingest.topics import TopicMap
from sample_traffic import TrafficMessage


class SteadyPublisher(threading.Thread):
    def __init__(self, *, servers: str, topics: TopicMap, messages: Iterable[TrafficMessage], rate: float,
                 deliver_within_s: float = 300.0) -> None:
        super().__init__(name="steady-publisher", daemon=True)
        self.servers = servers
        self.topics = topics
        self.messages = iter(messages)
        self.interval = 1.0 / rate
        self.deliver_within_s = deliver_within_s
        self.sent = 0
        self.resent = 0
        self.producer_restarts = 0
        self.error: str | None = None
        self.stopping = threading.Event()
        self._in_flight: list[tuple[TrafficMessage, Any]] = []

    def run(self) -> None:
        try:
            producer = self._producer()
            next_at = time.monotonic()
            for message in self.messages:
                if self.stopping.is_set():
                    break
                next_at += self.interval
                self._send(producer, message)
                time.sleep(max(0.0, next_at - time.monotonic()))
            producer = self._deliver_all(producer)
            producer.close(timeout=10)
        except Exception as error:  # noqa: BLE001 - reported to the drill, which then fails loudly
            self.error = f"{type(error).__name__}: {error}"

    def _producer(self) -> KafkaProducer:
        deadline = time.monotonic() + self.deliver_within_s
        while True:
            try:
                return KafkaProducer(bootstrap_servers=self.servers, acks="all", retries=5, linger_ms=5,
                                     max_block_ms=5_000, request_timeout_ms=5_000, delivery_timeout_ms=20_000)
            except KafkaError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)

    def _send(self, producer: KafkaProducer, message: TrafficMessage) -> None:
        try:
            future = producer.send(self.topics.by_channel[message.channel], key=message.key, value=message.value)
        except KafkaError:
            future = None  # not even queued (metadata unavailable): sent again below
        self._in_flight.append((message, future))
        self.sent += 1

    def _deliver_all(self, producer: KafkaProducer) -> KafkaProducer:
        """Returns the producer that delivered the rest (a fresh one if the first got stuck)."""
        deadline = time.monotonic() + self.deliver_within_s
        while self._in_flight:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self._in_flight)} messages still unacknowledged")
            try:
                producer.flush(timeout=30)
            except KafkaError:
                pass  # what is still unacknowledged is sent again below
            failed = [message for message, future in self._in_flight if not _acknowledged(future)]
            if failed and len(failed) == len(self._in_flight):
                producer = self._replace(producer)
            self._in_flight = []
            if failed:
                self.resent += len(failed)
                time.sleep(1)
                for message in failed:
                    self._send(producer, message)
                self.sent -= len(failed)  # counted once, however often it was sent
        return producer

    def _replace(self, producer: KafkaProducer) -> KafkaProducer:
        """Nothing acknowledged in a whole round: a new client, with fresh connections and metadata."""
        self.producer_restarts += 1
        try:
            producer.close(timeout=1)
        except KafkaError:
            pass  # what it still held is sent again by the caller
        return self._producer()


def _acknowledged(future: Any) -> bool:
    """Never blocks: after the flush, a send is either acknowledged or sent again."""
    return future is not None and future.is_done and future.succeeded()
