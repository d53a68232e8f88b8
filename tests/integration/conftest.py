"""Integration tests run on the real OpenSearch and Kafka (session fixtures in tests/servers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.search_engine import SearchEngine
from settings import Settings
from tests.servers import engine, kafka_servers, settings, skip_unless_marked_features, unique_name

__all__ = ["engine", "kafka_servers", "settings", "unique_name"]  # fixtures, re-exported


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.integration)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """`@pytest.mark.engine_features(Feature.SCRIPTS, ...)`: skipped, with the reason, on a build without them."""
    skip_unless_marked_features(item)


@pytest.fixture
def isolated(settings: Settings, engine: SearchEngine, unique_name: str) -> Iterator[Settings]:
    """Settings with this test's own index prefix, topics and consumer group; removed afterwards."""
    from orderrepo.bootstrap import prepare_storage
    from tests.integration.pipeline_harness import isolated_settings, remove_everything

    scoped = isolated_settings(settings, unique_name)
    prepare_storage(scoped, engine)
    yield scoped
    remove_everything(scoped, engine)

