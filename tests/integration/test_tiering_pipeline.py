"""Tiering through the real pipeline (Kafka -> worker -> engine): a late change published for a
cold order brings it back to hot with its full history, and after a customer is erased a full
replay of the Kafka history recreates nothing (the replayed events are recorded as ignored)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from adapters.search_engine import Feature, SearchEngine
from order_domain.model import Channel
from orderrepo.bootstrap import build_worker
from retention.erasure import Eraser
from retention.mover import Mover
from sample_traffic import TrafficMessage, expected_orders, generate
from settings import Settings
from tests.integration.pipeline_harness import dead_letters, publish
from tests.integration.tiering_support import Clock, census, make_mover

pytestmark = pytest.mark.engine_features(Feature.SCRIPTS, Feature.BY_QUERY)  # mover: guarded steps, cleanup

LATER = datetime(2027, 9, 1, tzinfo=UTC)  # long after the sample traffic: closed orders are idle


def _cold_root(settings: Settings) -> str:
    return f"{settings.resolved_cold_path().rstrip('/')}/{settings.index_prefix}"


def _ingest(settings: Settings, engine: SearchEngine, *, group: str | None = None) -> None:
    build_worker(settings, engine, group_id=group).run(idle_exit_s=4.0)


@pytest.fixture
def cold_store_settings(isolated: Settings, tmp_path: Path) -> Settings:
    return isolated.model_copy(update={"tier": isolated.tier.model_copy(update={"cold_path": str(tmp_path)})})


@pytest.fixture
def moved(cold_store_settings: Settings, engine: SearchEngine) -> tuple[Settings, Mover, list[TrafficMessage]]:
    settings = cold_store_settings
    messages = list(generate(orders=30, seed=23))
    publish(settings, messages)
    _ingest(settings, engine)
    mover = make_mover(engine, settings.index_prefix, _cold_root(settings), clock=Clock(LATER))
    mover.run_pass()
    return settings, mover, messages


def _tier_of(engine: SearchEngine, mover: Mover, order_id: str) -> str:
    return census(engine, mover)["entries"][order_id]["tier"]


def test_a_late_change_through_kafka_brings_a_cold_order_back_hot_with_its_history(
    moved: tuple[Settings, Mover, list[TrafficMessage]], engine: SearchEngine,
) -> None:
    settings, mover, messages = moved
    entries = census(engine, mover)["entries"]
    cold = sorted(order for order, entry in entries.items() if entry["tier"] == "cold")
    assert cold, "the pass must have moved the idle closed orders to cold"
    target = cold[0]
    before = expected_orders(messages)[target]
    late = {"event_id": f"{target}-late-note", "order_id": target, "channel": "call_center", "source": "desk",
            "kind": "updated", "occurred_at": LATER.isoformat(), "actor": "agent:7",
            "references": [{"kind": "call_center_ticket", "value": "T-LATE-1"}]}
    publish(settings, [TrafficMessage(channel=Channel.CALL_CENTER, key=target.encode(), value=orjson.dumps(late),
                                      journey="late")])
    _ingest(settings, engine)
    assert _tier_of(engine, mover, target) == "hot"
    engine.refresh(mover.names.hot.orders)
    stored = engine.get(mover.names.hot.orders, target)["_source"]  # type: ignore[index]
    references = {r["value"] for r in stored["references"]}
    assert "T-LATE-1" in references and {r.value for r in before.references} <= references
    assert stored["status"] == before.status.value  # the history merged, nothing reset
    copies = census(engine, mover)["copies"]
    assert (copies["hot"][target], copies["warm"][target], copies["cold"][target]) == (1, 0, 1)  # row named by nobody
    mover.finish()  # the next pass's sweep rewrites the part without it
    copies = census(engine, mover)["copies"]
    assert (copies["hot"][target], copies["warm"][target], copies["cold"][target]) == (1, 0, 0)


def test_after_an_erasure_a_full_replay_recreates_nothing(
    moved: tuple[Settings, Mover, list[TrafficMessage]], engine: SearchEngine,
) -> None:
    settings, mover, messages = moved
    entries = census(engine, mover)["entries"]
    customer = next(key for entry in entries.values() for key in entry.get("customer_keys") or []
                    if key.startswith("email:"))
    report = Eraser(mover).erase(customer)
    erased = {order for order, entry in census(engine, mover)["entries"].items()
              if customer in (entry.get("customer_keys") or [])}
    assert report.counts["orders"] >= 1 and not erased
    _ingest(settings, engine, group=f"{settings.consumer_group}-full-replay")  # the whole history again
    after = census(engine, mover)
    assert not any(customer in (entry.get("customer_keys") or []) for entry in after["entries"].values())
    for tier_copies in after["copies"].values():
        assert not any(tier_copies[order] for order in erased)
    letters = dead_letters(settings, expected=1)
    assert any(letter.get("reason") == "tombstoned" and letter.get("kind") == "ignored" for letter in letters)
