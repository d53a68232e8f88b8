"""Publishes the sample traffic with a progress bar (used by `traffic publish`, the demo and benchmarks)."""

from __future__ import annotations

from collections.abc import Iterator

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ingest.publish import publish_traffic
from orderrepo.bootstrap import record_sink, topic_map
from sample_traffic import TrafficMessage, generate, inject_faults
from settings import Settings


def sample_messages(*, orders: int, seed: int, faults: bool) -> Iterator[TrafficMessage]:
    messages = generate(orders=orders, seed=seed)
    if not faults:
        return messages
    return (faulty.message for faulty in inject_faults(messages, seed=seed))


def publish_sample_traffic(settings: Settings, *, orders: int, seed: int, faults: bool = False) -> int:
    sink = record_sink(settings)
    columns = (TextColumn("[bold]publishing"), BarColumn(), MofNCompleteColumn(),
               TextColumn("messages"), TimeElapsedColumn())
    try:
        with Progress(*columns, transient=False) as progress:
            task = progress.add_task("publish", total=None)
            return publish_traffic(
                sample_messages(orders=orders, seed=seed, faults=faults), sink=sink,
                topics=topic_map(settings), progress=lambda sent: progress.update(task, completed=sent),
            )
    finally:
        sink.close()
