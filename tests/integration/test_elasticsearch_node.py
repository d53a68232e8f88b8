"""`stack up --engine elasticsearch` on a private home and ports: a real Elasticsearch 7.10 node, then gone.

It starts a second JVM for about a minute, so it runs in the Elasticsearch job of the
test matrix (ELASTICSEARCH_URL set), not in every run.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from adapters.search_engine import EngineConfig, EngineKind, SearchEngine
from local_stack import stack
from local_stack.servers import managed
from settings import Settings, StackSettings

pytestmark = pytest.mark.skipif(
    not os.environ.get("ELASTICSEARCH_URL"), reason="the Elasticsearch job of the matrix sets ELASTICSEARCH_URL"
)


def _private_settings(home: Path, kafka_servers: str) -> Settings:
    return Settings(
        ORDERREPO_ENGINE_URL=None, ORDERREPO_KAFKA_BOOTSTRAP_SERVERS=kafka_servers,  # Kafka: the shared one
        stack=StackSettings(home=home, elasticsearch_http_port=29201, elasticsearch_transport_port=29301,
                            elasticsearch_heap="384m"),
    )


def test_elasticsearch_node_goes_up_answers_as_7_10_and_goes_down(tmp_path: Path, kafka_servers: str) -> None:
    settings = _private_settings(tmp_path / "stack", kafka_servers)
    try:
        started = stack.up(settings, engine="elasticsearch")
        assert [(s.name, s.state) for s in started] == [("elasticsearch", "running"), ("kafka", "external")]
        root = httpx.get("http://127.0.0.1:29201", timeout=10.0).json()
        assert root["version"]["number"] == "7.10.2" and "distribution" not in root["version"]
        engine = SearchEngine.connect(EngineConfig(url="http://127.0.0.1:29201"))
        assert (engine.info.kind, engine.info.version, engine.dialect.has_point_in_time) == (
            EngineKind.ELASTICSEARCH, "7.10.2", False)
        engine.close()
        assert [s.name for s in stack.status(settings)] == ["opensearch", "elasticsearch", "kafka"]
    finally:
        stack.down(settings, only="elasticsearch")
    assert not managed(settings.stack, "elasticsearch").is_running()
    assert [s.name for s in stack.status(settings)] == ["opensearch", "kafka"]
