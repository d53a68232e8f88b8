"""The query-latency phase of `python -m bench` for one data size: every side measured side by side.

Steps:
1. record the engine requests the API sends for every input it will be asked (`bench.replay`);
2. with PostgreSQL: start a private cluster, load the same orders, record the statements the
   PostgreSQL-backed app (`bench.pg.api`) runs for the same inputs;
3. start the API process (and the PostgreSQL-backed one) as a deployment runs them;
4. per question and level, ONE phase over every side: our API, the engine requests it sent, and
   PostgreSQL behind the same API and directly (`query_bench.measure_paired`);
5. with `phased`: the older method (a phase per side, one after the other) on the same processes.

Results keep the names of the one-phase-per-side bench, so the targets, the report and the
capacity plan read them as before: `api`, `engine`, `api_peak_rss_mb`, `postgres.latency`
(PostgreSQL directly), `postgres.api`, `postgres.api_peak_rss_mb`, `postgres.load_seconds`.
New: `paired` (question -> level -> each side's figures + paired differences), `direct_requests`
(what each direct side sends per question) and, with `phased`, `phased` (side -> question -> level).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, ExitStack, contextmanager
from typing import Any

import aiohttp
import httpx

from bench.ingest_bench import scoped_env
from bench.measure import peak_rss_mb
from bench.query_bench import (SECRET, Inputs, Request, Sides, api_calls, api_requests, distinct_inputs, measure_paired,
                               per_side, requests_needed, run_http_target)
from bench import replay
from settings import Settings

API_COMMAND = ("-m", "orderrepo.cli", "api")
PostgresSource = Callable[[], tuple[Iterator[dict[str, Any]], Iterator[tuple]]]  # stored orders, timeline rows


def start_api(settings: Settings, command: tuple[str, ...] = API_COMMAND, *,
              port: int = 18080) -> tuple[subprocess.Popen[bytes], str]:
    # the load generator is one address and one staff token: limits far above its rate keep the
    # limiter's work on every request without turning the measurement into 429s
    env = {**scoped_env(settings), "ORDERREPO_API_TOKEN_SECRET": SECRET, "ORDERREPO_API_RATE_PER_TOKEN": "1e9",
           "ORDERREPO_API_RATE_PER_CLIENT": "1e9"}
    process = subprocess.Popen([sys.executable, *command, "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("the API did not start")


@contextmanager
def api_process(settings: Settings, command: tuple[str, ...], *, port: int,
                peak: dict[str, float], name: str) -> Iterator[str]:
    """A running API process (its base URL); its peak RSS lands in `peak[name]` before it stops."""
    process, base = start_api(settings, command, port=port)
    try:
        yield base
        peak[name] = round(peak_rss_mb(process.pid), 1)
    finally:
        process.terminate()
        process.wait(timeout=30)


def measure_queries(settings: Settings, inputs: Inputs, *, levels: tuple[int, ...], per_level: int,
                    postgres: PostgresSource | None = None, phased: bool = False) -> dict[str, Any]:
    """Steps 1-5 of the module docstring; the figures under the names listed there."""
    from bench.pg.server import PostgresServer, default_data_dir, free_port

    peak: dict[str, float] = {}
    with ExitStack() as stack:
        loaded: dict[str, Any] = {}
        dsn = None
        if postgres is not None:
            server = stack.enter_context(PostgresServer(default_data_dir(), port=free_port(), fresh=True))
            dsn, loaded["load_seconds"] = server.dsn, _load(server.dsn, postgres)
        bases = {"api": stack.enter_context(api_process(settings, API_COMMAND, port=free_port(), peak=peak,
                                                        name="api"))}
        if dsn is not None:
            bases["pg_api"] = stack.enter_context(api_process(settings, ("-m", "bench.pg.api", "--dsn", dsn),
                                                              port=free_port(), peak=peak, name="pg_api"))
        measured = asyncio.run(_measure(settings, inputs, bases, dsn, levels=levels, per_level=per_level,
                                        phased=phased))
    result = {"api": per_side(measured["paired"], "api"), "engine": per_side(measured["paired"], "engine"),
              "api_peak_rss_mb": peak["api"], **measured}
    if dsn is not None:
        result["postgres"] = {**loaded, "latency": per_side(measured["paired"], "pg_direct"),
                              "api": per_side(measured["paired"], "pg_api"), "api_peak_rss_mb": peak["pg_api"]}
    return result


def _load(dsn: str, postgres: PostgresSource) -> float:
    from bench.pg.load import load_orders
    from ingest.planner import order_from_document

    orders, timeline = postgres()
    return round(load_orders(dsn, (order_from_document(o) for o in orders), timeline, quiet=True).total_seconds, 2)


async def _record(settings: Settings, requests: dict[str, Callable[[int], Request]], counts: dict[str, int],
                  dsn: str | None) -> dict[str, replay.Recorded]:
    """What each direct side will send: the engine requests of the API, the statements of the
    PostgreSQL-backed API, for every input the phase will ask."""
    async with replay.engine_app(settings, SECRET) as app:
        recorded = {"engine": await replay.record(app, requests, counts)}
    if dsn is not None:
        async with replay.postgres_app(settings, SECRET, dsn) as app:
            recorded["pg_direct"] = await replay.record(app, requests, counts)
    return recorded


async def _measure(settings: Settings, inputs: Inputs, bases: dict[str, str], dsn: str | None, *,
                   levels: tuple[int, ...], per_level: int, phased: bool) -> dict[str, Any]:
    requests = api_requests(inputs, SECRET)
    counts = {question: min(requests_needed(levels, per_level), distinct)
              for question, distinct in distinct_inputs(inputs).items()}
    recorded = await _record(settings, requests, counts, dsn)
    async with AsyncExitStack() as stack:
        http = {side: await stack.enter_async_context(aiohttp.ClientSession(
            base_url=base, connector=aiohttp.TCPConnector(limit=64), timeout=aiohttp.ClientTimeout(total=60)))
            for side, base in bases.items()}
        engine = replay.engine_client(settings)
        stack.push_async_callback(engine.close)
        # each API beside its direct side: in three of the four turn orders they go one after the other
        sides: dict[str, Sides] = {"api": api_calls(http["api"], requests),
                                   "engine": replay.engine_replay(engine, recorded["engine"])}
        if dsn is not None:
            from bench.pg.reader import PostgresOrderReader  # psycopg: only with the PostgreSQL baseline

            reader = PostgresOrderReader(dsn)
            stack.push_async_callback(reader.close)
            sides |= {"pg_api": api_calls(http["pg_api"], requests),
                      "pg_direct": replay.postgres_replay(reader, recorded["pg_direct"])}
        result: dict[str, Any] = {"paired": await measure_paired(sides, levels=levels, per_level=per_level),
                                  "direct_requests": {side: replay.describe(r) for side, r in recorded.items()}}
        if phased:
            result["phased"] = {side: await run_http_target(calls, levels=levels, per_level=per_level)
                                for side, calls in sides.items()}
        return result
