"""Freshness: produce-to-searchable lag while the pipeline carries a steady background load.

A live worker runs as its own process. Background traffic is replayed at a target
share of the maximum sustained rate; every 100 ms a marker order (a canonical
"created" event with a new id) is produced and a poller searches for it until it
is visible. Lag = the time the search that first found it answered - produce time: an upper bound,
late by at most one polling cycle (the poller's 20 ms pause plus one search; both are printed and
saved per level as `poll_s`, so the figure is never flattered by the poller's granularity).

Where the lag goes: the worker keeps the timings of its batches (`ingest.batch_trace`,
switched on here) and the producer reports where each marker landed, so every marker's
lag splits into waiting for the worker, broker and fetch, decode, write, commit, and
refresh and search (the rest). The split is printed and saved per load level.

Warm-up: before the first level, the pipeline carries the highest level's load for
`warmup_seconds` and those markers are dropped. On a freshly started engine (and in fresh worker
processes) the first minute is several times slower than what follows: five 1-minute runs in a row
on a just-started node gave p99 12.9, 7.5, 4.8, 3.1 and 2.7 s at 50 % load, whatever the code.

    python -m bench.freshness_bench --max-rate 1500 --freshness-seconds 10 --shares 0.5,0.9
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from datetime import UTC, datetime
from itertools import cycle
from typing import Any

import orjson
import typer

from adapters.kafka_bus import make_producer
from adapters.search_engine import SearchEngine
from bench.ingest_bench import scoped_env, scoped_run
from bench.measure import machine, percentiles, save_result
from bench.targets import freshness_checks
from ingest.batch_trace import (STAGES, batch_records, batches_ahead, breakdown, find_batch, load_batches,
                                record_stages, trace_path)
from order_domain.model import Channel
from orderrepo.bootstrap import health_files, index_names, prepare_storage, topic_map
from sample_traffic import generate
from settings import Settings, get_settings

AHEAD = "batches ahead"  # batches the marker's worker began between its send and its own batch
BATCH = "batch records"  # records in the marker's own batch
TRACE_BATCHES = 200_000  # far more than a run makes: every marker's batch is still there at the end
WARMUP_SECONDS = 15.0  # the highest level's load, not measured, before the first level


def _marker(order_id: str) -> bytes:
    now = datetime.now(UTC).isoformat()
    return (f'{{"event_id":"{order_id}:1","order_id":"{order_id}","channel":"app","source":"bench",'
            f'"kind":"created","occurred_at":"{now}","placed_at":"{now}","status":"confirmed"}}').encode()


class Markers:
    """Send time and landing place (topic, partition, offset) of every marker; written by two threads."""

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.landed: dict[str, tuple[str, int, int]] = {}
        self.seen: dict[str, float] = {}
        self.searches: list[tuple[float, float]] = []  # (started, answered) of every poll of the engine
        # this process's CPU over the level (producer and poller): it shares the cores with the workers, which
        # the pipeline's max rate was measured without (a topic drained after it was filled)
        self.bench_cpu_s = 0.0

    def on_landed(self, order_id: str) -> Any:
        def record(metadata: Any) -> None:
            self.landed[order_id] = (metadata.topic, metadata.partition, metadata.offset)
        return record


def _produce(settings: Settings, rate: float, seconds: float, markers: Markers, stop: threading.Event, *,
             name: str) -> None:
    producer = make_producer(settings.resolved_kafka_servers(), linger_ms=2)
    topics = topic_map(settings)
    background = cycle(list(generate(orders=max(500, int(rate * seconds / 3.5)), seed=77)))
    started, marker_every, next_marker, n = time.monotonic(), 0.1, 0.0, 0
    while not stop.is_set() and (elapsed := time.monotonic() - started) < seconds:
        while n < rate * elapsed:
            message = next(background)
            producer.send(topics.by_channel[message.channel], key=message.key, value=message.value)
            n += 1
        if elapsed >= next_marker:
            order_id = f"marker-{name}-{len(markers.sent)}"  # unique per level: an id seen before is no lag
            markers.sent[order_id] = time.time()
            producer.send(topics.by_channel[Channel.APP], key=order_id.encode(),
                          value=_marker(order_id)).add_callback(markers.on_landed(order_id))
            next_marker += marker_every
        time.sleep(0.005)
    producer.flush(30)
    producer.close()


def _poll(engine: SearchEngine, alias: str, markers: Markers, stop: threading.Event) -> None:
    sent, seen = markers.sent, markers.seen
    while not stop.is_set() or len(seen) < len(sent):
        waiting = [order_id for order_id in list(sent) if order_id not in seen]
        if waiting:
            asked = time.time()
            hits = engine.search(alias, {"size": len(waiting), "_source": False,
                                         "query": {"terms": {"order_id": waiting}}})["hits"]["hits"]
            now = time.time()
            markers.searches.append((asked, now))
            for hit in hits:
                seen.setdefault(hit["_id"], now)
        if stop.is_set() and time.time() - max(sent.values(), default=0) > 30:
            return
        time.sleep(0.02)


def _level(settings: Settings, engine: SearchEngine, rate: float, seconds: float, *, name: str) -> Markers:
    markers, stop, cpu = Markers(), threading.Event(), time.process_time()
    poller = threading.Thread(target=_poll, args=(engine, index_names(settings).orders, markers, stop))
    poller.start()
    try:
        _produce(settings, rate, seconds, markers, stop, name=name)
    finally:  # an interrupted run must not leave the poller running (it kept the process alive)
        stop.set()
        poller.join()
    markers.bench_cpu_s = time.process_time() - cpu
    return markers


def poll_granularity(markers: Markers) -> dict[str, float]:
    """How late the poller can see a marker: one search's round trip, and one cycle (from a search's
    start to the next one's answer, the widest window a first sighting can fall in)."""
    searches = markers.searches
    if len(searches) < 2:
        return {}
    cycles = [answered - before[0] for before, (_, answered) in zip(searches, searches[1:])]
    rounds = [answered - asked for asked, answered in searches]
    return {"search_mean": round(sum(rounds) / len(rounds), 4), "cycle_mean": round(sum(cycles) / len(cycles), 4),
            "cycle_p99": round(percentiles(cycles)["p99"], 4)}


