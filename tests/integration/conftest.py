"""Session fixtures for integration tests: the real OpenSearch and Kafka, started once.

If OPENSEARCH_URL (or ELASTICSEARCH_URL) and KAFKA_BOOTSTRAP_SERVERS are set, those
servers are used as they are. Otherwise the embedded local stack is started (or
reused if it is already up) and, if this session started it, stopped at the end.
Every test gets its own index and topic names, so tests never see each other's data.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from adapters.search_engine import EngineConfig, SearchEngine
from local_stack import stack
from settings import Settings


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def settings() -> Iterator[Settings]:
    settings = Settings()
    was_running = {s.name for s in stack.status(settings) if s.state in ("running", "external")}
    stack.up(settings)
    yield settings
    if not was_running:
        stack.down(settings)


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[SearchEngine]:
    engine = SearchEngine.connect(
        EngineConfig(
            url=settings.resolved_engine_url(), username=settings.engine_username,
            password=settings.engine_password, verify_certs=settings.engine_verify_certs,
        )
    )
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def kafka_servers(settings: Settings) -> str:
    return settings.resolved_kafka_servers()


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> str:
    """A lowercase name unique to this test, valid as an index prefix and a topic prefix."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def isolated(settings: Settings, engine: SearchEngine, unique_name: str) -> Iterator[Settings]:
    """Settings with this test's own index prefix, topics and consumer group; removed afterwards."""
    from orderrepo.bootstrap import prepare_storage
    from tests.integration.pipeline_harness import isolated_settings, remove_everything

    scoped = isolated_settings(settings, unique_name)
    prepare_storage(scoped, engine)
    yield scoped
    remove_everything(scoped, engine)
