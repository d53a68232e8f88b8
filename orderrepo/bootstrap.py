"""Wires adapters and domain from settings: the one place that builds engines, topics and workers."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from adapters.kafka_bus import (
    KafkaChangeSource,
    KafkaRecordSink,
    end_offsets,
    ensure_topics,
    make_consumer,
    make_producer,
)
from adapters.engine_settings import connect_async_engine, connect_engine, engine_config  # re-exported for the entry points
from adapters.bus_records import BusUnavailable
from adapters.search_engine import EngineUnavailable, SearchEngine
from index_templates import IndexNames, install
from ingest.admission import AdmittedWriter
from ingest.dead_letter import LetterBounds
from ingest.rebuild import RebuildReport, rebuild
from ingest.decoders import DecoderOptions
from ingest.topics import TopicMap
from ingest.visibility import RefreshAfterWrite
from ingest.worker import IngestWorker
from ingest.writer import OrderStoreWriter
from retention.config import build_mover
from retention.storage import TierNames, install_tier_storage
from retention.write_gate import WriteGate
from settings import Settings

if TYPE_CHECKING:
    from kafka import KafkaProducer


def index_names(settings: Settings) -> IndexNames:
    return IndexNames(settings.index_prefix)


def topic_map(settings: Settings) -> TopicMap:
    return TopicMap.from_settings(settings)


def prepare_storage(settings: Settings, engine: SearchEngine) -> None:
    """Templates, index versions, aliases and topics: idempotent, safe beside running workers."""
    install(engine, index_names(settings), refresh_interval=settings.hot_refresh_interval)
    install_tier_storage(engine, TierNames(settings.index_prefix))  # after install: warm reuses the hot components
    topics = topic_map(settings)
    ensure_topics(settings.resolved_kafka_servers(), topics.all_topics(),
                  partitions=settings.stack.kafka_partitions, configs=topics.topic_configs())


def health_file(settings: Settings, worker: int = 0) -> Path:
    suffix = f"-{worker}" if worker else ""
    return settings.stack.home / "run" / f"ingest-{settings.consumer_group}{suffix}.health.json"


def health_files(settings: Settings) -> list[Path]:
    """One per worker process of this host's consumer group."""
    return [health_file(settings, worker) for worker in range(settings.ingest_processes)]


def record_sink(settings: Settings, *, max_request_bytes: int | None = None) -> KafkaRecordSink:
    """A producer for the channel and dead-letter topics, with the configured request size limit
    (a replay of an original larger than that raises it: the broker's own limit still applies)."""
    def producer() -> KafkaProducer:
        return make_producer(settings.resolved_kafka_servers(),
                             max_request_size=max_request_bytes or settings.kafka_max_request_bytes)

    return KafkaRecordSink(producer(), renew=producer)


def letter_bounds(settings: Settings) -> LetterBounds:
    return LetterBounds(embed_max_bytes=settings.dead_letter_embed_max_bytes,
                        excerpt_bytes=settings.dead_letter_excerpt_bytes,
                        record_max_bytes=settings.kafka_max_request_bytes - 64 * 1024)


def build_worker(
    settings: Settings, engine: SearchEngine, *, group_id: str | None = None, dead_letters: bool = True,
    worker_index: int = 0,
) -> IngestWorker:
    """`dead_letters=False` (a replay): dead letters are counted, not sent, and no producer is opened."""
    topics = topic_map(settings)
    servers = settings.resolved_kafka_servers()
    consumer = make_consumer(servers, group_id=group_id or settings.consumer_group, topics=topics.source_topics(),
                             session_timeout_ms=settings.consumer_session_timeout_ms,
                             heartbeat_interval_ms=settings.consumer_session_timeout_ms // 4,
                             max_poll_records=settings.ingest_max_poll_records,
                             fetch_max_bytes=settings.ingest_fetch_max_bytes,
                             max_partition_fetch_bytes=settings.ingest_max_partition_fetch_bytes,
                             fetch_max_wait_ms=settings.ingest_fetch_max_wait_ms)
    return IngestWorker(
        source=KafkaChangeSource(consumer),
        writer=admitted_writer(settings, engine),
        topics=topics,
        dead_letter_sink=record_sink(settings) if dead_letters else None,
        letter_bounds=letter_bounds(settings),
        health_file=health_file(settings, worker_index),
        rebalance_grace_s=2 * settings.consumer_session_timeout_ms / 1000,  # a dead member's partitions move by then
        decoder_options=decoder_options(settings),
        trace_batches=settings.ingest_trace_batches,
        visibility=refresh_after_write(settings, engine),
    )


