"""Publishes the sample traffic with a progress bar (used by `traffic publish`, the demo and benchmarks)."""

from __future__ import annotations

from collections.abc import Iterator

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from adapters.kafka_bus import make_producer
from ingest.publish import publish_traffic
from sample_traffic import TrafficMessage, generate, inject_faults
from orderrepo.bootstrap import topic_map
from settings import Settings


def sample_messages(*, orders: int, seed: int, faults: bool) -> Iterator[TrafficMessage]:
    messages = generate(orders=orders, seed=seed)
    if not faults:
        return messages
    return (faulty.message for faulty in inject_faults(messages, seed=seed))


def publish_sample_traffic(settings: Settings, *, orders: int, seed: int, faults: bool = False) -> int:
    producer = make_producer(settings.resolved_kafka_servers())
    columns = (TextColumn("[bold]publishing"), BarColumn(), MofNCompleteColumn(),
               TextColumn("messages"), TimeElapsedColumn())
    try:
        with Progress(*columns, transient=False) as progress:
            task = progress.add_task("publish", total=None)
            return publish_traffic(
                sample_messages(orders=orders, seed=seed, faults=faults), producer=producer,
                topics=topic_map(settings), progress=lambda sent: progress.update(task, completed=sent),
            )
    finally:
        producer.close()
