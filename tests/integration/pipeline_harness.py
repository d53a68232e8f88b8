"""Helpers shared by the pipeline tests: isolated settings, publishing, reading the store back."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from adapters.kafka_bus import delete_topics, make_consumer, make_producer
from adapters.search_engine import SearchEngine
from ingest.dead_letter import DeadLetter
from ingest.planner import order_from_document
from ingest.publish import publish_traffic
from sample_traffic import TrafficMessage
from orderrepo.bootstrap import index_names, topic_map
from settings import Settings


def isolated_settings(settings: Settings, name: str) -> Settings:
    return settings.model_copy(update={"index_prefix": name, "topic_prefix": name, "consumer_group": f"{name}-ingest"})


def remove_everything(settings: Settings, engine: SearchEngine) -> None:
    for row in engine.request("GET", f"/_cat/indices/{settings.index_prefix}-*", params={"format": "json"}):
        engine.delete_index(row["index"])
    delete_topics(settings.resolved_kafka_servers(), topic_map(settings).all_topics())


def publish(settings: Settings, messages: Iterable[TrafficMessage]) -> int:
    producer = make_producer(settings.resolved_kafka_servers())
    try:
        return publish_traffic(messages, producer=producer, topics=topic_map(settings))
    finally:
        producer.close()


def stored_orders(settings: Settings, engine: SearchEngine) -> dict[str, dict[str, Any]]:
    alias = index_names(settings).orders
    engine.refresh(alias)
    hits = engine.search(alias, {"size": 10_000, "query": {"match_all": {}}})["hits"]["hits"]
    return {hit["_id"]: order_from_document(hit["_source"]).to_document() for hit in hits}


def timeline_ids(settings: Settings, engine: SearchEngine) -> list[str]:
    alias = index_names(settings).events
    engine.refresh(alias)
    hits = engine.search(alias, {"size": 10_000, "_source": False, "query": {"match_all": {}}})["hits"]["hits"]
    return [hit["_id"] for hit in hits]


def dead_letters(settings: Settings, expected: int, timeout_s: float = 60) -> list[dict[str, Any]]:
    consumer = make_consumer(settings.resolved_kafka_servers(), group_id=f"{settings.index_prefix}-dlq-reader",
                             topics=[topic_map(settings).dead_letter])
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(found) < expected and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=1000).values():
                found.extend(DeadLetter.parse(record.value) for record in records)
        if len(found) >= expected:  # anything beyond `expected` would be a bug: look a little longer
            for records in consumer.poll(timeout_ms=2000).values():
                found.extend(DeadLetter.parse(record.value) for record in records)
    finally:
        consumer.close()
    return found
