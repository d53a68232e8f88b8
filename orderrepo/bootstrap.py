"""Wires adapters and domain from settings: the one place that builds engines, topics and workers."""

from __future__ import annotations

from pathlib import Path

from adapters.kafka_bus import ensure_topics, make_consumer, make_producer
from adapters.search_engine import AsyncSearchEngine, EngineConfig, SearchEngine
from index_templates import IndexNames, install
from ingest.decoders import DecoderOptions
from ingest.topics import TopicMap
from ingest.worker import IngestWorker
from ingest.writer import OrderStoreWriter
from settings import Settings


def engine_config(settings: Settings) -> EngineConfig:
    return EngineConfig(
        url=settings.resolved_engine_url(), username=settings.engine_username,
        password=settings.engine_password, verify_certs=settings.engine_verify_certs,
        timeout_s=settings.engine_timeout_s, http_compress=settings.engine_http_compress,
    )


def connect_engine(settings: Settings) -> SearchEngine:
    return SearchEngine.connect(engine_config(settings))


async def connect_async_engine(settings: Settings) -> AsyncSearchEngine:
    return await AsyncSearchEngine.connect(engine_config(settings))


def index_names(settings: Settings) -> IndexNames:
    return IndexNames(settings.index_prefix)


def topic_map(settings: Settings) -> TopicMap:
    return TopicMap.build(settings.topic_prefix, settings.channel_topics, settings.dead_letter_topic)


def prepare_storage(settings: Settings, engine: SearchEngine) -> None:
    """Templates, index versions, aliases and topics: idempotent, safe beside running workers."""
    install(engine, index_names(settings))
    ensure_topics(settings.resolved_kafka_servers(), topic_map(settings).all_topics(),
                  partitions=settings.stack.kafka_partitions)


def health_file(settings: Settings, worker: int = 0) -> Path:
    suffix = f"-{worker}" if worker else ""
    return settings.stack.home / "run" / f"ingest-{settings.consumer_group}{suffix}.health.json"


def health_files(settings: Settings) -> list[Path]:
    """One per worker process of this host's consumer group."""
    return [health_file(settings, worker) for worker in range(settings.ingest_processes)]


def build_worker(
    settings: Settings, engine: SearchEngine, *, group_id: str | None = None, dead_letters: bool = True,
    worker_index: int = 0,
) -> IngestWorker:
    topics = topic_map(settings)
    servers = settings.resolved_kafka_servers()
    return IngestWorker(
        consumer=make_consumer(servers, group_id=group_id or settings.consumer_group, topics=topics.source_topics(),
                               session_timeout_ms=settings.consumer_session_timeout_ms,
                               heartbeat_interval_ms=settings.consumer_session_timeout_ms // 4),
        producer=make_producer(servers),
        writer=OrderStoreWriter(engine, index_names(settings)),
        topics=topics,
        health_file=health_file(settings, worker_index),
        dead_letters=dead_letters,
        rebalance_grace_s=2 * settings.consumer_session_timeout_ms / 1000,  # a dead member's partitions move by then
        decoder_options=decoder_options(settings),
    )


def decoder_options(settings: Settings) -> DecoderOptions:
    """The retailer facts decoders need (store time zones, store locations), from configuration."""
    return DecoderOptions(
        pos_default_tz=settings.pos_default_tz,
        pos_store_tz=dict(settings.pos_store_tz),
        store_locations=frozenset(settings.store_locations),
    )
