"""The worker's consumer settings on the real broker: batches stay within their bound, nothing is lost,
and the batch trace accounts for every record it consumed."""

from __future__ import annotations

from pathlib import Path

from adapters.search_engine import SearchEngine
from ingest.batch_trace import load_batches, trace_path
from ingest.worker import WorkerStats
from orderrepo.bootstrap import build_worker, health_file
from sample_traffic import expected_orders, generate
from settings import Settings
from tests.integration.pipeline_harness import publish, stored_orders


def test_batches_hold_at_most_the_configured_records_and_every_order_converges(
    isolated: Settings, engine: SearchEngine, tmp_path: Path
) -> None:
    messages = list(generate(orders=40, seed=21))
    published = publish(isolated, messages)
    bounded = isolated.model_copy(update={
        "ingest_max_poll_records": 7, "ingest_fetch_max_bytes": 64 * 1024, "ingest_max_partition_fetch_bytes": 16 * 1024,
        "ingest_fetch_max_wait_ms": 100, "ingest_trace_batches": 1000,
        "stack": isolated.stack.model_copy(update={"home": tmp_path})})
    sizes: list[int] = []

    def batch_done(stats: WorkerStats) -> None:
        sizes.append(stats.records - sum(sizes))

    build_worker(bounded, engine).run(idle_exit_s=4.0, on_batch=batch_done)

    assert sum(sizes) == published
    assert max(sizes) <= 7 < published
    expected = {order_id: order.to_document() for order_id, order in expected_orders(messages).items()}
    assert stored_orders(isolated, engine) == expected
    batches = load_batches([trace_path(health_file(bounded))])
    assert len(batches) == len(sizes)
    assert sum(last - first + 1 for batch in batches for first, last in batch.offsets.values()) == published
