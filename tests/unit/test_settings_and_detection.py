"""Configuration from the environment, engine detection and JDK choice: pure, no servers."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.search_engine import EngineKind, classify_root_answer
from local_stack.java_runtime import Jdk, NoSuitableJava, pick_for_elasticsearch, pick_for_kafka, pick_for_opensearch
from local_stack.servers import opensearch_version_for
from order_domain.model import Channel
from settings import Settings, StackSettings


CLUSTER_VARIABLES = ("OPENSEARCH_URL", "ELASTICSEARCH_URL", "KAFKA_BOOTSTRAP_SERVERS", "ORDERREPO_ENGINE_URL",
                     "ORDERREPO_KAFKA_BOOTSTRAP_SERVERS")


def _without_cluster_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite may run with these set (reusing servers for the integration tests)."""
    for name in CLUSTER_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_unprefixed_cluster_variables_point_everything_at_user_clusters(monkeypatch: pytest.MonkeyPatch) -> None:
    _without_cluster_variables(monkeypatch)
    monkeypatch.setenv("ELASTICSEARCH_URL", "https://es.example:9200")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    settings = Settings()
    assert settings.resolved_engine_url() == "https://es.example:9200"
    assert settings.resolved_kafka_servers() == "k1:9092,k2:9092"
    assert settings.uses_external_clusters()


def test_defaults_are_the_local_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    _without_cluster_variables(monkeypatch)
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
    info = classify_root_answer(answer, "http://x")
    assert (info.kind, info.version, info.release) == (EngineKind.ELASTICSEARCH, "8.15.0", (8, 15))


def test_the_release_is_read_from_the_version_number() -> None:
    def release(number: str) -> tuple[int, int]:
        return classify_root_answer({"version": {"number": number}}, "http://x").release

    assert [release(n) for n in ("7.10.2", "7.14.0-SNAPSHOT", "9.1", "3")] == [(7, 10), (7, 14), (9, 1), (3, 0)]
    assert classify_root_answer({}, "http://x").release == (0, 0)


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


def test_elasticsearch_7_runs_on_the_newest_jdk_up_to_17() -> None:
    assert pick_for_elasticsearch([_jdk(11), _jdk(17), _jdk(25)]).major == 17
    with pytest.raises(NoSuitableJava, match="Java 11 to 17"):
        pick_for_elasticsearch([_jdk(21), _jdk(25)])


def test_an_engine_url_naming_our_own_node_is_ours_and_any_other_is_external(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from local_stack import stack

    _without_cluster_variables(monkeypatch)
    monkeypatch.setenv("ORDERREPO_STACK_HOME", str(tmp_path))
    monkeypatch.setenv("ELASTICSEARCH_URL", "http://127.0.0.1:19201/")
    ours = Settings()
    assert [(s.name, s.state) for s in stack.status(ours)] == [("opensearch", "stopped"), ("kafka", "stopped")]
    assert stack.local_address(ours.stack, "elasticsearch") == "http://127.0.0.1:19201"
    monkeypatch.setenv("ELASTICSEARCH_URL", "https://es.example:9200")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k1:9092")
    assert [(s.name, s.state, s.address) for s in stack.status(Settings())] == [
        ("opensearch", "external", "https://es.example:9200"), ("kafka", "external", "k1:9092")]


def test_no_suitable_java_says_what_to_do() -> None:
    with pytest.raises(NoSuitableJava, match="ORDERREPO_STACK_JAVA_HOME"):
        pick_for_opensearch([_jdk(11)])


def test_topic_map_defaults_overrides_and_unknown_channels() -> None:
    from ingest.topics import TopicMap

    topics = TopicMap.build("orders", {"web": "shopify-webhooks"})
    assert topics.format_of("shopify-webhooks") == "shopify" and topics.format_of("orders.store") == "poslog"
    assert topics.dead_letter == "orders.dead-letter" and topics.format_of("orders.web") is None
    with pytest.raises(ValueError, match="unknown channel"):
        TopicMap.build("orders", {"telepathy": "x"})


def test_topic_map_from_settings_takes_prefix_overrides_and_dead_letter_topic() -> None:
    from ingest.topics import TopicMap

    topics = TopicMap.from_settings(Settings(topic_prefix="acme", channel_topics={"b2b": "erp-orders"},
                                             dead_letter_topic="acme.parked"))
    assert topics.by_channel[Channel.B2B] == "erp-orders" and topics.by_channel[Channel.WEB] == "acme.web"
    assert topics.dead_letter == "acme.parked"
    assert TopicMap.from_settings(Settings(topic_prefix="acme")).dead_letter == "acme.dead-letter"


def test_dead_letters_keep_the_original_bytes_and_the_reason() -> None:
    from ingest.dead_letter import DeadLetter

    letter = DeadLetter(reason="malformed_json", detail="bad", location="payload", source_topic="orders.web",
                        partition=2, offset=41, timestamp_ms=1, key=b"web-1", original=b"\xff{not json")
    parsed = DeadLetter.parse(letter.value())
    assert (parsed["original"], parsed["key"], parsed["reason"], parsed["offset"]) == (
        b"\xff{not json", b"web-1", "malformed_json", 41)
    assert ("dlq.reason", b"malformed_json") in letter.headers()


def test_worker_health_detects_a_stall() -> None:
    from ingest.worker import health_verdict

    now = 10_000.0
    assert health_verdict({"last_poll_at": now - 1, "last_progress_at": now - 1, "lag": 5}, now=now)[0]
    assert not health_verdict({"last_poll_at": now - 120, "last_progress_at": now - 1, "lag": 0}, now=now)[0]
    stalled = health_verdict({"last_poll_at": now - 1, "last_progress_at": now - 500, "lag": 9}, now=now)
    assert not stalled[0] and "stalled" in stalled[1]
    assert health_verdict({"last_poll_at": now - 1, "last_progress_at": now - 500, "lag": 0}, now=now)[0]
