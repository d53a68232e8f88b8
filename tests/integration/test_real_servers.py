"""The local stack's servers are real: documents round-trip through OpenSearch, messages through Kafka."""

from __future__ import annotations

import time

from adapters.kafka_bus import delete_topics, ensure_topics, make_consumer, make_producer
from adapters.search_engine import EngineKind, SearchEngine


def test_engine_is_detected_from_its_own_answer(engine: SearchEngine) -> None:
    assert engine.info.kind in (EngineKind.OPENSEARCH, EngineKind.ELASTICSEARCH)
    assert engine.info.version[0].isdigit()
    assert engine.health()["status"] in ("green", "yellow")


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
