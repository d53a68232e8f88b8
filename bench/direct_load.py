"""Loads the sample traffic's final documents without Kafka, for data sizes where only the
read figures matter (the full bench's 3,000,000-order point).

The same decoders, merge and write plans as the worker (`ingest.writer.OrderStoreWriter`,
so the stored documents are the pipeline's), sent in large batches straight to the
engine's bulk API: no broker, no consumer group, no offsets. Ingest throughput is not
measured at this size; the pipeline's figures come from the smaller sizes.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from bench.measure import Stopwatch
from ingest.decoders import decode
from ingest.ports import OrderStore
from ingest.writer import OrderStoreWriter
from orderrepo.bootstrap import decoder_options, index_names, topic_map
from orderrepo.traffic import sample_messages
from settings import Settings

BATCH = 20_000


def direct_load(settings: Settings, engine: OrderStore, orders: int, seed: int) -> dict[str, Any]:
    """Decode and merge `orders` orders' traffic in this process and bulk the results into `engine`
    (the engine itself, or `bench.doc_cache`'s file store that keeps them for raw bulk loads)."""
    topics, options = topic_map(settings), decoder_options(settings)
    writer = OrderStoreWriter(engine, index_names(settings))
    stream = sample_messages(orders=orders, seed=seed, faults=False)
    messages = changes = 0
    with Stopwatch() as watch:
        while batch := list(islice(stream, BATCH)):
            decoded = [change for message in batch
                       for change in decode(topics.format_of(topics.by_channel[message.channel]) or "",
                                            message.value, options)]
            writer.write(decoded)
            messages += len(batch)
            changes += len(decoded)
    return {"orders": orders, "messages": messages, "changes": changes, "load_seconds": round(watch.seconds, 1),
            "loaded_by": "direct bulk (no Kafka)"}
