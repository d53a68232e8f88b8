"""The direct sides of the query bench: exactly what the API sent to its store, replayed by the API's own client.

A hand-written "same query" drifts from what the API really sends (before this module the direct
engine side sent one `_search` to the hot alias while the API sent one `_msearch` over hot + warm
with the order locator's questions). So the direct requests are recorded, not re-typed:
- recording: the app runs in this process (as `bench.api_cpu` runs it) and answers each input once;
  every store request made while a request is handled is kept per input, in the order sent — for
  the engine each `Call` (method, path, query parameters, body), for the PostgreSQL-backed app each
  (statement, parameters). Background writers (audit log, read recorder) run in tasks started with
  the app, outside any request's context, and are not recorded;
- replay: the same calls through the API's own client objects — the engine's `LeanClient` (one
  aiohttp keep-alive pool of the API's size, orjson bodies, `Accept-Encoding: identity`, answers
  decoded by orjson) and `PostgresOrderReader`'s pool (async psycopg, dict rows) — one after
  another, as the API sends them (the timeline's two requests included).
So a direct side differs from its API side only by the API's own work: HTTP, auth, routing,
audit hand-off, the reader's logic on the answers, the views and the JSON.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from adapters.engine.lean_client import LeanClient
from adapters.engine.operations import Call
from adapters.engine_settings import engine_config
from bench.api_cpu import asgi_get
from bench.query_bench import Request
from settings import Settings

if TYPE_CHECKING:  # psycopg is needed only with the PostgreSQL baseline
    from bench.pg.reader import PostgresOrderReader

Recorded = dict[str, list[list[Any]]]  # question -> per input, the store requests in the order sent
_current: ContextVar[list[Any] | None] = ContextVar("bench_replay_recording", default=None)


def _keep(item: Any) -> None:
    recording = _current.get()
    if recording is not None:
        recording.append(item)


def bench_settings(settings: Settings, secret: str) -> Settings:
    """The settings the benchmarked API process runs with (`bench.__main__._start_api`'s environment)."""
    return settings.model_copy(update={"api_token_secret": secret, "api_rate_per_token": 1e9,
                                       "api_rate_per_client": 1e9, "log_level": "WARNING"})


async def record(app: Any, requests: Mapping[str, Callable[[int], Request]], counts: Mapping[str, int]) -> Recorded:
    """Each question's inputs 0..counts[q]-1 asked through `app` (lifespan already entered); what
    its store hook (`_keep`) saw per input."""
    recorded: Recorded = {}
    for question, request in requests.items():
        recorded[question] = []
        for i in range(counts[question]):
            token = _current.set([])
            try:
                await asgi_get(app, request(i))
                recorded[question].append(_current.get() or [])
            finally:
                _current.reset(token)
    return recorded


@asynccontextmanager
async def engine_app(settings: Settings, secret: str) -> AsyncIterator[Any]:
    """The product's app in this process, its engine's every `run` recorded."""
    from query_api.app import create_app

    app = create_app(bench_settings(settings, secret))
    async with app.router.lifespan_context(app):
        engine = app.state.engine
        run = engine.run

        async def recording_run(call: Call[Any]) -> Any:
            if not call.skip:
                _keep(call)
            return await run(call)

        engine.run = recording_run
        yield app


@asynccontextmanager
async def postgres_app(settings: Settings, secret: str, dsn: str) -> AsyncIterator[Any]:
    """The PostgreSQL-backed app (`bench.pg.api`) in this process, every statement recorded."""
    from bench.pg.reader import PostgresOrderReader
    from query_api.app import create_app

    reader = PostgresOrderReader(dsn)
    rows = reader.rows

    async def recording_rows(sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        _keep((sql, params))
        return await rows(sql, params)

    reader.rows = recording_rows  # type: ignore[method-assign]
    app = create_app(bench_settings(settings, secret), reader=reader)
    try:
        async with app.router.lifespan_context(app):
            yield app
    finally:
        await reader.close()


def _replayer(recorded: Recorded, send: Callable[[Any], Awaitable[Any]]) -> dict[str, Callable[[int], Awaitable[None]]]:
    def question(per_input: list[list[Any]]) -> Callable[[int], Awaitable[None]]:
        async def call(i: int) -> None:
            for item in per_input[i % len(per_input)]:
                await send(item)
        return call

    return {name: question(per_input) for name, per_input in recorded.items()}


def engine_replay(client: LeanClient, recorded: Recorded) -> dict[str, Callable[[int], Awaitable[None]]]:
    """Input i of each question: its recorded engine calls, sent by `client` one after another."""
    return _replayer(recorded, client.send)


def postgres_replay(reader: PostgresOrderReader, recorded: Recorded) -> dict[str, Callable[[int], Awaitable[None]]]:
    """Input i of each question: its recorded statements, run on `reader`'s pool one after another."""
    return _replayer(recorded, lambda item: reader.rows(*item))


def engine_client(settings: Settings) -> LeanClient:
    """A client like the API's: same configuration (URL, auth, TLS, timeout), same pool size."""
    return LeanClient(engine_config(settings))


def describe(recorded: Recorded) -> dict[str, list[str]]:
    """What the direct side sends per question (first input), e.g. `POST /_msearch`: saved with the figures."""
    def line(item: Any) -> str:
        return f"{item.method} {item.path}" if isinstance(item, Call) else " ".join(str(item[0]).split())[:80]

    return {name: [line(item) for item in per_input[0]] if per_input else [] for name, per_input in recorded.items()}
