"""Prometheus metrics of the ingest worker (exported on ORDERREPO_INGEST_METRICS_PORT)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_CONSUMED = Counter("orderrepo_ingest_records_consumed_total", "Kafka records consumed", ["topic"])
CHANGES_DECODED = Counter("orderrepo_ingest_changes_decoded_total", "Canonical changes decoded", ["channel"])
ORDERS_WRITTEN = Counter("orderrepo_ingest_orders_written_total", "Order documents written")
TIMELINE_WRITTEN = Counter("orderrepo_ingest_timeline_entries_total", "Timeline entries written")
DROPPED = Counter("orderrepo_ingest_dropped_total", "Changes dropped as insignificant", ["why"])
DEAD_LETTERED = Counter("orderrepo_ingest_dead_lettered_total", "Records sent to the dead-letter topic", ["reason"])
IGNORED = Counter("orderrepo_ingest_ignored_total",
                  "Well-formed records that carry no order (recorded as kind=ignored on the dead-letter topic)",
                  ["reason"])
CONFLICTS = Counter("orderrepo_ingest_conflict_retries_total", "Orders re-read after a version-guard conflict")
BATCH_SECONDS = Histogram("orderrepo_ingest_batch_seconds", "Decode+merge+write+commit time per batch",
                          buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
VISIBLE_LAG = Histogram("orderrepo_ingest_produce_to_visible_seconds",
                        "Kafka record timestamp to acknowledged write (searchable after the next hot refresh)",
                        buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300))
CONSUMER_LAG = Gauge("orderrepo_ingest_consumer_lag", "Records behind the end of the assigned partitions")
ENGINE_BACKOFFS = Counter("orderrepo_ingest_engine_backoffs_total", "Batches paused because the engine refused")
COMMITS_LOST = Counter("orderrepo_ingest_commits_lost_total",
                       "Batches whose offsets could not be committed (rebalance); their owner replays them")
REFRESHES_ASKED = Counter("orderrepo_ingest_refreshes_asked_total",
                          "Hot-index refreshes the worker asked for right after a small batch (ingest.visibility)",
                          ["outcome"])
