"""The sync and async engine classes: thin shells that send `Call`s and await or not (adapter).

Everything an operation asks and how its answer is read is in `operations.py`,
everything that differs by engine in `dialects.py`; a shell only sends, translates
errors and times the request. So the two shells cannot drift: they share every
piece but the `await`, and a unit test checks that they offer the same methods
with the same signatures.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx

from adapters.engine import bulk_body
from adapters.engine import operations as ops
from adapters.engine.allocation import NodeAttribute, TierAllocation
from adapters.engine.capabilities import fit_index_body
from adapters.engine.detection import Reply, detection, path_url
from adapters.engine.dialects import dialect_for
from adapters.engine.lean_client import LeanClient
from adapters.engine.model import (
    BulkItemResult, EngineConfig, EngineError, EngineInfo, EngineUnavailable, bulk_item_result,
)
from adapters.engine.operations import Call
from settings.log_setup import get_logger

T = TypeVar("T")
log = get_logger(__name__)
_BULK_MAX_BYTES = 20 * 1024 * 1024
_BULK_BACKOFF_S, _BULK_MAX_BACKOFF_S = 0.5, 10.0
RequestObserver = Callable[[str, float, int], None]  # (method, seconds, status; 0 = no answer)


def _root_client_options(config: EngineConfig) -> dict[str, Any]:
    return {"auth": config.auth(), "verify": config.verify_certs, "timeout": 10.0}


def _unreachable(config: EngineConfig, error: Exception) -> EngineUnavailable:
    return EngineUnavailable(503, f"cannot reach the search engine at {config.url}: {error}")


def _reply(response: httpx.Response) -> Reply:
    try:
        body = response.json()
    except ValueError:
        body = None
    return Reply(response.status_code, response.headers.get("x-elastic-product"), body)


def detect_engine(config: EngineConfig) -> EngineInfo:
    """Which engine, version and build answers at `config.url` (`adapters/engine/detection.py`)."""
    steps = detection(config.url)
    try:
        with httpx.Client(**_root_client_options(config)) as client:
            path = next(steps)
            while True:
                path = steps.send(_reply(client.get(path_url(config.url, path))))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    except httpx.HTTPError as error:
        raise _unreachable(config, error) from error


async def detect_engine_async(config: EngineConfig) -> EngineInfo:
    steps = detection(config.url)
    try:
        async with httpx.AsyncClient(**_root_client_options(config)) as client:
            path = next(steps)
            while True:
                path = steps.send(_reply(await client.get(path_url(config.url, path))))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    except httpx.HTTPError as error:
        raise _unreachable(config, error) from error


class _Shell:
    """What both shells hold: the detected server, its dialect and one client for the process."""

    def __init__(self, info: EngineInfo, config: EngineConfig, *, asynchronous: bool, client: Any = None) -> None:
        self.info = info
        self.dialect = dialect_for(info)
        self.warm_attribute = NodeAttribute.parse(config.warm_attribute)
        self.observer: RequestObserver | None = None
        self._client: Any = client if client is not None else self.dialect.client(config, asynchronous=asynchronous)
        if info.capabilities.missing:  # said once per process and client: what this build cannot do
            log.warning("engine build without standard modules", engine=f"{info.kind} {info.version}",
                        url=info.url, capabilities=info.capabilities.describe())

    def _fit(self, body: dict[str, Any] | None) -> Any:
        """An index or template body as this build accepts it (unchanged on a standard build)."""
        return fit_index_body(body, self.info.capabilities)

    @contextmanager
    def _exchange(self, call: Call[Any]) -> Iterator[None]:
        """Client errors become ours; the observer (if any) sees method, seconds and status."""
        started, status = time.perf_counter(), 200
        try:
            yield
        except Exception as error:  # noqa: BLE001 - both clients' errors become ours
            translated = error if isinstance(error, EngineError) else self.dialect.translate(error)
            status = 0 if isinstance(translated, EngineUnavailable) else translated.status
            raise translated from error
        finally:
            if self.observer is not None:
                self.observer(call.method, time.perf_counter() - started, status)


def _tolerated(call: Call[Any], error: EngineError) -> bool:
    return call.tolerate is not None and isinstance(error, call.tolerate)


class SearchEngine(_Shell):
    """Synchronous engine access for the ingest worker, installers and tools."""

    def __init__(self, info: EngineInfo, config: EngineConfig) -> None:
        super().__init__(info, config, asynchronous=False)
        self.sleep: Callable[[float], None] = time.sleep  # between bulk retries of refused (429) items

    @classmethod
    def connect(cls, config: EngineConfig) -> SearchEngine:
        return cls(detect_engine(config), config)

    def close(self) -> None:
        self._client.close()

    def run(self, call: Call[T]) -> T:
        """Send one described request; a tolerated error answers the call's fallback."""
        if call.skip:
            return call.fallback
        try:
            with self._exchange(call):
                answer = self.dialect.unwrap(self.dialect.send(self._client, call))
        except EngineError as error:
            if _tolerated(call, error):
                return call.fallback
            raise
        return call.read(answer)

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        return self.run(Call(method, path, params=params, body=body))

    def health(self) -> dict[str, Any]:
        return self.run(ops.health())

    def index_exists(self, index: str) -> bool:
        return self.run(ops.index_exists(index))

    def create_index(self, index: str, body: dict[str, Any] | None = None) -> None:
        self.run(ops.create_index(index, self._fit(body)))

    def delete_index(self, index: str) -> None:
        self.run(ops.delete_index(index))

    def refresh(self, index: str) -> None:
        self.run(ops.refresh(index))

    def put_component_template(self, name: str, body: dict[str, Any]) -> None:
        self.run(ops.put_component_template(name, self._fit(body)))

    def put_index_template(self, name: str, body: dict[str, Any]) -> None:
        self.run(ops.put_index_template(name, self._fit(body)))

    def aliases_of(self, alias: str) -> list[str]:
        """The indices behind `alias`, ordered by version number: the last is the newest."""
        return self.run(ops.aliases_of(alias))

    def update_aliases(self, actions: list[dict[str, Any]]) -> None:
        """Atomic: all alias moves happen together, so readers never see a gap."""
        self.run(ops.update_aliases(actions))

    def get(self, index: str, doc_id: str) -> dict[str, Any] | None:
        return self.run(ops.get(index, doc_id))

    def mget(self, index: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Found documents by id, each with _source, _seq_no and _primary_term."""
        return self.run(ops.mget(index, ids))

    def search(self, index: str, body: dict[str, Any], *, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.run(ops.search(index, body, params))

    def count(self, index: str, query: dict[str, Any] | None = None) -> int:
        return self.run(ops.count(index, query))

    def open_pit(self, index: str, keep_alive: str = "2m") -> str:
        """A point in time: deep pages stay consistent while new orders arrive."""
        return self.run(self.dialect.open_pit(index, keep_alive))

    def close_pit(self, pit_id: str) -> None:
        self.run(self.dialect.close_pit(pit_id))

    def search_pit(self, pit_id: str, body: dict[str, Any], keep_alive: str = "2m") -> dict[str, Any]:
        return self.run(self.dialect.search_pit(pit_id, body, keep_alive))

    def tier_allocation(self) -> TierAllocation:
        """Index settings placing hot and warm indices on this cluster (empty on a single node)."""
        return self.run(self.dialect.tier_allocation(self.warm_attribute))

    def bulk(
        self, actions: Iterable[dict[str, Any]], *, chunk_size: int = 1000, max_retries: int = 5,
        refresh: bool | str = False,
    ) -> Iterator[BulkItemResult]:
        """One result per item; items the engine refused with 429 are sent again (capped backoff,
        up to `max_retries` times) and their results come after the others, so callers match results
        by `doc_id`, never by position. A request the engine refuses or never answers as a whole
        fails each of its items with that status (0: no answer), as the bulk helpers did.
        Bodies are encoded once, as bytes (`adapters/engine/bulk_body.py`)."""
        params = {"filter_path": bulk_body.ANSWER_FIELDS}
        if refresh is not False:
            params["refresh"] = str(refresh).lower()
        for chunk in bulk_body.chunks(actions, chunk_size=chunk_size, max_bytes=_BULK_MAX_BYTES):
            for attempt in range(max_retries + 1):
                if attempt:
                    self.sleep(min(_BULK_MAX_BACKOFF_S, _BULK_BACKOFF_S * 2 ** (attempt - 1)))
                retry = bulk_body.BulkChunk()
                for lines, item in zip(chunk.lines, self._bulk_items(chunk, params), strict=True):
                    result = bulk_item_result(bulk_body.succeeded(item), item)
                    if result.status == 429 and attempt < max_retries:
                        retry.lines.append(lines)
                    else:
                        yield result
                if not retry.lines:
                    break
                chunk = retry

    def _bulk_items(self, chunk: bulk_body.BulkChunk, params: dict[str, Any]) -> list[dict[str, Any]]:
        """The answer's items for one body, in the body's order."""
        try:
            return list(self.run(Call("POST", "/_bulk", params=params, body=chunk.body()))["items"])
        except EngineError as error:
            status = 0 if isinstance(error, EngineUnavailable) else error.status
            return bulk_body.failed_items(chunk, status=status, error=str(error))


class AsyncSearchEngine(_Shell):
    """Asynchronous engine access for the query API: one client per process, never per request.

    `lean`: requests go through `adapters/engine/lean_client.py` (aiohttp + orjson, a fraction of
    the client library's CPU per round trip) instead of the dialect's client library; the same
    calls, answers and errors either way."""

    def __init__(self, info: EngineInfo, config: EngineConfig, *, lean: bool = False) -> None:
        super().__init__(info, config, asynchronous=True, client=LeanClient(config) if lean else None)
        self.lean = lean

    @classmethod
    async def connect(cls, config: EngineConfig, *, lean: bool = False) -> AsyncSearchEngine:
        return cls(await detect_engine_async(config), config, lean=lean)

    async def _send(self, call: Call[Any]) -> Any:
        if self.lean:
            return await self._client.send(call)
        return self.dialect.unwrap(await self.dialect.send(self._client, call))

    async def close(self) -> None:
        await self._client.close()

    async def run(self, call: Call[T]) -> T:
        """Send one described request; a tolerated error answers the call's fallback."""
        if call.skip:
            return call.fallback
        try:
            with self._exchange(call):
                answer = await self._send(call)
        except EngineError as error:
            if _tolerated(call, error):
                return call.fallback
            raise
        return call.read(answer)

    async def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        return await self.run(Call(method, path, params=params, body=body))

    async def health(self) -> dict[str, Any]:
        return await self.run(ops.health())

    async def index_exists(self, index: str) -> bool:
        return await self.run(ops.index_exists(index))

    async def create_index(self, index: str, body: dict[str, Any] | None = None) -> None:
        await self.run(ops.create_index(index, self._fit(body)))

    async def delete_index(self, index: str) -> None:
        await self.run(ops.delete_index(index))

    async def refresh(self, index: str) -> None:
        await self.run(ops.refresh(index))

    async def put_component_template(self, name: str, body: dict[str, Any]) -> None:
        await self.run(ops.put_component_template(name, self._fit(body)))

    async def put_index_template(self, name: str, body: dict[str, Any]) -> None:
        await self.run(ops.put_index_template(name, self._fit(body)))

    async def aliases_of(self, alias: str) -> list[str]:
        """The indices behind `alias`, ordered by version number: the last is the newest."""
        return await self.run(ops.aliases_of(alias))

    async def update_aliases(self, actions: list[dict[str, Any]]) -> None:
        """Atomic: all alias moves happen together, so readers never see a gap."""
        await self.run(ops.update_aliases(actions))

    async def get(self, index: str, doc_id: str) -> dict[str, Any] | None:
        return await self.run(ops.get(index, doc_id))

    async def mget(self, index: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Found documents by id, each with _source, _seq_no and _primary_term."""
        return await self.run(ops.mget(index, ids))

    async def search(self, index: str, body: dict[str, Any], *, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.run(ops.search(index, body, params))

    async def count(self, index: str, query: dict[str, Any] | None = None) -> int:
        return await self.run(ops.count(index, query))

    async def open_pit(self, index: str, keep_alive: str = "2m") -> str:
        """A point in time: deep pages stay consistent while new orders arrive."""
        return await self.run(self.dialect.open_pit(index, keep_alive))

    async def close_pit(self, pit_id: str) -> None:
        await self.run(self.dialect.close_pit(pit_id))

    async def search_pit(self, pit_id: str, body: dict[str, Any], keep_alive: str = "2m") -> dict[str, Any]:
        return await self.run(self.dialect.search_pit(pit_id, body, keep_alive))

    async def tier_allocation(self) -> TierAllocation:
        """Index settings placing hot and warm indices on this cluster (empty on a single node)."""
        return await self.run(self.dialect.tier_allocation(self.warm_attribute))
