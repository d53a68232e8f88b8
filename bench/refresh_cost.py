"""The engine's cost of a shorter hot refresh, measured side by side (the freshness lever's price).

The same order documents (sample traffic folded into current orders, each written `versions` times as
an order's changes are) go into fresh hot indices, one per refresh interval, alternated round by round:
- paced: worker-sized bulks every 100 ms at `rate` documents/s while a reader searches the index
  every 200 ms (an index nobody searches goes "search idle" and stops refreshing on schedule, unlike
  a hot index the API reads), then the index's own timers from `_stats`: indexing, refresh and merge
  milliseconds, the number of refreshes and the segments left. They count this index's work only, so
  they hold on a shared engine; the engine's process CPU over the phase is printed too, as an upper
  bound (it includes whatever else the engine served meanwhile);
- flat out: the same documents in bulks of 1,000 as fast as the engine takes them (documents/s).

    python -m bench.refresh_cost --orders 3000 --rate 1000 --intervals 1s,500ms --rounds 3
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

import httpx
import orjson
import typer

from adapters.search_engine import SearchEngine
from bench.ingest_bench import drop_scope, send_until_accepted
from bench.measure import Stopwatch, engine_cpu_seconds, machine, save_result
from index_templates import IndexNames, install
from orderrepo.bootstrap import connect_engine
from sample_traffic import expected_orders, generate
from settings import get_settings

PACE_S = 0.1  # one bulk per 100 ms: a worker's batch rhythm at moderate load


def bulk_bodies(index: str, docs: list[tuple[str, dict[str, Any]]], size: int) -> list[bytes]:
    """NDJSON bodies of `size` index actions each, serialised before any clock starts."""
    lines = [orjson.dumps({"index": {"_index": index, "_id": doc_id}}) + b"\n" + orjson.dumps(doc) + b"\n"
             for doc_id, doc in docs]
    return [b"".join(lines[start:start + size]) for start in range(0, len(lines), size)]


def _read_while(engine: SearchEngine, index: str, stop: threading.Event) -> None:
    while not stop.wait(0.2):
        engine.search(index, {"size": 0, "query": {"match_all": {}}})


def paced(engine: SearchEngine, url: str, names: IndexNames, docs: list[tuple[str, dict[str, Any]]],
          rate: float) -> dict[str, Any]:
    index = names.version("orders", 1)
    bodies = bulk_bodies(index, docs, max(1, round(rate * PACE_S)))
    stop = threading.Event()
    reader = threading.Thread(target=_read_while, args=(engine, names.orders, stop))
    cpu, started = engine_cpu_seconds(url), time.monotonic()
    reader.start()
    with httpx.Client(base_url=url, timeout=300) as client:
        for number, body in enumerate(bodies):
            time.sleep(max(0.0, started + number * PACE_S - time.monotonic()))
            send_until_accepted(client, body)
        time.sleep(2.0)  # the last refreshes and merges of the phase
    stop.set()
    reader.join()
    cpu = engine_cpu_seconds(url) - cpu
    stats = engine.request("GET", f"/{index}/_stats/indexing,refresh,merge,segments")["indices"][index]["primaries"]
    def per_doc(milliseconds: float) -> float:
        return round(milliseconds * 1000 / len(docs), 1)  # µs per document

    return {"indexing_us_per_doc": per_doc(stats["indexing"]["index_time_in_millis"]),
            "refreshes": stats["refresh"]["total"],
            "refresh_us_per_doc": per_doc(stats["refresh"]["total_time_in_millis"]),
            "merge_us_per_doc": per_doc(stats["merges"]["total_time_in_millis"]),
            "segments": stats["segments"]["count"], "engine_cpu_us_per_doc_upper_bound": per_doc(cpu * 1000)}


def flat_out(url: str, names: IndexNames, docs: list[tuple[str, dict[str, Any]]]) -> float:
    bodies = bulk_bodies(names.version("orders", 1), docs, 1000)
    with httpx.Client(base_url=url, timeout=300) as client, Stopwatch() as watch:
        for body in bodies:
            send_until_accepted(client, body)
        client.post(f"/{names.orders}/_refresh").raise_for_status()
    return round(len(docs) / watch.seconds, 1)


def measure(engine: SearchEngine, url: str, *, prefix: str, docs: list[tuple[str, dict[str, Any]]],
            rate: float, intervals: list[str], rounds: int) -> dict[str, list[dict[str, Any]]]:
    runs: dict[str, list[dict[str, Any]]] = {interval: [] for interval in intervals}
    for round_number in range(rounds):
        order = intervals if round_number % 2 == 0 else intervals[::-1]  # alternated: drift hits both
        for interval in order:
            slow, fast = (IndexNames(f"{prefix}-{kind}{round_number}-{interval}") for kind in ("paced", "flat"))
            try:
                for names in (slow, fast):
                    install(engine, names, refresh_interval=interval)
                runs[interval].append({**paced(engine, url, slow, docs, rate), "flat_out_docs_per_s":
                                       flat_out(url, fast, docs)})
                print(f"round {round_number} {interval}: {runs[interval][-1]}", flush=True)
            finally:
                drop_scope(engine, prefix)
    return runs


def medians(runs: list[dict[str, Any]]) -> dict[str, float]:
    return {key: round(statistics.median(run[key] for run in runs), 1) for key in runs[0]}


def main(orders: int = typer.Option(3000, help="sample orders (documents: their current state)"),
         versions: int = typer.Option(3, min=1, help="times each order is written (its changes)"),
         rate: float = typer.Option(1000.0, help="paced documents/s"),
         intervals: str = typer.Option("1s,500ms", help="hot refresh intervals to compare"),
         rounds: int = typer.Option(3, min=1, help="alternated rounds per interval")) -> None:
    settings = get_settings()
    engine = connect_engine(settings)
    current = [(order_id, order.to_document()) for order_id, order in
               sorted(expected_orders(generate(orders=orders, seed=5)).items())]
    docs = current * versions
    runs = measure(engine, settings.resolved_engine_url(), prefix=f"refreshcost-{int(time.time())}", docs=docs,
                   rate=rate, intervals=intervals.split(","), rounds=rounds)
    summary = {interval: medians(found) for interval, found in runs.items()}
    for interval, figures in summary.items():
        print(f"{interval}: " + ", ".join(f"{key} {value}" for key, value in figures.items()))
    save_result("refresh-cost", {"machine": machine(), "documents": len(docs), "rate": rate,
                                 "medians": summary, "runs": runs})


if __name__ == "__main__":
    typer.run(main)
