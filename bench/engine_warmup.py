"""Indexing load on the engine before the first timed phase of `python -m bench`.

A node started a minute earlier indexes several times slower than the same node a few minutes
later (its JIT is still compiling the indexing path): on such a node session 11's five freshness
runs in a row fell from 12.95 s to 2.74 s at p99 whatever the code. The pipeline is measured
first and the raw bulk limit after it, so a cold node counted against the pipeline only. This
sends the worker's own documents for a small number of orders (the document cache, built once in
seconds) by raw bulk into scratch indices, again and again, for a number of seconds, then removes
them; nothing of it is measured.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from adapters.search_engine import SearchEngine
from bench import doc_cache
from bench.tier_pass_bench import drop_prefix
from index_templates import install
from orderrepo.bootstrap import index_names
from settings import Settings

WARMUP_ORDERS = 5_000  # about 25,000 documents: a few seconds per round on this machine
WARMUP_SEED = 7  # not a measured seed: its cache is only ever a warm-up


def warm_engine(settings: Settings, engine: SearchEngine, *, seconds: float, orders: int = WARMUP_ORDERS,
                report: Callable[[str], None] = print) -> dict[str, Any]:
    """Rounds of raw bulk until `seconds` have passed (at least one round); answers rounds,
    documents and the last round's docs/s, which shows whether the node had settled."""
    cache = doc_cache.build(settings, orders=orders, seed=WARMUP_SEED)["cache"]
    deadline, rounds, documents, last = time.monotonic() + seconds, 0, 0, 0
    while rounds == 0 or time.monotonic() < deadline:
        prefix = f"{settings.index_prefix}-warmup{rounds}"
        scratch = settings.model_copy(update={"index_prefix": prefix})
        try:
            install(engine, index_names(scratch), refresh_interval=settings.hot_refresh_interval)
            sent = doc_cache.bulk_load(scratch, engine, cache=cache, target=index_names(scratch))
        finally:
            drop_prefix(engine, prefix)
        rounds, documents, last = rounds + 1, documents + sent["documents"], sent["docs_per_s"] or 0
        report(f"engine warm-up round {rounds}: {sent['docs_per_s']:,} docs/s")
    return {"seconds": seconds, "rounds": rounds, "documents": documents, "last_round_docs_per_s": last}
