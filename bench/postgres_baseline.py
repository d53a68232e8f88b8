"""PostgreSQL baseline: the same reads as the search engine, on the schema an OMS would have.

Public API (implemented in `bench.pg`):
- `ensure_postgres_installed()` -> the server's bin dir (apt-get installs it when root);
- `PostgresServer(data_dir, port=15432)` -> a private loopback-only cluster, a context manager, `.dsn`;
- `load_orders(dsn, orders, timeline=None)` -> `LoadStats` (COPY, then keys/indexes, ANALYZE);
- `history_page`, `order_by_reference`, `csr_search`, `order_timeline`, `sales_by_channel_per_day`.

Run it:  python -m bench.postgres_baseline --orders 100000 --seed 1 [--port 15432] [--data-dir DIR]
It generates the sample traffic, folds it into orders (`expected_orders`), loads
them and prints the load rate and per-query latencies (median/p95 of repeated calls).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.pg.load import LoadStats, TimelineRow, load_orders, replay_with_timeline, status_history_timeline
from bench.pg.queries import csr_search, history_page, order_by_reference, order_timeline, sales_by_channel_per_day
from bench.pg.server import (
    DEFAULT_PORT,
    PostgresServer,
    PostgresUnavailable,
    default_data_dir,
    ensure_postgres_installed,
    find_bin_dir,
    free_port,
)

__all__ = [
    "DEFAULT_PORT", "LoadStats", "PostgresServer", "PostgresUnavailable", "TimelineRow", "csr_search",
    "default_data_dir", "ensure_postgres_installed", "find_bin_dir", "free_port", "history_page",
    "load_orders", "order_by_reference", "order_timeline", "replay_with_timeline", "sales_by_channel_per_day",
    "status_history_timeline", "measure",
]


def measure(call: Callable[[], Any], repeat: int) -> dict[str, float]:
    """Latency in ms of `repeat` calls after one warm-up call: first (cold-ish), median, p95, max."""
    timings = []
    for _ in range(repeat + 1):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    first, rest = timings[0], sorted(timings[1:])
    return {"first": first, "median": statistics.median(rest),
            "p95": rest[min(len(rest) - 1, int(len(rest) * 0.95))], "max": rest[-1]}


def _samples(orders: dict[str, Any], rng: random.Random, count: int) -> dict[str, list[str]]:
    picked = rng.sample(list(orders.values()), min(count, len(orders)))
    return {
        "emails": [o.customer.email for o in picked if o.customer.email],
        "tracking": [s.tracking_number for o in picked for s in o.shipments if s.tracking_number][:count],
        "refs": [r.value for o in picked for r in o.references][:count],
        "names": [o.customer.name.split()[-1] for o in picked if o.customer.name][:count],
        "phones": [o.customer.phone for o in picked if o.customer.phone][:count],
        "order_ids": [o.order_id for o in picked],
    }


def run(orders: int, seed: int, port: int, data_dir: Path | None, repeat: int, timeline: bool) -> None:
    import psycopg

    from sample_traffic import expected_orders, generate

    started = time.perf_counter()
    if timeline:
        folded, entries = replay_with_timeline(generate(orders=orders, seed=seed))
    else:
        folded, entries = expected_orders(generate(orders=orders, seed=seed)), None
    print(f"[bench] generated and folded {len(folded):,} orders in {time.perf_counter() - started:.1f} s", flush=True)
    with PostgresServer(data_dir, port=port, fresh=True) as server:
        load_orders(server.dsn, folded, entries)  # prints its rate
        rng = random.Random(seed)
        sample = _samples(folded, rng, repeat)
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            def cycle(values: list[str], fn: Callable[[str], Any]) -> Callable[[], Any]:
                position = iter(range(10**9))
                return lambda: fn(values[next(position) % len(values)])

            cases: dict[str, Callable[[], Any]] = {
                "history_page(email)": cycle(sample["emails"], lambda v: history_page(conn, v)),
                "order_by_reference(tracking)": cycle(sample["tracking"], lambda v: order_by_reference(conn, v)),
                "order_by_reference(ref)": cycle(sample["refs"], lambda v: order_by_reference(conn, v)),
                "csr_search(last name)": cycle(sample["names"], lambda v: csr_search(conn, v)),
                "csr_search(phone)": cycle(sample["phones"], lambda v: csr_search(conn, v)),
                "csr_search(reference)": cycle(sample["refs"], lambda v: csr_search(conn, v)),
                "order_timeline": cycle(sample["order_ids"], lambda v: order_timeline(conn, v)),
                "sales_by_channel_per_day": lambda: sales_by_channel_per_day(conn),
            }
            print(f"[bench] latency over {repeat} calls each (ms): first / median / p95 / max")
            for name, call in cases.items():
                result = measure(call, repeat if "sales" not in name else max(3, repeat // 10))
                print(f"  {name:32s} {result['first']:8.2f} {result['median']:8.2f} "
                      f"{result['p95']:8.2f} {result['max']:8.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--data-dir", type=Path, default=None, help=f"default {default_data_dir()}")
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--timeline", action="store_true",
                        help="replay the planner's timeline rules (slower) instead of deriving it from status history")
    args = parser.parse_args(argv)
    run(args.orders, args.seed, args.port, args.data_dir, args.repeat, args.timeline)


if __name__ == "__main__":
    main()