def refresh_after_write(settings: Settings, engine: SearchEngine) -> RefreshAfterWrite:
    """The worker's refresh of the hot order and timeline indices after a small batch (`ingest.visibility`)."""
    names = index_names(settings)
    hot = f"{names.orders_write},{names.events_write}"
    return RefreshAfterWrite(lambda: engine.refresh(hot), min_gap_s=settings.ingest_refresh_after_write_ms / 1000,
                             max_records=settings.ingest_refresh_after_write_max_records)


def start_worker(settings: Settings, engine: SearchEngine, *, worker_index: int, prepare: bool,
                 on_wait: Callable[[Exception, float], None] = lambda error, left: None) -> IngestWorker:
    """Storage prepared (unless the supervisor did) and the worker built. A worker (re)started while the
    broker or the engine is away waits for them with capped backoff, up to ORDERREPO_ENGINE_START_WAIT_S,
    instead of exiting: found by the fault drill (a worker restarted on a loaded machine was still
    starting when the broker restarted, and ended)."""
    deadline, attempt = time.monotonic() + settings.engine_start_wait_s, 0
    while True:
        try:
            if prepare:
                prepare_storage(settings, engine)
            return build_worker(settings, engine, worker_index=worker_index)
        except (BusUnavailable, EngineUnavailable) as error:
            if time.monotonic() >= deadline:
                raise
            on_wait(error, deadline - time.monotonic())
            time.sleep(min(0.5 * 2**attempt, 10.0, max(0.0, deadline - time.monotonic())))
            attempt += 1


def admitted_writer(settings: Settings, engine: SearchEngine) -> AdmittedWriter:
    """The order store writer behind tiering's door: late changes bring warm and cold orders back
    to hot first, tombstones block erased and expired orders (also during a full replay)."""
    writer = OrderStoreWriter(engine, index_names(settings), remember=settings.ingest_remembered_orders)
    return AdmittedWriter(writer, WriteGate(build_mover(settings, engine)))


def decoder_options(settings: Settings) -> DecoderOptions:
    """The retailer facts decoders need (store time zones, store locations), from configuration."""
    return DecoderOptions(
        pos_default_tz=settings.pos_default_tz,
        pos_store_tz=dict(settings.pos_store_tz),
        store_locations=frozenset(settings.store_locations),
    )


def rebuild_projection(settings: Settings, engine: SearchEngine, *, drop_old: bool = False,
                       progress: Callable[[int], None] | None = None) -> RebuildReport:
    """`ingest rebuild`: storage prepared, then every channel topic replayed into new index versions."""
    prepare_storage(settings, engine)
    topics = topic_map(settings)
    return rebuild(
        engine, index_names(settings),
        end_offsets=lambda: end_offsets(settings.resolved_kafka_servers(), topics.source_topics()),
        replay_worker=lambda version: build_worker(
            settings, engine, group_id=f"{settings.consumer_group}-rebuild-{version}", dead_letters=False),
        drop_old=drop_old, progress=progress,
    )


def tune_collector(threshold: int) -> None:
    """A worker's batches allocate hundreds of thousands of short-lived objects, and the cyclic
    collector at Python's default threshold took 8-13 % of the CPU path, re-scanning the long-lived
    start-up objects each time; freezing those and collecting less often measured 3-6 % less CPU per
    message on the sample mix. 0 keeps Python's defaults."""
    if threshold:
        gc.freeze()
        gc.set_threshold(threshold, 20, 20)
