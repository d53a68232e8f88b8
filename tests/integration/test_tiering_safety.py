"""Tiering's hard guarantees on the real OpenSearch: a mover killed with SIGKILL at random
points loses and doubles nothing; an erased customer is gone from every tier and a full
replay of their events brings nothing back."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.search_engine import Feature, SearchEngine
from index_templates import IndexNames
from ingest.writer import OrderStoreWriter
from order_domain.tier_policy import Tier
from retention.erasure import Eraser
from retention.mover import Mover
from retention.storage import ensure_warm_index
from retention.write_gate import WriteGate
from settings import Settings
from tests.integration.tiering_support import (T0, THRESHOLDS, Clock, census, ingest, make_mover, order_changes, order_id,
                                               two_month_store)

pytestmark = pytest.mark.engine_features(Feature.SCRIPTS, Feature.BY_QUERY)  # mover: guarded steps, cleanup

CRASH_ORDERS = 240


def _hot_documents(engine: SearchEngine, prefix: str) -> dict[str, dict[str, Any]]:
    hot = IndexNames(prefix).orders
    engine.refresh(hot)
    hits = engine.search(hot, {"size": 10_000, "query": {"match_all": {}}})["hits"]["hits"]
    return {hit["_id"]: hit["_source"] for hit in hits}


def _assert_every_order_answered_once(engine: SearchEngine, mover: Mover, truth: dict[str, dict[str, Any]],
                                      *, settled: bool) -> None:
    """Each ground-truth order has one locator entry whose tier holds it with its exact content;
    once settled, no other copy exists anywhere."""
    seen = census(engine, mover)
    assert set(seen["entries"]) == set(truth)
    for order, entry in seen["entries"].items():
        tier = Tier(entry["tier"])
        assert seen["copies"][tier][order] >= 1, (order, entry)
        if tier is Tier.COLD:
            rows = mover.copies.cold.read(entry["location"], int(entry["row_group"]), [order])
            assert rows[order].document == {k: v for k, v in truth[order].items() if k not in ("search", "facts")}
        elif tier is Tier.HOT:
            stored = engine.get(entry["location"], order)
            assert stored is not None and stored["_source"] == truth[order]
        else:  # warm stores neither `search` (indexed only) nor the stamps (recomputed when read back)
            stored = engine.get(entry["location"], order)
            assert stored is not None and "stamps" not in stored["_source"]
            copy = mover.copies.read(tier, entry["location"], {order: None})[order]
            assert copy.document == {k: v for k, v in truth[order].items() if k != "search"}
        if settled:
            assert entry.get("pending") is None
            assert [seen["copies"][t][order] for t in ("hot", "warm", "cold")].count(1) == 1
            assert sum(seen["copies"][t][order] for t in ("hot", "warm", "cold")) == 1


def _mover_process(settings: Settings, cold_root: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ORDERREPO_INDEX_PREFIX": settings.index_prefix, "ORDERREPO_TIER_COLD_PATH": str(cold_root),
           "ORDERREPO_TIER_MOVE_BATCH": "15", "ORDERREPO_TIER_COLD_ROW_GROUP_ROWS": "16",
           "ORDERREPO_TIER_COLD_AFTER_IDLE_DAYS": str(THRESHOLDS.cold_after_idle_days),  # the population's design
           "ORDERREPO_ENGINE_URL": settings.resolved_engine_url(),
           "ORDERREPO_KAFKA_BOOTSTRAP_SERVERS": settings.resolved_kafka_servers()}
    return subprocess.Popen([sys.executable, "-m", "orderrepo.cli", "retention", "run"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_a_mover_killed_at_random_points_loses_and_doubles_nothing(
    isolated: Settings, engine: SearchEngine, tmp_path: Path,
) -> None:
    start = datetime.now(UTC) - timedelta(days=420)  # idle 0..420 days: hot, warm and cold all occur
    ingest(engine, isolated.index_prefix, range(CRASH_ORDERS), start=start, months=15)
    truth = _hot_documents(engine, isolated.index_prefix)
    assert len(truth) == CRASH_ORDERS
    cold_root = tmp_path / "cold"
    observer = make_mover(engine, isolated.index_prefix, str(cold_root / isolated.index_prefix),
                          clock=Clock(datetime.now(UTC)))
    observer.locator.sync_from_hot()  # what the write path does as it writes (once wired)
    rng = random.Random(13)
    kills = 0
    for _ in range(5):
        process = _mover_process(isolated, cold_root)
        time.sleep(rng.uniform(2.0, 9.0))
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            kills += 1
        process.wait()
        if kills:  # after every kill: still exactly one answering tier per order
            _assert_every_order_answered_once(engine, observer, truth, settled=False)
    assert kills >= 1
    final = _mover_process(isolated, cold_root)
    _, stderr = final.communicate(timeout=600)
    assert final.returncode == 0, stderr.decode()[-2000:]
    _assert_every_order_answered_once(engine, observer, truth, settled=True)
    tiers = {e["tier"] for e in census(engine, observer)["entries"].values()}
    assert tiers == {"hot", "warm", "cold"}


_REHYDRATE = ("import sys; from adapters.engine_settings import connect_engine; from retention.config import build_mover;"
              " from settings import Settings; s = Settings(); mover = build_mover(s, connect_engine(s));"
              " print('ready', flush=True); mover.rehydrate(sys.argv[1:])")


def test_rehydrations_killed_at_random_points_leave_one_answering_tier_and_a_pass_settles_them(
    isolated: Settings, engine: SearchEngine, tmp_path: Path,
) -> None:
    """Rehydration flips the locator and leaves the cold row behind for the sweep: killed at
    any point, every order is still answered by exactly the tier its entry names, and the
    next pass finishes the interrupted moves and drops every row named by nobody."""
    ingest(engine, isolated.index_prefix, range(120), start=datetime.now(UTC) - timedelta(days=420), months=15)
    truth = _hot_documents(engine, isolated.index_prefix)
    cold_root = tmp_path / "cold"
    observer = make_mover(engine, isolated.index_prefix, str(cold_root / isolated.index_prefix),
                          clock=Clock(datetime.now(UTC)))
    observer.locator.sync_from_hot()
    first = _mover_process(isolated, cold_root)
    assert first.wait(timeout=600) == 0
    cold = sorted(i for i, e in census(engine, observer)["entries"].items() if e["tier"] == "cold")
    assert len(cold) >= 30
    env = {**os.environ, "ORDERREPO_INDEX_PREFIX": isolated.index_prefix, "ORDERREPO_TIER_COLD_PATH": str(cold_root),
           "ORDERREPO_TIER_MOVE_BATCH": "5", "ORDERREPO_ENGINE_URL": isolated.resolved_engine_url(),
           "ORDERREPO_TIER_COLD_AFTER_IDLE_DAYS": str(THRESHOLDS.cold_after_idle_days)}
    rng = random.Random(29)
    for _ in range(3):
        process = subprocess.Popen([sys.executable, "-c", _REHYDRATE, *cold], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert process.stdout is not None and process.stdout.readline() == b"ready\n"  # killed while it moves
        time.sleep(rng.uniform(0.5, 4.0))
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
        _assert_every_order_answered_once(engine, observer, truth, settled=False)
    seen = census(engine, observer)
    back = [i for i in cold if seen["entries"][i]["tier"] == "hot"]
    assert back and all(seen["copies"]["hot"][i] == 1 for i in back)
    final = _mover_process(isolated, cold_root)
    _, stderr = final.communicate(timeout=600)
    assert final.returncode == 0, stderr.decode()[-2000:]
    _assert_every_order_answered_once(engine, observer, truth, settled=True)


def test_erasure_reaches_every_tier_and_a_full_replay_resurrects_nothing(
    isolated: Settings, engine: SearchEngine, tmp_path: Path,
) -> None:
    orders = range(80)
    ingest(engine, isolated.index_prefix, orders, months=12, customers=6)
    clock = Clock(T0 + timedelta(days=345))
    mover = make_mover(engine, isolated.index_prefix, str(tmp_path / "cold"), clock=clock, batch=20)
    mover.run_pass()
    before = census(engine, mover)["entries"]
    spread = {c: {i for i, e in before.items() if f"customer:cust-{c}" in e["customer_keys"]} for c in range(6)}
    chosen = next(c for c, ids in spread.items() if {before[i]["tier"] for i in ids} == {"hot", "warm", "cold"})
    theirs = spread[chosen]

    report = Eraser(mover, clock=clock).erase(f"email:shopper{chosen}@example.com")

    assert report.counts["orders"] == len(theirs) and report.counts["identity_keys"] == 3
    assert report.counts["hot_orders"] + report.counts["warm_orders"] + report.counts["cold_orders"] == len(theirs)
    assert report.counts["hot_timeline_entries"] + report.counts["warm_timeline_entries"] == 3 * (
        len(theirs) - report.counts["cold_orders"])
    after = census(engine, mover)
    assert set(after["entries"]) == set(before) - theirs
    for copies in after["copies"].values():
        assert not theirs & set(copies)
        assert all(n == 1 for n in copies.values())
    for part in mover.copies.cold.parts():  # the rewritten parts hold nobody of theirs
        assert f"customer:cust-{chosen}" not in {row.customer_key for row in mover.copies.cold.read_all(part)}
    audits = mover.tombstones.audits()
    assert [a["counts"] for a in audits] == [report.counts]
    assert f"shopper{chosen}" not in str(audits) and f"cust-{chosen}" not in str(audits)

    replay = [change for n in orders for change in order_changes(n, customers=6)]
    admission = WriteGate(mover).admit(replay)
    assert {c.order_id for c in admission.blocked} == theirs
    assert not {c.order_id for c in admission.to_write} & theirs
    OrderStoreWriter(engine, IndexNames(isolated.index_prefix)).write(admission.to_write)
    engine.refresh(IndexNames(isolated.index_prefix).orders)
    assert not theirs & set(_hot_documents(engine, isolated.index_prefix))


def test_a_move_killed_between_creating_its_two_warm_indices_is_undone_without_error(
    isolated: Settings, engine: SearchEngine, tmp_path: Path,
) -> None:
    """Found by the SIGKILL test on Elasticsearch 7.10: the mover died after creating a month's orders
    index and before its timeline index; undoing that move lifted the write block of the missing index
    (404) and every later pass failed."""
    mover, _ = two_month_store(engine, isolated.index_prefix, str(tmp_path / "cold"), orders=4)
    location = mover.names.warm_index("orders", "2025.01")
    ensure_warm_index(engine, location)

    assert mover.copies.delete_engine(Tier.WARM, location, [order_id(0), order_id(1)]) == set()
    assert not engine.index_exists(mover.copies.events_index(Tier.WARM, location))
    assert set(census(engine, mover)["copies"]["hot"]) >= {order_id(0), order_id(1)}
