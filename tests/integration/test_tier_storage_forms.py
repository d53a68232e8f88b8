"""What each tier stores, on the real OpenSearch: warm orders without their merge stamps, cold
months compacted into few parts, and every order back in hot exactly as it left."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.cold_store import month_of_part
from adapters.search_engine import Feature, SearchEngine
from retention.mover import Mover
from settings import Settings
from tests.integration.tiering_support import T0, Clock, census, order_id, two_month_store

pytestmark = pytest.mark.engine_features(Feature.SCRIPTS, Feature.BY_QUERY)  # mover: guarded steps, cleanup

N = 60


@pytest.fixture
def tiered(isolated: Settings, engine: SearchEngine, tmp_path: Path) -> tuple[Mover, Clock]:
    return two_month_store(engine, isolated.index_prefix, str(tmp_path / "cold"), orders=N)


def _hot(engine: SearchEngine, mover: Mover, ids: list[str]) -> dict[str, tuple[dict[str, Any], list[Any]]]:
    """Each order's stored hot document and its timeline entries (by entry id)."""
    engine.refresh(f"{mover.names.hot.orders},{mover.names.hot.events}")
    documents = engine.mget(mover.names.hot.orders, ids)
    timelines = mover.copies.timelines(mover.names.hot.events, ids)
    return {i: (documents[i]["_source"], sorted(timelines[i], key=lambda e: e["entry_id"])) for i in documents}


def test_orders_come_back_to_hot_exactly_as_they_left_warm_and_cold(
    tiered: tuple[Mover, Clock], engine: SearchEngine,
) -> None:
    mover, clock = tiered
    ids = [order_id(n) for n in range(N)]
    before = _hot(engine, mover, ids)
    assert len(before) == N and all("stamps" in document for document, _ in before.values())

    clock.now = T0 + timedelta(days=100)
    assert mover.run_pass().moved == {("hot", "warm"): N}
    warm = mover.names.warm_alias("orders")
    engine.refresh(warm)
    stored = engine.search(warm, {"size": N, "query": {"ids": {"values": ids}}})["hits"]["hits"]
    assert len(stored) == N and not any("stamps" in hit["_source"] for hit in stored)
    assert all(hit["_source"]["facts"] and "search" not in hit["_source"] for hit in stored)

    back_from_warm = ids[:10]
    assert mover.rehydrate(back_from_warm) == set(back_from_warm)
    assert _hot(engine, mover, back_from_warm) == {i: before[i] for i in back_from_warm}

    clock.now = T0 + timedelta(days=300)
    assert mover.run_pass().moved == {("hot", "cold"): 10, ("warm", "cold"): N - 10}
    parts = mover.copies.cold.parts()
    months = {e["created_month"] for i, e in census(engine, mover)["entries"].items() if e["tier"] == "cold"}
    assert sorted(month_of_part(p) for p in parts) == sorted(months)  # batches of 25 merged: one part a month

    assert mover.rehydrate(ids) == set(ids)  # the ten back from warm went to cold again meanwhile
    assert _hot(engine, mover, ids) == before
    assert mover.copies.cold.parts()  # the flip left the rows behind, named by nobody
    mover.finish()  # the pass's sweep drops them
    assert mover.copies.cold.parts() == []
