"""Tiering by read frequency: hot -> warm -> cold (Parquet) -> deleted, and erasure of one customer.

Modules, from the bottom up:
  storage      names, template installation (`install_tier_storage`), warm month indices
  locator      the order locator: one always-hot entry per order (tier, location, reads)
  journal      the version-guarded steps a move records in a locator entry
  copies       read/write/delete an order's copy (document + timeline) in any tier
  tombstones   durable tombstones and the erasure audit
  cold_sweep   keeps every cold part equal to what the locator says it holds
  mover        policy decisions applied with the crash-safe move protocol; rehydration
  write_gate   what the write path asks before writing (blocked / rehydrate first / go)
  read_recorder, tier_reader   the async read side for the query API
  erasure      right to be forgotten across every tier
  report, config, metrics      sizes per tier and month, objects from settings, Prometheus
The decisions themselves are pure: `order_domain.tier_policy`.
"""