def where_it_went(markers: Markers, settings: Settings) -> dict[str, Any]:
    """Each visible marker's lag split by stage (`ingest.batch_trace.STAGES`), from the workers' traces,
    with the batches it waited behind and the size of its own batch (records)."""
    batches = load_batches(trace_path(path) for path in health_files(settings))
    rows = []
    for order_id, visible in markers.seen.items():
        landed = markers.landed.get(order_id)
        batch = find_batch(batches, topic=landed[0], partition=landed[1], offset=landed[2]) if landed else None
        if batch is not None:
            sent = markers.sent[order_id]
            rows.append({**record_stages(batch, sent=sent, visible=visible),
                         AHEAD: batches_ahead(batches, batch, sent=sent), BATCH: batch_records(batch)})
    return breakdown(rows)


def _wait_until_assigned(settings: Settings, worker: subprocess.Popen[bytes], *, timeout_s: float = 180.0) -> None:
    """Until every worker reports the lag of its partitions (it has joined the group and polls them):
    a fixed sleep started the first level before a slow start-up had finished, and its markers waited."""
    files = health_files(settings)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and worker.poll() is None:
        if all(path.exists() and orjson.loads(path.read_bytes()).get("lag_by_channel") for path in files):
            return
        time.sleep(0.5)
    raise RuntimeError(f"the ingest worker did not join its group within {timeout_s:.0f} s")


