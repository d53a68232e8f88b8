"""Benchmarks: ingest throughput vs the raw bulk limit, freshness, query latency vs the
direct engine query and a PostgreSQL baseline, resource use. Run `python -m bench`."""
