"""Helpers shared by the pipeline tests: isolated settings, publishing, reading the store back."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from adapters.kafka_bus import delete_topics, read_topic
from adapters.search_engine import SearchEngine
from ingest.dead_letter import DeadLetter
from ingest.planner import order_from_document
from ingest.publish import publish_traffic
from orderrepo.bootstrap import index_names, record_sink, topic_map
from sample_traffic import TrafficMessage
from settings import Settings


def isolated_settings(settings: Settings, name: str) -> Settings:
    return settings.model_copy(update={"index_prefix": name, "topic_prefix": name, "consumer_group": f"{name}-ingest"})


def remove_everything(settings: Settings, engine: SearchEngine) -> None:
    for row in engine.request("GET", f"/_cat/indices/{settings.index_prefix}-*", params={"format": "json"}):
        engine.delete_index(row["index"])
    delete_topics(settings.resolved_kafka_servers(), topic_map(settings).all_topics())


def publish(settings: Settings, messages: Iterable[TrafficMessage]) -> int:
    sink = record_sink(settings)
    try:
        return publish_traffic(messages, sink=sink, topics=topic_map(settings))
    finally:
        sink.close()


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
    """Every record on the dead-letter topic (duplicates included), once at least `expected` arrived."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = [DeadLetter.parse(record.value) for record in
                 read_topic(settings.resolved_kafka_servers(), topic_map(settings).dead_letter)
                 if record.value is not None]
        if len(found) >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.5)
