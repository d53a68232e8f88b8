"""PostgreSQL baseline for the benchmarks: an OMS-style normalised schema beside the search engine.

`server` runs a private PostgreSQL cluster on loopback, `schema` holds the DDL,
`load` bulk-loads canonical orders with COPY, `queries` answers the same reads as
the query API (history, order by reference, CSR search, timeline, sales per day).
`bench.postgres_baseline` re-exports the public names and has the CLI.
"""