def measure_freshness(settings: Settings, engine: SearchEngine, *, max_rate: float, processes: int = 1,
                      shares: tuple[float, ...] = (0.25, 0.5, 0.9), seconds: float = 20.0,
                      refresh_interval: str | None = None, refresh_after_write_ms: int | None = None,
                      warmup_seconds: float = WARMUP_SECONDS) -> list[dict[str, Any]]:
    """`max_rate` was measured with `processes` workers; the same number serves this load.
    `refresh_interval`: the hot indices' refresh for this run (unset: as the templates say);
    `refresh_after_write_ms`: the workers' refresh after a small batch (`ingest.visibility`; unset: as configured)."""
    settings = settings.model_copy(update={
        "ingest_processes": processes,  # their health and trace files
        "hot_refresh_interval": refresh_interval or settings.hot_refresh_interval,
        "ingest_refresh_after_write_ms": settings.ingest_refresh_after_write_ms if refresh_after_write_ms is None
        else refresh_after_write_ms})
    prepare_storage(settings, engine)
    for path in health_files(settings):
        path.unlink(missing_ok=True)
    worker = subprocess.Popen([sys.executable, "-m", "orderrepo.cli", "ingest", "run", "--processes", str(processes)],
                              env=_worker_env(settings), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    levels: list[tuple[float, Markers]] = []
    try:
        _wait_until_assigned(settings, worker)
        if warmup_seconds > 0:
            _level(settings, engine, max_rate * max(shares), warmup_seconds, name="warmup")  # not counted
        for share in shares:
            levels.append((share, _level(settings, engine, max_rate * share, seconds, name=f"{share:g}")))
    finally:
        worker.terminate()  # the workers write their traces as they stop
        worker.wait(timeout=60)
    summaries = [summary(share, max_rate, markers, settings) for share, markers in levels]
    for path in health_files(settings):
        trace_path(path).unlink(missing_ok=True)  # read: the next run writes its own
    return summaries


def _worker_env(settings: Settings) -> dict[str, str]:
    """The worker installs the templates again as it starts: it must be told the refresh too (a refresh
    set on the indices alone was put back to the configured one before the first marker)."""
    return {**scoped_env(settings), "ORDERREPO_INGEST_TRACE_BATCHES": str(TRACE_BATCHES),
            "ORDERREPO_HOT_REFRESH_INTERVAL": settings.hot_refresh_interval,
            "ORDERREPO_INGEST_REFRESH_AFTER_WRITE_MS": str(settings.ingest_refresh_after_write_ms),
            "ORDERREPO_INGEST_REFRESH_AFTER_WRITE_MAX_RECORDS": str(settings.ingest_refresh_after_write_max_records)}


def refreshes_asked(settings: Settings) -> int:
    """Refreshes the workers asked after small batches over the run (their last health files)."""
    return sum(int(orjson.loads(path.read_bytes()).get("refreshes_asked", 0))
               for path in health_files(settings) if path.exists())


def summary(share: float, max_rate: float, markers: Markers, settings: Settings) -> dict[str, Any]:
    lags = [markers.seen[k] - markers.sent[k] for k in markers.sent if k in markers.seen]
    return {"share_of_max": share, "rate_records_per_s": round(max_rate * share, 1),
            "markers": len(markers.sent), "visible": len(lags),
            **{k: round(v, 3) for k, v in percentiles(lags).items()},
            "bench_cpu_s": round(markers.bench_cpu_s, 2), "poll_s": poll_granularity(markers), "stages_s": where_it_went(markers, settings)}


def index_cost(engine: SearchEngine, settings: Settings) -> dict[str, float]:
    """The hot indices' own indexing, refresh and merge time per document written over the run (from their
    `_stats`: this run's indices only, so it holds on a shared engine), and how many refreshes they made."""
    names = index_names(settings)
    totals = engine.request("GET", f"/{names.orders},{names.events}/_stats/indexing,refresh,merge")["_all"]["primaries"]
    docs = max(1, totals["indexing"]["index_total"])

    def per_doc(milliseconds: float) -> float:
        return round(milliseconds * 1000 / docs, 1)

    return {"documents": docs, "refreshes": totals["refresh"]["total"],
            "indexing_us_per_doc": per_doc(totals["indexing"]["index_time_in_millis"]),
            "refresh_us_per_doc": per_doc(totals["refresh"]["total_time_in_millis"]),
            "merge_us_per_doc": per_doc(totals["merges"]["total_time_in_millis"])}


def print_levels(levels: list[dict[str, Any]]) -> None:
    print("| load | p50 | p95 | p99 | split | " + " | ".join((*STAGES, AHEAD, BATCH)) + " |")
    print("|---|---|---|---|---|" + "---|" * (len(STAGES) + 2))
    for level in levels:
        for group, split in level["stages_s"].items():
            if isinstance(split, dict):
                print(f"| {level['share_of_max']:.0%} | {level['p50']} | {level['p95']} | {level['p99']} | {group} | "
                      + " | ".join(str(split.get(key, "")) for key in (*STAGES, AHEAD, BATCH)) + " |")
    for level in levels:  # how late the poller can be: the figures are upper bounds by this much
        print(f"{level['share_of_max']:.0%}: poller (s) {level.get('poll_s')}; producer and poller CPU "
              f"{level.get('bench_cpu_s')} s")


def print_checks(levels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The freshness targets (`bench.targets`) with ratio and verdict, printed; returned for the saved result."""
    checks = [asdict(check) for check in freshness_checks(levels)]
    for check in checks:
        print(f"{'PASS' if check['holds'] else 'FAIL'}  {check['target']}: {check['measured']} "
              f"(ratio {check['ratio']})")
    return checks


def main(max_rate: float = typer.Option(..., help="the pipeline's sustained records/s on this machine (bench output)"),
         freshness_seconds: float = typer.Option(10.0, help="seconds per load level"),
         warmup_seconds: float = typer.Option(WARMUP_SECONDS, help="seconds of the highest level's load before "
                                              "the first level, not measured (0 = none)"),
         shares: str = typer.Option("0.5,0.9", help="load levels, as shares of --max-rate"),
         processes: int = typer.Option(1, min=1, help="ingest worker processes"),
         refresh_interval: str = typer.Option("", help="hot indices' refresh for this run, e.g. 250ms "
                                              "(default: ORDERREPO_HOT_REFRESH_INTERVAL)"),
         refresh_after_write_ms: int = typer.Option(-1, help="workers' refresh after a small batch, least ms "
                                                    "apart; 0 = off (default: ORDERREPO_INGEST_REFRESH_AFTER_WRITE_MS)"),
         ) -> None:
    base = get_settings()
    after_write = base.ingest_refresh_after_write_ms if refresh_after_write_ms < 0 else refresh_after_write_ms
    load_before = os.getloadavg()
    with scoped_run(base, f"fresh-{int(time.time())}") as (settings, engine):
        levels = measure_freshness(settings, engine, max_rate=max_rate, processes=processes,
                                   shares=tuple(float(share) for share in shares.split(",")), seconds=freshness_seconds,
                                   refresh_interval=refresh_interval or None, refresh_after_write_ms=after_write,
                                   warmup_seconds=warmup_seconds)
        cost = {**index_cost(engine, settings), "refreshes_asked_by_workers": refreshes_asked(
            settings.model_copy(update={"ingest_processes": processes}))}
    load = {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in os.getloadavg()]}
    print_levels(levels)
    print("engine work on the hot indices: " + ", ".join(f"{key} {value}" for key, value in cost.items()))
    print(f"load average (1, 5, 15 min) before {load['before']}, after {load['after']}")
    checks = print_checks(levels)
    save_result("freshness", {"machine": machine(), "load_average": load, "max_rate": max_rate,
                              "seconds": freshness_seconds, "warmup_seconds": warmup_seconds,
                              "engine_cost": cost, "processes": processes,
                              "refresh_interval": refresh_interval or base.hot_refresh_interval,
                              "refresh_after_write_ms": after_write,
                              "refresh_after_write_max_records": base.ingest_refresh_after_write_max_records,
                              "max_poll_records": base.ingest_max_poll_records,
                              "fetch_max_wait_ms": base.ingest_fetch_max_wait_ms, "levels": levels, "checks": checks})


if __name__ == "__main__":
    typer.run(main)
