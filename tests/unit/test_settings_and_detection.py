"""Configuration from the environment, engine detection and JDK choice: pure, no servers."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.search_engine import EngineKind, classify_root_answer
from local_stack.java_runtime import Jdk, NoSuitableJava, pick_for_kafka, pick_for_opensearch
from local_stack.servers import opensearch_version_for
from orderrepo.settings import Settings, StackSettings


def test_unprefixed_cluster_variables_point_everything_at_user_clusters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELASTICSEARCH_URL", "https://es.example:9200")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    settings = Settings()
    assert settings.resolved_engine_url() == "https://es.example:9200"
    assert settings.resolved_kafka_servers() == "k1:9092,k2:9092"
    assert settings.uses_external_clusters()


def test_defaults_are_the_local_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENSEARCH_URL", "ELASTICSEARCH_URL", "KAFKA_BOOTSTRAP_SERVERS", "ORDERREPO_ENGINE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ORDERREPO_STACK_OPENSEARCH_HTTP_PORT", "19999")
    settings = Settings()
    assert settings.resolved_engine_url() == "http://127.0.0.1:19999"
    assert not settings.uses_external_clusters()


def test_opensearch_is_recognised_by_its_distribution_field() -> None:
    answer = {"version": {"distribution": "opensearch", "number": "3.8.0"}}
    info = classify_root_answer(answer, "http://x")
    assert (info.kind, info.version) == (EngineKind.OPENSEARCH, "3.8.0")


def test_elasticsearch_has_no_distribution_field() -> None:
    answer = {"version": {"number": "8.15.0", "build_flavor": "default"}, "tagline": "You Know, for Search"}
    assert classify_root_answer(answer, "http://x").kind is EngineKind.ELASTICSEARCH


def _jdk(major: int) -> Jdk:
    return Jdk(major=major, java=Path(f"/jdk{major}/bin/java"), version_line=f'openjdk version "{major}"')


def test_newest_jdk_runs_opensearch_and_picks_the_3x_line() -> None:
    stack = StackSettings()
    chosen = pick_for_opensearch([_jdk(17), _jdk(25)])
    assert chosen.major == 25 and opensearch_version_for(chosen, stack).startswith("3.")


def test_java_17_alone_runs_the_2_19_line() -> None:
    chosen = pick_for_opensearch([_jdk(17)])
    assert opensearch_version_for(chosen, StackSettings()).startswith("2.19")


def test_kafka_prefers_the_oldest_supported_jdk() -> None:
    assert pick_for_kafka([_jdk(11), _jdk(17), _jdk(25)]).major == 17


def test_no_suitable_java_says_what_to_do() -> None:
    with pytest.raises(NoSuitableJava, match="ORDERREPO_STACK_JAVA_HOME"):
        pick_for_opensearch([_jdk(11)])
