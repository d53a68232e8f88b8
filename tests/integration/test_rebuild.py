"""Rebuilding the projection from Kafka swaps index versions with no read downtime."""

from __future__ import annotations

import threading

from adapters.search_engine import EngineError, SearchEngine
from orderrepo.bootstrap import build_worker, index_names, rebuild_projection
from sample_traffic import generate
from settings import Settings
from tests.integration.pipeline_harness import publish, stored_orders, timeline_ids


def test_rebuild_replays_into_a_new_version_and_readers_never_see_a_gap(
    isolated: Settings, engine: SearchEngine
) -> None:
    publish(isolated, generate(orders=300, seed=21))
    build_worker(isolated, engine).run(idle_exit_s=4.0)
    before_orders, before_timeline = stored_orders(isolated, engine), sorted(timeline_ids(isolated, engine))
    names = index_names(isolated)
    counts: list[int] = []
    failures: list[Exception] = []
    done = threading.Event()

    def keep_reading() -> None:
        while not done.is_set():
            try:
                counts.append(engine.count(names.orders))
            except EngineError as error:
                failures.append(error)

    reader = threading.Thread(target=keep_reading)
    reader.start()
    try:
        report = rebuild_projection(isolated, engine, drop_old=False)
    finally:
        done.set()
        reader.join()

    assert report.old["orders"].endswith("-v1") and report.new["orders"].endswith("-v2")
    assert engine.aliases_of(names.orders) == [report.new["orders"]]
    assert engine.aliases_of(names.orders_write) == [report.new["orders"]]
    assert failures == [] and counts and min(counts) == len(before_orders), "reads saw a gap"
    assert stored_orders(isolated, engine) == before_orders
    assert sorted(timeline_ids(isolated, engine)) == before_timeline
