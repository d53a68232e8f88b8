"""Session fixtures for tests on real servers, shared by tests/integration and tests/contract.

If OPENSEARCH_URL (or ELASTICSEARCH_URL) and KAFKA_BOOTSTRAP_SERVERS are set, those
servers are used as they are. Otherwise the embedded local stack is started (or
reused if it is already up) and, if this session started it, stopped at the end.
Every test gets its own index and topic names, so tests never see each other's data.
`elasticsearch_engine` is the node at ELASTICSEARCH_URL, for suites that run on every
engine; without that variable its tests are skipped, with the reason in the summary.
Import the fixtures into a conftest.py to use them.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator

import pytest

from adapters.engine.capabilities import explain
from adapters.search_engine import EngineConfig, EngineKind, EngineUnavailable, Feature, SearchEngine
from local_stack import stack
from settings import Settings


@pytest.fixture(scope="session")
def settings() -> Iterator[Settings]:
    settings = Settings()
    was_running = {s.name for s in stack.status(settings) if s.state in ("running", "external")}
    stack.up(settings)
    yield settings
    if not was_running:
        stack.down(settings)


def _connect(settings: Settings, url: str) -> SearchEngine:
    return SearchEngine.connect(
        EngineConfig(url=url, username=settings.engine_username, password=settings.engine_password,
                     verify_certs=settings.engine_verify_certs)
    )


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[SearchEngine]:
    engine = _connect(settings, settings.resolved_engine_url())
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def elasticsearch_engine() -> Iterator[SearchEngine]:
    url = os.environ.get("ELASTICSEARCH_URL")
    if not url:
        pytest.skip("ELASTICSEARCH_URL is not set: no Elasticsearch node to test against "
                    "(start one with `orderrepo stack up --engine elasticsearch`)")
    engine = _connect(Settings(), url)
    if engine.info.kind is not EngineKind.ELASTICSEARCH:
        engine.close()
        pytest.fail(f"ELASTICSEARCH_URL={url} answers as {engine.info.kind} {engine.info.version}, not Elasticsearch")
    yield engine
    engine.close()


def skip_unless_built_with(engine: SearchEngine, *features: Feature) -> None:
    """Skip (with the build and what it lacks in the reason) on an engine build without all of `features`:
    core-only builds such as Elastic's integ-test-zip have none of the standard modules."""
    info = engine.info
    missing = [feature for feature in features if not info.capabilities.has(feature)]
    if missing:
        pytest.skip(f"{info.kind} {info.version} at {info.url} is built without "
                    + "; ".join(explain(feature) for feature in missing))


@functools.cache
def _session_engine() -> SearchEngine:
    """The engine the session fixtures use, connected once for the skip decisions (before any fixture runs)."""
    settings = Settings()
    return _connect(settings, settings.resolved_engine_url())


def skip_unless_marked_features(item: pytest.Item) -> None:
    """For tests marked `engine_features(Feature...)`: skipped before their fixtures run (a module-scoped
    fixture may already need the feature) when the engine's build lacks one of them (the capabilities
    detected at connect time, see adapters/engine/capabilities.py)."""
    marker = item.get_closest_marker("engine_features")
    if marker is None:
        return
    try:
        engine = _session_engine()
    except EngineUnavailable:
        return  # nothing answers yet: the session fixture starts our own OpenSearch, a standard build
    skip_unless_built_with(engine, *marker.args)


@pytest.fixture(scope="session")
def kafka_servers(settings: Settings) -> str:
    return settings.resolved_kafka_servers()


@pytest.fixture
def unique_name() -> str:
    """A lowercase name unique to this test, valid as an index prefix and a topic prefix."""
    return f"t{uuid.uuid4().hex[:10]}"
