"""The mover at scale on the real OpenSearch: a cold part's live ids are read whatever the
part's size, an order whose source copy is gone is reported and left as it was (not
counted as a write conflict, no journal left behind), and a pass leaves no warm index
writable although it lifts each block only once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from adapters.search_engine import Feature, SearchEngine
from order_domain.tier_policy import Tier
from retention.cold_sweep import _live_ids
from retention.mover import Mover
from retention.storage import TierNames, install_tier_storage, set_write_block, unsealed_warm_indices
from settings import Settings
from tests.integration.tiering_support import T0, Clock, census, order_id, two_month_store

pytestmark = pytest.mark.engine_features(Feature.SCRIPTS, Feature.BY_QUERY)

PART = "orders/2025.01/part-big.parquet"
LIVE = 10_050  # more than the one search of 10,000 hits the sweep used to make


def test_live_ids_of_a_part_larger_than_one_search(isolated: Settings, engine: SearchEngine) -> None:
    names = TierNames(isolated.index_prefix)
    install_tier_storage(engine, names)
    entries = [(f"big-{n:06d}", PART) for n in range(LIVE)] + [(f"other-{n}", "orders/2025.01/part-o.parquet")
                                                                 for n in range(7)]
    actions = [{"_op_type": "index", "_index": names.locator, "_id": i,
                "_source": {"order_id": i, "created_month": "2025.01", "tier": "cold", "location": part}}
               for i, part in entries]
    assert all(item.ok for item in engine.bulk(actions, chunk_size=5000, refresh=True))
    live = _live_ids(engine, names, PART)
    assert len(live) == LIVE
    assert live == {f"big-{n:06d}" for n in range(LIVE)}


@pytest.fixture
def warm_store(isolated: Settings, engine: SearchEngine, tmp_path: Path) -> tuple[Mover, Clock]:
    mover, clock = two_month_store(engine, isolated.index_prefix, str(tmp_path / "cold"), orders=30)
    clock.now = T0 + timedelta(days=100)
    assert mover.run_pass().moved == {("hot", "warm"): 30}
    return mover, clock


def test_missing_source_copy_is_reported_and_left_in_place(warm_store: tuple[Mover, Clock],
                                                           engine: SearchEngine) -> None:
    mover, clock = warm_store
    lost = order_id(3)
    location = mover.locator.get([lost])[lost]["_source"]["location"]
    set_write_block(engine, location, False)
    engine.request("DELETE", f"/{location}/_doc/{lost}", params={"refresh": "true"})
    set_write_block(engine, location, True)

    clock.now = T0 + timedelta(days=400)
    report = mover.run_pass()
    assert report.moved == {("warm", "cold"): 29}
    assert (report.missing, report.conflicts) == (1, 0)
    entry = mover.locator.get([lost])[lost]["_source"]
    assert (entry["tier"], entry["location"], entry["pending"]) == ("warm", location, None)
    assert mover.resume() == 0  # no journal left for the next pass to roll back
    seen = census(engine, mover)
    assert seen["copies"]["cold"][lost] == 0 and sum(seen["copies"]["cold"].values()) == 29


def test_a_pass_leaves_every_warm_index_sealed(warm_store: tuple[Mover, Clock], engine: SearchEngine) -> None:
    mover, clock = warm_store
    assert unsealed_warm_indices(engine, mover.names) == []
    clock.now = T0 + timedelta(days=400)
    assert mover.run_pass().moved == {("warm", "cold"): 30}
    assert unsealed_warm_indices(engine, mover.names) == []
    assert {e["tier"] for e in census(engine, mover)["entries"].values()} == {str(Tier.COLD)}
