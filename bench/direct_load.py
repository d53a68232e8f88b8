"""Loads the sample traffic's final documents without Kafka, for data sizes where only the
read figures matter (the full bench's 3,000,000-order point), and builds the document cache.

The same decoders, merge and write plans as the worker (`ingest.writer.OrderStoreWriter`,
so the stored documents are the pipeline's), sent in large batches straight to the
engine's bulk API: no broker, no consumer group, no offsets. Ingest throughput is not
measured at this size; the pipeline's figures come from the smaller sizes.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import islice
from typing import Any

from bench.measure import Stopwatch
from ingest.decoders import decode
from ingest.ports import OrderStore
from ingest.writer import OrderStoreWriter
from orderrepo.bootstrap import decoder_options, index_names, topic_map
from orderrepo.traffic import sample_messages
from sample_traffic import TrafficMessage
from settings import Settings

BATCH = 20_000


class DirectWriter:
    """Decodes batches of channel messages and writes them through the worker's writer into
    one store (the engine, or one file of `bench.doc_cache`); counts messages and changes."""

    def __init__(self, settings: Settings, engine: OrderStore) -> None:
        self.topics, self.options = topic_map(settings), decoder_options(settings)
        self.writer = OrderStoreWriter(engine, index_names(settings))
        self.messages = self.changes = 0

    def write(self, batch: Sequence[TrafficMessage]) -> None:
        decoded = [change for message in batch
                   for change in decode(self.topics.format_of(self.topics.by_channel[message.channel]) or "",
                                        message.value, self.options)]
        self.writer.write(decoded)
        self.messages += len(batch)
        self.changes += len(decoded)


def direct_load(settings: Settings, engine: OrderStore, orders: int, seed: int) -> dict[str, Any]:
    """Decode and merge `orders` orders' traffic in this process and bulk the results into `engine`
    (the engine itself, or `bench.doc_cache`'s file store that keeps them for raw bulk loads)."""
    writer = DirectWriter(settings, engine)
    stream = sample_messages(orders=orders, seed=seed, faults=False)
    with Stopwatch() as watch:
        while batch := list(islice(stream, BATCH)):
            writer.write(batch)
    return {"orders": orders, "messages": writer.messages, "changes": writer.changes,
            "load_seconds": round(watch.seconds, 1), "loaded_by": "direct bulk (no Kafka)"}
