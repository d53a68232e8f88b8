"""Worker-driven visibility on the real servers: with the engine's periodic refresh switched off, only the
worker's refresh after a small batch can make its orders and timeline entries searchable."""

from __future__ import annotations

from adapters.search_engine import SearchEngine
from orderrepo.bootstrap import build_worker, index_names
from sample_traffic import expected_orders, generate
from settings import Settings
from tests.integration.pipeline_harness import publish


def _searchable(engine: SearchEngine, alias: str) -> int:
    """Documents a search sees now (no refresh asked)."""
    return int(engine.request("GET", f"/{alias}/_count")["count"])


def _run(settings: Settings, engine: SearchEngine, *, after_write_ms: int) -> int:
    scoped = settings.model_copy(update={"ingest_refresh_after_write_ms": after_write_ms,
                                         "ingest_refresh_after_write_max_records": 100_000})
    worker = build_worker(scoped, engine)
    worker.run(idle_exit_s=4.0)
    return worker.stats.refreshes_asked


def test_only_the_workers_refresh_makes_a_batch_searchable_when_the_periodic_one_is_off(
    isolated: Settings, engine: SearchEngine
) -> None:
    names = index_names(isolated)
    live = [engine.aliases_of(names.orders)[0], engine.aliases_of(names.events)[0]]
    engine.request("PUT", f"/{','.join(live)}/_settings", body={"index": {"refresh_interval": "-1"}})
    first, second = list(generate(orders=20, seed=31)), list(generate(orders=15, seed=32))
    orders = len(expected_orders(first + second))  # the two seeds may share order ids

    publish(isolated, first)
    assert _run(isolated, engine, after_write_ms=0) == 0
    assert (_searchable(engine, names.orders), _searchable(engine, names.events)) == (0, 0)  # written, not visible

    publish(isolated, second)
    assert _run(isolated, engine, after_write_ms=1) >= 1  # 1 ms apart: every batch asks one
    timeline = _searchable(engine, names.events)
    assert _searchable(engine, names.orders) == orders  # the refresh shows the earlier batches' writes too
    engine.refresh(names.events)
    assert 0 < timeline == _searchable(engine, names.events)  # nothing was left unrefreshed
