"""Freshness: produce-to-searchable lag while the pipeline carries a steady background load.

A live worker runs as its own process. Background traffic is replayed at a target
share of the maximum sustained rate; every 100 ms a marker order (a canonical
"created" event with a new id) is produced and a poller searches for it until it
is visible. Lag = first search hit time - produce time.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from itertools import cycle
from typing import Any

from adapters.kafka_bus import make_producer
from adapters.search_engine import SearchEngine
from bench.ingest_bench import scoped_env
from bench.measure import percentiles
from sample_traffic import generate
from orderrepo.bootstrap import index_names, prepare_storage, topic_map
from settings import Settings
from order_domain.model import Channel


def _marker(order_id: str) -> bytes:
    now = datetime.now(UTC).isoformat()
    return (f'{{"event_id":"{order_id}:1","order_id":"{order_id}","channel":"app","source":"bench",'
            f'"kind":"created","occurred_at":"{now}","placed_at":"{now}","status":"confirmed"}}').encode()


def _produce(settings: Settings, rate: float, seconds: float, sent: dict[str, float], stop: threading.Event) -> None:
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
            order_id = f"marker-{rate:.0f}-{len(sent)}"
            producer.send(topics.by_channel[Channel.APP], key=order_id.encode(), value=_marker(order_id))
            sent[order_id] = time.time()
            next_marker += marker_every
        time.sleep(0.005)
    producer.flush(30)
    producer.close()


def _poll(engine: SearchEngine, alias: str, sent: dict[str, float], seen: dict[str, float],
          stop: threading.Event) -> None:
    while not stop.is_set() or len(seen) < len(sent):
        waiting = [order_id for order_id in list(sent) if order_id not in seen]
        if waiting:
            hits = engine.search(alias, {"size": len(waiting), "_source": False,
                                         "query": {"terms": {"order_id": waiting}}})["hits"]["hits"]
            now = time.time()
            for hit in hits:
                seen.setdefault(hit["_id"], now)
        if stop.is_set() and time.time() - max(sent.values(), default=0) > 30:
            return
        time.sleep(0.02)


def measure_freshness(settings: Settings, engine: SearchEngine, *, max_rate: float, processes: int = 1,
                      shares: tuple[float, ...] = (0.25, 0.5, 0.9), seconds: float = 20.0) -> list[dict[str, Any]]:
    """`max_rate` was measured with `processes` workers; the same number serves this load."""
    prepare_storage(settings, engine)
    worker = subprocess.Popen([sys.executable, "-m", "orderrepo.cli", "ingest", "run", "--processes", str(processes)],
                              env=scoped_env(settings), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = []
    try:
        time.sleep(8)  # group join
        for share in shares:
            sent: dict[str, float] = {}
            seen: dict[str, float] = {}
            stop = threading.Event()
            poller = threading.Thread(target=_poll, args=(engine, index_names(settings).orders, sent, seen, stop))
            poller.start()
            _produce(settings, max_rate * share, seconds, sent, stop)
            stop.set()
            poller.join()
            lags = [seen[k] - sent[k] for k in sent if k in seen]
            results.append({"share_of_max": share, "rate_records_per_s": round(max_rate * share, 1),
                            "markers": len(sent), "visible": len(lags),
                            **{k: round(v, 3) for k, v in percentiles(lags).items()}})
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    return results
