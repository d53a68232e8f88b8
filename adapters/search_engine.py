"""The only door to the search engine (adapter). No other module imports an engine client.

The engine is detected from the server's own answer to `GET /`: OpenSearch says
`version.distribution: opensearch`; Elasticsearch does not. We then use
`opensearch-py` or the official `elasticsearch` (8.x) client. Both speak the same
core REST API, so requests go through one `request()`; the few real differences
(point-in-time) are handled here. Bulk writes use each client's own bulk helper,
which chunks by count and bytes and retries 429 with capped backoff.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

import httpx
import orjson

JSON_HEADERS = {"accept": "application/json", "content-type": "application/json"}


class EngineKind(StrEnum):
    OPENSEARCH = "opensearch"
    ELASTICSEARCH = "elasticsearch"


class EngineError(RuntimeError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"engine answered {status}: {message}")
        self.status = status


class EngineUnavailable(EngineError):
    pass


class NotFound(EngineError):
    pass


class Conflict(EngineError):
    pass


@dataclass(frozen=True)
class EngineInfo:
    kind: EngineKind
    version: str
    url: str


@dataclass(frozen=True)
class EngineConfig:
    url: str
    username: str | None = None
    password: str | None = None
    verify_certs: bool = True
    timeout_s: float = 30.0
    http_compress: bool = False

    def auth(self) -> tuple[str, str] | None:
        return (self.username, self.password or "") if self.username else None


@dataclass(frozen=True)
class BulkItemResult:
    ok: bool
    op: str
    index: str
    doc_id: str
    status: int
    error: str | None


def classify_root_answer(answer: dict[str, Any], url: str) -> EngineInfo:
    version = answer.get("version") or {}
    kind = EngineKind.OPENSEARCH if version.get("distribution") == "opensearch" else EngineKind.ELASTICSEARCH
    return EngineInfo(kind=kind, version=str(version.get("number", "unknown")), url=url)


def detect_engine(config: EngineConfig) -> EngineInfo:
    try:
        response = httpx.get(config.url, auth=config.auth(), verify=config.verify_certs, timeout=10.0)
        response.raise_for_status()
    except httpx.HTTPError as error:
        raise EngineUnavailable(503, f"cannot reach the search engine at {config.url}: {error}") from error
    return classify_root_answer(response.json(), config.url)


def _translate(error: Exception) -> EngineError:
    status = getattr(error, "status_code", None) or getattr(getattr(error, "meta", None), "status", None)
    if not isinstance(status, int):
        return EngineUnavailable(503, str(error))
    info = getattr(error, "info", None) or getattr(error, "body", None) or str(error)
    cls = {404: NotFound, 409: Conflict}.get(status, EngineError)
    return cls(status, str(info)[:2000])


def _orjson_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _opensearch_serializer() -> Any:
    """orjson instead of the stdlib json: bulk bodies are most of the client's CPU time."""
    from opensearchpy.serializer import JSONSerializer

    class OrjsonSerializer(JSONSerializer):  # type: ignore[misc]
        def dumps(self, data: Any) -> Any:
            if isinstance(data, str | bytes):
                return data
            return orjson.dumps(data, default=_orjson_default).decode()

        def loads(self, s: str) -> Any:
            return orjson.loads(s)

    return OrjsonSerializer()


def _body(response: Any) -> Any:
    return getattr(response, "body", response)


