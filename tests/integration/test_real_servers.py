"""The local stack's servers are real: documents round-trip through OpenSearch, messages through Kafka."""

from __future__ import annotations

import time

import httpx

from adapters.kafka_bus import delete_topics, ensure_topics, make_consumer, make_producer
from adapters.search_engine import EngineKind, SearchEngine
from index_templates import IndexNames, ensure_live_version
from local_stack.java_runtime import find_jdks, pick_for_opensearch
from local_stack.servers import opensearch_version_for
from settings import Settings


def _own_version(url: str) -> dict[str, str]:
    """The server's `version` from `GET /`; builds without that endpoint (Elasticsearch's core-only
    integ-test-zip answers 405) name themselves in a header and their version in the node info."""
    answer = httpx.get(url, timeout=10.0)
    if answer.status_code == 200:
        return answer.json()["version"]
    assert (answer.status_code, answer.headers.get("x-elastic-product")) == (405, "Elasticsearch")
    nodes = httpx.get(f"{url}/_nodes/_local", timeout=10.0).json()["nodes"]
    return {"number": next(iter(nodes.values()))["version"]}


def test_engine_is_detected_from_its_own_answer(engine: SearchEngine, settings: Settings) -> None:
    root = _own_version(settings.resolved_engine_url())
    expected = EngineKind.OPENSEARCH if root.get("distribution") == "opensearch" else EngineKind.ELASTICSEARCH
    assert (engine.info.kind, engine.info.version) == (expected, root["number"])
    if settings.engine_url is None:  # the local stack's OpenSearch: the runner's version less its last number
        runner = opensearch_version_for(pick_for_opensearch(find_jdks(settings.stack.java_home)), settings.stack)
        assert (engine.info.kind, engine.info.version) == (EngineKind.OPENSEARCH, runner.rsplit(".", 1)[0])
    assert engine.health()["status"] in ("green", "yellow")


def test_the_newest_version_behind_an_alias_is_chosen_by_number_not_by_spelling(
    engine: SearchEngine, unique_name: str
) -> None:
    names = IndexNames(unique_name)
    versions = [names.version("orders", n) for n in (9, 10, 2)]
    for index in versions:
        engine.create_index(index, {"settings": {"number_of_replicas": 0}})
    try:
        engine.update_aliases([{"add": {"index": index, "alias": names.orders}} for index in versions])
        assert engine.aliases_of(names.orders) == [versions[2], versions[0], versions[1]]  # v2, v9, v10
        assert ensure_live_version(engine, names, "orders") == names.version("orders", 10)
    finally:
        for index in versions:
            engine.delete_index(index)


def test_documents_round_trip_through_the_engine(engine: SearchEngine, unique_name: str) -> None:
    index = f"{unique_name}-roundtrip"
    engine.create_index(index, {"settings": {"number_of_replicas": 0}})
    try:
        docs = [{"_op_type": "index", "_index": index, "_id": f"o{i}", "_source": {"n": i, "name": f"order {i}"}}
                for i in range(50)]
        results = list(engine.bulk(docs, refresh="wait_for"))
        assert all(r.ok for r in results) and len(results) == 50
        found = engine.mget(index, ["o7", "o49", "missing"])
        assert set(found) == {"o7", "o49"} and found["o7"]["_source"]["n"] == 7
        hits = engine.search(index, {"query": {"match": {"name": "42"}}})["hits"]["hits"]
        assert [h["_id"] for h in hits] == ["o42"]
    finally:
        engine.delete_index(index)


def test_a_stale_write_is_refused_by_the_seq_no_guard(engine: SearchEngine, unique_name: str) -> None:
    index = f"{unique_name}-guard"
    engine.create_index(index, {"settings": {"number_of_replicas": 0}})
    try:
        list(engine.bulk([{"_op_type": "index", "_index": index, "_id": "a", "_source": {"v": 1}}]))
        held = engine.mget(index, ["a"])["a"]
        fresh = {"_op_type": "index", "_index": index, "_id": "a", "_source": {"v": 2},
                 "if_seq_no": held["_seq_no"], "if_primary_term": held["_primary_term"]}
        stale = {**fresh, "_source": {"v": 3}}
        first, second = list(engine.bulk([fresh])), list(engine.bulk([stale]))
        assert first[0].ok and not second[0].ok and second[0].status == 409
        assert engine.get(index, "a")["_source"] == {"v": 2}
    finally:
        engine.delete_index(index)


def test_messages_round_trip_through_kafka(kafka_servers: str, unique_name: str) -> None:
    topic = f"{unique_name}-roundtrip"
    ensure_topics(kafka_servers, [topic], partitions=3)
    try:
        producer = make_producer(kafka_servers)
        sent = {f"order-{i}".encode(): f"event {i}".encode() for i in range(30)}
        for key, value in sent.items():
            producer.send(topic, key=key, value=value)
        producer.flush(30)
        producer.close()
        consumer = make_consumer(kafka_servers, group_id=f"{unique_name}-g", topics=[topic])
        received: dict[bytes, bytes] = {}
        deadline = time.monotonic() + 60
        while len(received) < len(sent) and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=1000).values():
                received.update({r.key: r.value for r in records})
        consumer.close()
        assert received == sent
    finally:
        delete_topics(kafka_servers, [topic])


def test_installers_racing_each_other_all_succeed(settings: Settings, engine: SearchEngine, unique_name: str) -> None:
    """Found by the fault drill: two workers starting at once both created the first index
    version, and the one that lost the race crashed at start-up."""
    from concurrent.futures import ThreadPoolExecutor

    from index_templates import IndexNames, install

    names = IndexNames(unique_name)
    try:
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda _: install(engine, names), range(4)))
        assert all(result == results[0] for result in results)
        assert engine.aliases_of(names.orders) == [names.version("orders", 1)]
    finally:
        for row in engine.request("GET", f"/_cat/indices/{unique_name}-*", params={"format": "json"}):
            engine.delete_index(row["index"])
