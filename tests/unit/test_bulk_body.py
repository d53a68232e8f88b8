"""Bulk bodies encoded once as bytes (`adapters/engine/bulk_body.py`) and the shell's bulk loop:
the engine receives the same documents, byte for byte, as through the client library's bulk
helper; refused (429) items are sent again after a backoff and answered after the others; a
request that fails as a whole fails each of its items."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest
from opensearchpy.helpers.actions import expand_action

from adapters.engine import bulk_body
from adapters.engine.dialects import _orjson_serializer
from adapters.engine.model import EngineConfig, EngineInfo, EngineKind, EngineUnavailable
from adapters.engine.operations import Call
from adapters.engine.shells import SearchEngine

AT = datetime(2026, 3, 1, 10, 30, 5, 120, tzinfo=UTC)
ACTIONS: list[dict[str, Any]] = [
    {"_op_type": "create", "_index": "o", "_id": "o1",
     "_source": {"total": Decimal("69.00"), "at": AT, "név": "Zoë"}},
    {"_op_type": "index", "_index": "o", "_id": "o2", "if_seq_no": 7, "if_primary_term": 2,
     "_source": {"event": orjson.Fragment(b'{"event_id":"e1","lines":[{"quantity":2}]}'), "tags": ("a", "b")}},
    {"_index": "o", "_id": "o3", "_source": {"v": 1}},
    {"_op_type": "update", "_index": "loc", "_id": "o4", "retry_on_conflict": 3,
     "script": {"source": "ctx._source.n += 1", "params": {"n": 1}}, "upsert": {"n": 0}},
    {"_op_type": "update", "_index": "loc", "_id": "o5", "_routing": "r", "doc": {"n": 2}, "doc_as_upsert": True},
    {"_op_type": "delete", "_index": "o", "_id": "o6"},
]


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: f"{a.get('_op_type', 'index')}-{a['_id']}")
def test_each_item_is_the_helpers_lines_with_the_same_document_bytes(action: dict[str, Any]) -> None:
    serializer = _orjson_serializer()
    head, document = expand_action(action)
    ours_head, ours_document = bulk_body.encoded(action)
    assert orjson.loads(ours_head) == orjson.loads(serializer.dumps(head)) and ours_head.endswith(b"\n")
    if document is None:
        assert ours_document is None
    else:
        assert ours_document == serializer.dumps(document).encode("utf-8", "surrogatepass") + b"\n"


def test_bodies_are_cut_by_item_count_and_by_size_and_a_large_item_goes_alone() -> None:
    actions = [{"_index": "o", "_id": f"o{i}", "_source": {"n": i, "pad": "x" * (500 if i == 3 else 10)}}
               for i in range(7)]
    by_count = list(bulk_body.chunks(actions, chunk_size=3, max_bytes=1 << 20))
    assert [len(chunk.lines) for chunk in by_count] == [3, 3, 1]
    by_size = list(bulk_body.chunks(actions, chunk_size=100, max_bytes=200))
    assert [[orjson.loads(head)["index"]["_id"] for head, _ in chunk.lines] for chunk in by_size] == [
        ["o0", "o1", "o2"], ["o3"], ["o4", "o5", "o6"]]
    whole = by_count[0].body()
    assert whole.count(b"\n") == 6 and whole.endswith(b"\n")
    assert orjson.loads(whole.split(b"\n")[1]) == actions[0]["_source"]


def _item(op: str, doc_id: str, status: int, **detail: Any) -> dict[str, Any]:
    return {op: {"_index": "o", "_id": doc_id, "status": status, **detail}}


@pytest.fixture()
def engine() -> Iterator[SearchEngine]:
    shell = SearchEngine(EngineInfo(EngineKind.OPENSEARCH, "3.8.0", "http://127.0.0.1:9"),
                         EngineConfig(url="http://127.0.0.1:9", timeout_s=2.0))
    yield shell
    shell.close()


def test_refused_items_are_sent_again_after_a_backoff_and_answered_after_the_others(engine: SearchEngine) -> None:
    sent: list[tuple[str, dict[str, Any] | None, list[str]]] = []
    answers = iter([
        {"items": [_item("index", "a", 201, _seq_no=4, _primary_term=1), _item("index", "b", 429, error="busy"),
                   _item("index", "c", 409, error={"type": "version_conflict_engine_exception", "reason": "x"})]},
        {"items": [_item("index", "b", 429, error="busy")]},
        {"items": [_item("index", "b", 200)]},
    ])

    def run(call: Call[Any]) -> Any:
        sent.append((call.path, call.params, [orjson.loads(line)["index"]["_id"]
                                             for line in call.body.splitlines()[::2]]))
        return next(answers)

    slept: list[float] = []
    engine.run, engine.sleep = run, slept.append  # type: ignore[method-assign]
    results = list(engine.bulk([{"_index": "o", "_id": i, "_source": {"v": i}} for i in "abc"], refresh="wait_for"))
    assert [(r.doc_id, r.ok, r.status) for r in results] == [("a", True, 201), ("c", False, 409), ("b", True, 200)]
    assert (results[0].seq_no, results[0].primary_term) == (4, 1)
    assert results[1].error == "version_conflict_engine_exception: x"
    asked = {"filter_path": bulk_body.ANSWER_FIELDS, "refresh": "wait_for"}
    assert sent == [("/_bulk", asked, ["a", "b", "c"]), ("/_bulk", asked, ["b"]), ("/_bulk", asked, ["b"])]
    assert slept == [0.5, 1.0]


def test_an_item_still_refused_after_the_last_retry_is_answered_as_refused(engine: SearchEngine) -> None:
    engine.run = lambda call: {"items": [_item("create", "a", 429, error="busy")]}  # type: ignore[method-assign]
    slept: list[float] = []
    engine.sleep = slept.append
    [result] = engine.bulk([{"_op_type": "create", "_index": "o", "_id": "a", "_source": {}}], max_retries=2)
    assert (result.ok, result.status, result.error) == (False, 429, "busy") and slept == [0.5, 1.0]


def test_a_request_the_engine_never_answers_fails_each_item_with_no_status(engine: SearchEngine) -> None:
    def run(call: Call[Any]) -> Any:
        raise EngineUnavailable(503, "connection refused")

    engine.run = run  # type: ignore[method-assign]
    results = list(engine.bulk([{"_index": "o", "_id": "a", "_source": {}},
                                {"_op_type": "delete", "_index": "o", "_id": "b"}], refresh=True))
    assert [(r.op, r.doc_id, r.ok, r.status) for r in results] == [("index", "a", False, 0), ("delete", "b", False, 0)]
    assert all("connection refused" in (r.error or "") for r in results)