class SearchEngine:
    """Synchronous engine access for the ingest worker, installers and tools."""

    def __init__(self, info: EngineInfo, config: EngineConfig) -> None:
        self.info = info
        if info.kind is EngineKind.OPENSEARCH:
            from opensearchpy import OpenSearch, helpers

            self._client: Any = OpenSearch(
                hosts=[config.url], http_auth=config.auth(), verify_certs=config.verify_certs,
                timeout=config.timeout_s, http_compress=config.http_compress, serializer=_opensearch_serializer(),
            )
        else:
            from elasticsearch import Elasticsearch, helpers  # type: ignore[no-redef]

            self._client = Elasticsearch(
                hosts=[config.url], basic_auth=config.auth(), verify_certs=config.verify_certs,
                request_timeout=config.timeout_s, http_compress=config.http_compress,
            )
        self._helpers = helpers

    @classmethod
    def connect(cls, config: EngineConfig) -> SearchEngine:
        return cls(detect_engine(config), config)

    def close(self) -> None:
        self._client.close()

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        try:
            if self.info.kind is EngineKind.OPENSEARCH:
                return self._client.transport.perform_request(method, path, params=params, body=body)
            return _body(self._client.perform_request(method, path, params=params, headers=JSON_HEADERS, body=body))
        except Exception as error:  # noqa: BLE001 - both clients' errors become ours
            raise _translate(error) from error

    def health(self) -> dict[str, Any]:
        return self.request("GET", "/_cluster/health")

    def index_exists(self, index: str) -> bool:
        try:
            return bool(self.request("HEAD", f"/{index}"))  # opensearch-py answers HEAD 404 with False
        except NotFound:
            return False

    def create_index(self, index: str, body: dict[str, Any] | None = None) -> None:
        self.request("PUT", f"/{index}", body=body or {})

    def delete_index(self, index: str) -> None:
        try:
            self.request("DELETE", f"/{index}")
        except NotFound:
            pass

    def refresh(self, index: str) -> None:
        self.request("POST", f"/{index}/_refresh")

    def put_component_template(self, name: str, body: dict[str, Any]) -> None:
        self.request("PUT", f"/_component_template/{name}", body=body)

    def put_index_template(self, name: str, body: dict[str, Any]) -> None:
        self.request("PUT", f"/_index_template/{name}", body=body)

    def aliases_of(self, alias: str) -> list[str]:
        try:
            return sorted(self.request("GET", f"/_alias/{alias}").keys())
        except NotFound:
            return []

    def update_aliases(self, actions: list[dict[str, Any]]) -> None:
        """Atomic: all alias moves happen together, so readers never see a gap."""
        self.request("POST", "/_aliases", body={"actions": actions})

    def get(self, index: str, doc_id: str) -> dict[str, Any] | None:
        try:
            return self.request("GET", f"/{index}/_doc/{doc_id}")
        except NotFound:
            return None

    def mget(self, index: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Found documents by id, each with _source, _seq_no and _primary_term."""
        if not ids:
            return {}
        answer = self.request("POST", f"/{index}/_mget", body={"ids": ids})
        return {doc["_id"]: doc for doc in answer["docs"] if doc.get("found")}

    def search(self, index: str, body: dict[str, Any], *, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.request("POST", f"/{index}/_search", params=params, body=body)

    def count(self, index: str, query: dict[str, Any] | None = None) -> int:
        return int(self.request("POST", f"/{index}/_count", body={"query": query or {"match_all": {}}})["count"])

    def bulk(
        self, actions: Iterable[dict[str, Any]], *, chunk_size: int = 1000, max_retries: int = 5,
        refresh: bool | str = False,
    ) -> Iterator[BulkItemResult]:
        """One result per item; items the helper retried (429, capped backoff) come after the
        others, so callers match results by `doc_id`, never by position."""
        stream = self._helpers.streaming_bulk(
            self._client, actions, chunk_size=chunk_size, max_chunk_bytes=20 * 1024 * 1024,
            raise_on_error=False, raise_on_exception=False, max_retries=max_retries,
            initial_backoff=0.5, max_backoff=10, refresh=refresh,
        )
        for ok, item in stream:
            yield _bulk_item(ok, item)


def _status(value: Any) -> int:
    """An item's HTTP status; 0 when the engine never answered (the client reports "N/A")."""
    return value if isinstance(value, int) else int(value) if str(value).isdigit() else 0


def _bulk_item(ok: bool, item: dict[str, Any]) -> BulkItemResult:
    op, detail = next(iter(item.items()))
    error = detail.get("error")
    return BulkItemResult(
        ok=ok, op=op, index=str(detail.get("_index", "")), doc_id=str(detail.get("_id", "")),
        status=_status(detail.get("status")),
        error=None if error is None else (error if isinstance(error, str) else f"{error.get('type')}: {error.get('reason')}"),
    )


RequestObserver = Callable[[str, float, int], None]  # (method, seconds, status; 0 = no answer)


class AsyncSearchEngine:
    """Asynchronous engine access for the query API: one client per process, never per request."""

    def __init__(self, info: EngineInfo, config: EngineConfig) -> None:
        self.info = info
        self.observer: RequestObserver | None = None
        if info.kind is EngineKind.OPENSEARCH:
            from opensearchpy import AsyncOpenSearch

            self._client: Any = AsyncOpenSearch(
                hosts=[config.url], http_auth=config.auth(), verify_certs=config.verify_certs,
                timeout=config.timeout_s, maxsize=32, serializer=_opensearch_serializer(),
            )
        else:
            from elasticsearch import AsyncElasticsearch

            self._client = AsyncElasticsearch(
                hosts=[config.url], basic_auth=config.auth(), verify_certs=config.verify_certs,
                request_timeout=config.timeout_s, connections_per_node=32,
            )

    @classmethod
    async def connect(cls, config: EngineConfig) -> AsyncSearchEngine:
        async with httpx.AsyncClient(auth=config.auth(), verify=config.verify_certs, timeout=10.0) as client:
            try:
                response = await client.get(config.url)
                response.raise_for_status()
            except httpx.HTTPError as error:
                raise EngineUnavailable(503, f"cannot reach the search engine at {config.url}: {error}") from error
        return cls(classify_root_answer(response.json(), config.url), config)

    async def close(self) -> None:
        await self._client.close()

    async def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        started = time.perf_counter()
        status = 200
        try:
            if self.info.kind is EngineKind.OPENSEARCH:
                return await self._client.transport.perform_request(method, path, params=params, body=body)
            return _body(await self._client.perform_request(method, path, params=params, headers=JSON_HEADERS,
                                                             body=body))
        except Exception as error:  # noqa: BLE001 - both clients' errors become ours
            translated = _translate(error)
            status = 0 if isinstance(translated, EngineUnavailable) else translated.status
            raise translated from error
        finally:
            if self.observer is not None:
                self.observer(method, time.perf_counter() - started, status)

    async def health(self) -> dict[str, Any]:
        return await self.request("GET", "/_cluster/health")

    async def search(self, index: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self.request("POST", f"/{index}/_search", body=body)

    async def count(self, index: str, query: dict[str, Any]) -> int:
        return int((await self.request("POST", f"/{index}/_count", body={"query": query}))["count"])

    async def open_pit(self, index: str, keep_alive: str = "2m") -> str:
        """A point in time: deep pages stay consistent while new orders arrive."""
        if self.info.kind is EngineKind.OPENSEARCH:
            answer = await self.request("POST", f"/{index}/_search/point_in_time", params={"keep_alive": keep_alive})
            return str(answer["pit_id"])
        answer = await self.request("POST", f"/{index}/_pit", params={"keep_alive": keep_alive})
        return str(answer["id"])

    async def close_pit(self, pit_id: str) -> None:
        try:
            if self.info.kind is EngineKind.OPENSEARCH:
                await self.request("DELETE", "/_search/point_in_time", body={"pit_id": [pit_id]})
            else:
                await self.request("DELETE", "/_pit", body={"id": pit_id})
        except EngineError:
            pass  # it expires on its own

    async def search_pit(self, pit_id: str, body: dict[str, Any], keep_alive: str = "2m") -> dict[str, Any]:
        return await self.request("POST", "/_search", body={**body, "pit": {"id": pit_id, "keep_alive": keep_alive}})
