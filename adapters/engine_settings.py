"""Engine connection from settings (adapter side): the one translation of `Settings` into an
`EngineConfig`, shared by the API process and the entry points.

It imports only the settings leaf and the engine adapter, so a process that needs an engine
(the query API) does not pull in Kafka or the ingest worker to get one.
"""

from __future__ import annotations

from adapters.search_engine import AsyncSearchEngine, EngineConfig
from settings import Settings


def engine_config(settings: Settings) -> EngineConfig:
    return EngineConfig(
        url=settings.resolved_engine_url(), username=settings.engine_username,
        password=settings.engine_password, verify_certs=settings.engine_verify_certs,
        timeout_s=settings.engine_timeout_s, http_compress=settings.engine_http_compress,
    )


async def connect_async_engine(settings: Settings) -> AsyncSearchEngine:
    """Connects and detects the engine kind from the server's own answer."""
    return await AsyncSearchEngine.connect(engine_config(settings))
