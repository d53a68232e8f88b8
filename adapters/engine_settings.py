"""Engine connection from settings (adapter side): the one translation of `Settings` into an
`EngineConfig`, shared by the API process and the entry points.

It imports only the settings leaf and the engine adapter, so a process that needs an engine
(the query API) does not pull in Kafka or the ingest worker to get one.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from adapters.search_engine import AsyncSearchEngine, EngineConfig, EngineUnavailable, SearchEngine
from settings import Settings


def engine_config(settings: Settings) -> EngineConfig:
    return EngineConfig(
        url=settings.resolved_engine_url(), username=settings.engine_username,
        password=settings.engine_password, verify_certs=settings.engine_verify_certs,
        timeout_s=settings.engine_timeout_s, http_compress=settings.engine_http_compress,
        warm_attribute=settings.tier.warm_allocation_attribute or None,
    )


def connect_engine(settings: Settings, *, wait_s: float = 0.0,
                   on_wait: Callable[[EngineUnavailable, float], None] | None = None) -> SearchEngine:
    """Connects and detects the engine kind. With `wait_s`, an engine that is not up yet (a worker
    restarted during an engine outage) is waited for with capped backoff instead of failing at once."""
    deadline = time.monotonic() + wait_s
    delay = 0.5
    while True:
        try:
            return SearchEngine.connect(engine_config(settings))
        except EngineUnavailable as error:
            left = deadline - time.monotonic()
            if left <= 0:
                raise
            if on_wait is not None:
                on_wait(error, left)
            time.sleep(min(delay, left))
            delay = min(delay * 2, 10.0)


async def connect_async_engine(settings: Settings) -> AsyncSearchEngine:
    """Connects and detects the engine kind from the server's own answer; requests go through the
    lean client unless `ORDERREPO_ENGINE_API_CLIENT=library`."""
    return await AsyncSearchEngine.connect(engine_config(settings), lean=settings.engine_api_client == "lean")
