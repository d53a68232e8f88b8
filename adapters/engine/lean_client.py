"""A lean async HTTP client for the query API's engine requests (adapter): aiohttp + orjson.

The client libraries' async transports (opensearch-py, elasticsearch-py) cost the API
about a millisecond of CPU per round trip: connection-pool bookkeeping, header merging,
their serializer registry, response wrappers and logging, on top of the HTTP exchange
itself. The API only ever sends one `Call` and reads one JSON answer, so this client does
just that on one keep-alive aiohttp session: build the URL, send the orjson body, read the
bytes, decode them with orjson. It speaks the REST API every engine shares, with what the
dialects also send: plain `application/json` (the Elasticsearch dialect overrides the
official client's compatibility media type with it as well), basic auth, TLS verification
as configured, `request_timeout` as a client option (never a query parameter), and no
response compression on loopback-sized answers (`Accept-Encoding: identity`).

Guarantees, the same as the library shells (the async contract suite runs both):
- an answer outside 2xx raises `error_for_status` (404 `NotFound`, 409 `Conflict`, other
  `EngineError`); no answer at all (refused, reset, timed out) raises `EngineUnavailable`
  (503); `HEAD` answers True on 2xx (404 raises `NotFound`, which `index_exists` tolerates);
- one session per process, created on the first request inside the running loop, closed by
  `close()` (its connector and every pooled connection with it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import aiohttp
import orjson

from adapters.engine.detection import path_url
from adapters.engine.dialects import orjson_default  # the one Decimal rule of every client
from adapters.engine.model import EngineConfig, EngineUnavailable, error_for_status
from adapters.engine.operations import Call

HEADERS = {"accept": "application/json", "content-type": "application/json", "accept-encoding": "identity"}


def query_value(value: Any) -> str:
    """A query parameter as the client libraries write it: booleans lowercase, lists comma-joined."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(query_value(item) for item in value)
    return value if isinstance(value, str) else str(value)


def request_body(body: Any) -> bytes | None:
    """Bytes to send: str/bytes as given (ndjson of `_bulk`/`_msearch`), anything else as JSON."""
    if body is None:
        return None
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return orjson.dumps(body, default=orjson_default)


class LeanClient:
    """One keep-alive connection pool to the engine; `send(call)` answers the decoded JSON."""

    def __init__(self, config: EngineConfig, *, pool: int = 32) -> None:
        self.config = config
        self.pool = pool
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            user = self.config.auth()
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.pool, ssl=None if self.config.verify_certs else False),
                auth=aiohttp.BasicAuth(*user) if user else None, headers=HEADERS,
                timeout=aiohttp.ClientTimeout(total=self.config.timeout_s), skip_auto_headers=("User-Agent",),
            )
        return self._session

    async def send(self, call: Call[Any]) -> Any:
        params = dict(call.params or {})
        timeout = params.pop("request_timeout", None)
        options: dict[str, Any] = {"params": _query(params), "data": request_body(call.body)}
        if timeout is not None:
            options["timeout"] = aiohttp.ClientTimeout(total=float(timeout))
        try:
            async with self._open().request(call.method, path_url(self.config.url, call.path), **options) as answer:
                raw = await answer.read()
                status = answer.status
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            raise EngineUnavailable(503, f"cannot reach the search engine at {self.config.url}: {error!r}") from error
        if not 200 <= status < 300:
            raise error_for_status(status, raw.decode(errors="replace") or f"{call.method} {call.path}")
        if call.method == "HEAD":
            return True
        return orjson.loads(raw) if raw else None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _query(params: Mapping[str, Any]) -> dict[str, str] | None:
    return {name: query_value(value) for name, value in params.items() if value is not None} or None
