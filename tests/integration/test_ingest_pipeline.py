"""Mixed channels through real Kafka into the real engine converge to the independently merged result."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import orjson

from adapters.bus_records import OutgoingRecord
from adapters.kafka_bus import read_record
from adapters.search_engine import SearchEngine
from order_domain.model import Channel
from orderrepo.bootstrap import build_worker, health_files, index_names, record_sink, topic_map
from sample_traffic import FaultyMessage, TrafficMessage, expected_orders, generate, inject_faults
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


def _huge_broken_poslog() -> bytes:
    """A 1.4 MB store transaction that never closes its root: more than a broker's default message size."""
    note = b"<Note>" + b"line item remark " * 85_000 + b"</Note>"
    return b'<?xml version="1.0"?><POSLog xmlns="http://www.nrf-arts.org/IXRetail/namespace/"><Transaction>' + note


def _publish_large(settings: Settings, topic: str, key: bytes, value: bytes) -> None:
    sink = record_sink(settings, max_request_bytes=8 * 1024 * 1024)  # compressed, it fits the broker's limit
    try:
        sink.send([OutgoingRecord(topic=topic, key=key, value=value)])
    finally:
        sink.close()


def test_a_message_over_a_megabyte_that_fails_decoding_is_a_bounded_dead_letter_and_ingest_goes_on(
    isolated: Settings, engine: SearchEngine
) -> None:
    clean = list(generate(orders=40, seed=17))
    huge = _huge_broken_poslog()
    assert len(huge) > 1_048_576
    store_topic = topic_map(isolated).by_channel[Channel.STORE]
    publish(isolated, clean[: len(clean) // 2])
    _publish_large(isolated, store_topic, b"store-huge", huge)
    publish(isolated, clean[len(clean) // 2:])

    _run_worker_until_idle(isolated, engine)

    expected = {order_id: order.to_document() for order_id, order in expected_orders(clean).items()}
    assert stored_orders(isolated, engine) == expected, "the messages after the huge one were ingested"
    [letter] = dead_letters(isolated, expected=1)
    assert (letter["kind"], letter["reason"], letter["source_topic"], letter["key"]) == (
        "dead_letter", "malformed_xml", store_topic, b"store-huge")
    assert (letter["original"], letter["original_embedded"], letter["size_bytes"]) == (None, False, len(huge))
    assert letter["sha256"] == hashlib.sha256(huge).hexdigest() and letter["excerpt"] == huge[:2048].decode()
    pointed = read_record(isolated.resolved_kafka_servers(), store_topic, letter["partition"], letter["offset"])
    assert pointed is not None and pointed.value == huge, "the source coordinates point to the original"


def _dlq(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "orderrepo.cli", "dlq", *args], env=_cli_env(settings, COLUMNS="250"),
                          capture_output=True, text=True, timeout=120)


def test_dlq_list_show_and_replay_after_a_replayed_topic(isolated: Settings, engine: SearchEngine) -> None:
    web_topic = topic_map(isolated).by_channel[Channel.WEB]
    publish(isolated, list(generate(orders=5, seed=2)))
    _publish_large(isolated, web_topic, b"web-bad", b'{"topic": "orders/create", "payload": ')
    _run_worker_until_idle(isolated, engine)
    _run_worker_until_idle(isolated, engine, group_id=f"{isolated.consumer_group}-replay")  # a full replay

    assert len(dead_letters(isolated, expected=2)) == 2, "the replay wrote the same key again"
    listed = _dlq(isolated, "list", "--reason", "malformed_json")
    assert listed.returncode == 0, listed.stderr
    [row] = [line for line in listed.stdout.splitlines() if f"{web_topic}/" in line]
    coordinates = row.split()[1]
    shown = _dlq(isolated, "show", coordinates)
    assert shown.returncode == 0 and '"topic": "orders/create", "payload": ' in shown.stdout, shown.stderr

    replayed = _dlq(isolated, "replay", coordinates)

    assert replayed.returncode == 0 and "replayed 1 of 1" in replayed.stderr, replayed.stderr
    assert f"{web_topic}/" not in _dlq(isolated, "list").stdout, "a replayed record is resolved"
    _run_worker_until_idle(isolated, engine)  # the re-published copy fails again: a new record, new coordinates
    again = _dlq(isolated, "list", "--channel", "web")
    assert again.stdout.count(f"{web_topic}/") == 1 and coordinates not in again.stdout, again.stdout
