"""Prometheus metrics of tiering (exported by `retention run --loop` on ORDERREPO_TIER_MOVER_METRICS_PORT)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MOVES = Counter("orderrepo_tier_moves_total", "Orders moved between tiers", ["source", "target"])
MOVE_CONFLICTS = Counter("orderrepo_tier_move_conflicts_total",
                         "Moves skipped or reverted because the order changed meanwhile", ["step"])
MOVE_SECONDS = Histogram("orderrepo_tier_move_batch_seconds", "Time to move one batch of orders", ["target"],
                         buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
RESUMED = Counter("orderrepo_tier_moves_resumed_total", "Interrupted moves found and finished or rolled back",
                  ["action"])
COLD_PARTS_REWRITTEN = Counter("orderrepo_tier_cold_parts_rewritten_total", "Cold Parquet parts rewritten")
PASS_SECONDS = Gauge("orderrepo_tier_last_pass_seconds", "Duration of the last retention pass")
READS_RECORDED = Counter("orderrepo_tier_reads_recorded_total", "Reads flushed to the locator", ["tier"])
REHYDRATIONS = Counter("orderrepo_tier_rehydrations_total", "Orders brought back to hot", ["reason"])
ERASURES = Counter("orderrepo_tier_erasures_total", "Customers erased")
