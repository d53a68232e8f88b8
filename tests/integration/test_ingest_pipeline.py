"""Mixed channels through real Kafka into the real engine converge to the independently merged result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import orjson

from adapters.search_engine import SearchEngine
from sample_traffic import FaultyMessage, TrafficMessage, expected_orders, generate, inject_faults
from orderrepo.bootstrap import build_worker, health_files, index_names
from settings import Settings
from tests.integration.pipeline_harness import (
    dead_letters,
    publish,
    stored_orders,
    timeline_ids,
)


def _run_worker_until_idle(settings: Settings, engine: SearchEngine, *, group_id: str | None = None) -> None:
    build_worker(settings, engine, group_id=group_id).run(idle_exit_s=4.0)


def _cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that makes `python -m orderrepo.cli` use this test's isolated names and servers."""
    return {**os.environ, "ORDERREPO_INDEX_PREFIX": settings.index_prefix,
            "ORDERREPO_TOPIC_PREFIX": settings.topic_prefix, "ORDERREPO_CONSUMER_GROUP": settings.consumer_group,
            "ORDERREPO_ENGINE_URL": settings.resolved_engine_url(),
            "ORDERREPO_KAFKA_BOOTSTRAP_SERVERS": settings.resolved_kafka_servers(), **extra}


def _assert_converged_and_poison_dead_lettered(
    settings: Settings, engine: SearchEngine, clean: list[TrafficMessage], poison: list[FaultyMessage]
) -> None:
    expected = {order_id: order.to_document() for order_id, order in expected_orders(clean).items()}
    stored = stored_orders(settings, engine)
    assert stored.keys() == expected.keys()
    mismatched = [order_id for order_id in expected if stored[order_id] != expected[order_id]]
    assert mismatched == []
    letters = dead_letters(settings, expected=len(poison))
    assert Counter(letter["original"] for letter in letters) == Counter(f.message.value for f in poison)
    assert all(letter["reason"] and letter["source_topic"] and letter["offset"] >= 0 for letter in letters)


def test_duplicates_reordering_and_poison_converge_and_poison_is_dead_lettered(
    isolated: Settings, engine: SearchEngine
) -> None:
    clean = list(generate(orders=150, seed=11))
    faulty = list(inject_faults(clean, seed=11))
    poison = [f for f in faulty if f.poison_reason is not None]
    assert poison and len(faulty) > len(clean), "the fault injector must add duplicates and poison"
    publish(isolated, (f.message for f in faulty))

    _run_worker_until_idle(isolated, engine)

    _assert_converged_and_poison_dead_lettered(isolated, engine, clean, poison)


def test_two_worker_processes_share_the_group_converge_and_each_reports_health(
    isolated: Settings, engine: SearchEngine, tmp_path: Path
) -> None:
    clean = list(generate(orders=150, seed=13))
    faulty = list(inject_faults(clean, seed=13))
    poison = [f for f in faulty if f.poison_reason is not None]
    assert poison and len(faulty) > len(clean), "the fault injector must add duplicates and poison"
    published = publish(isolated, (f.message for f in faulty))
    # health files go to this test's own stack home, so files of earlier runs cannot answer for this one
    env = _cli_env(isolated, ORDERREPO_STACK_HOME=str(tmp_path))
    command = [sys.executable, "-m", "orderrepo.cli", "ingest", "run", "--idle-exit", "4", "--processes", "2"]

    supervisor = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)

    assert supervisor.returncode == 0, supervisor.stderr[-2000:]
    _assert_converged_and_poison_dead_lettered(isolated, engine, clean, poison)
    two_workers = isolated.model_copy(
        update={"ingest_processes": 2, "stack": isolated.stack.model_copy(update={"home": tmp_path})}
    )
    files = health_files(two_workers)
    assert [path.exists() for path in files] == [True, True], sorted(p.name for p in (tmp_path / "run").iterdir())
    records = [orjson.loads(path.read_bytes())["records"] for path in files]
    assert sum(records) == published, f"per worker {records}: a record was skipped or processed twice"


def test_sigkill_mid_run_then_restart_loses_and_duplicates_nothing(isolated: Settings, engine: SearchEngine) -> None:
    clean = list(generate(orders=600, seed=5))
    publish(isolated, clean)
    env = _cli_env(isolated)
    command = [sys.executable, "-m", "orderrepo.cli", "ingest", "run", "--idle-exit", "4"]
    victim = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    orders_alias = index_names(isolated).orders
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and engine.count(orders_alias) == 0:
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    killed_at = engine.count(orders_alias)
    assert 0 < killed_at, "the worker was killed before writing anything; the test proves nothing"

    survivor = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert survivor.returncode == 0, survivor.stderr[-2000:]

    expected = {order_id: order.to_document() for order_id, order in expected_orders(clean).items()}
    assert stored_orders(isolated, engine) == expected
    entries = timeline_ids(isolated, engine)
    assert len(entries) == len(set(entries))

    _run_worker_until_idle(isolated, engine, group_id=f"{isolated.consumer_group}-full-replay")
    assert stored_orders(isolated, engine) == expected
    assert sorted(timeline_ids(isolated, engine)) == sorted(entries), "a full replay must not add timeline entries"
