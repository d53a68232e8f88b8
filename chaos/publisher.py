"""A steady producer that outlives a broker restart: what it was given is delivered, eventually.

The ground truth is computed from every message handed to it, so the publisher must
not lose one while Kafka is away: a send that fails is queued and sent again once
the broker answers (a duplicate is harmless: ingest is idempotent).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable

from kafka import KafkaProducer
from kafka.errors import KafkaError

from ingest.topics import TopicMap
from sample_traffic import TrafficMessage


class SteadyPublisher(threading.Thread):
    def __init__(self, *, servers: str, topics: TopicMap, messages: Iterable[TrafficMessage], rate: float) -> None:
        super().__init__(name="steady-publisher", daemon=True)
        self.servers = servers
        self.topics = topics
        self.messages = iter(messages)
        self.interval = 1.0 / rate
        self.sent = 0
        self.resent = 0
        self._retry: deque[TrafficMessage] = deque()
        self._lock = threading.Lock()
        self.finished = threading.Event()
        self.stopping = threading.Event()

    def run(self) -> None:
        producer = self._producer()
        next_at = time.monotonic()
        for message in self.messages:
            if self.stopping.is_set():
                break
            next_at += self.interval
            self._send(producer, message)
            time.sleep(max(0.0, next_at - time.monotonic()))
        self._drain_retries(producer)
        producer.close()
        self.finished.set()

    def _producer(self) -> KafkaProducer:
        while True:
            try:
                return KafkaProducer(bootstrap_servers=self.servers, acks="all", retries=5, linger_ms=5,
                                     max_block_ms=5_000, request_timeout_ms=5_000, delivery_timeout_ms=20_000)
            except KafkaError:
                time.sleep(1)

    def _send(self, producer: KafkaProducer, message: TrafficMessage) -> None:
        try:
            future = producer.send(self.topics.by_channel[message.channel], key=message.key, value=message.value)
        except KafkaError:
            self._queue_again(message)
            return
        future.add_errback(lambda _error, m=message: self._queue_again(m))
        self.sent += 1

    def _queue_again(self, message: TrafficMessage) -> None:
        with self._lock:
            self._retry.append(message)

    def _drain_retries(self, producer: KafkaProducer) -> None:
        while True:
            producer.flush(timeout=30)
            with self._lock:
                pending, self._retry = list(self._retry), deque()
            if not pending:
                return
            self.resent += len(pending)
            for message in pending:
                self._send(producer, message)
            time.sleep(1)
