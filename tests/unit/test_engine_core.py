"""The engine adapter's core: one description per operation, one dialect per engine, two matching shells."""

from __future__ import annotations

import inspect

import pytest

from adapters.engine import operations as ops
from adapters.engine.dialects import ElasticsearchDialect, LegacyElasticsearchDialect, OpenSearchDialect
from adapters.search_engine import (
    AsyncSearchEngine, Conflict, EngineConfig, EngineError, EngineInfo, EngineKind, EngineUnavailable, NotFound,
    SearchEngine, dialect_for,
)

SYNC_ONLY = {"bulk"}  # the API process never writes in bulk


def _public(cls: type) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(member) for name, member in vars(cls).items()
            if callable(member) and not name.startswith("_") and name not in ("connect",)}


def test_the_sync_and_async_shells_offer_the_same_methods_with_the_same_signatures() -> None:
    sync, asynchronous = _public(SearchEngine), _public(AsyncSearchEngine)
    assert set(sync) - SYNC_ONLY == set(asynchronous)
    assert {name: str(sig) for name, sig in asynchronous.items()} == {
        name: str(sig) for name, sig in sync.items() if name not in SYNC_ONLY
    }
    assert all(inspect.iscoroutinefunction(getattr(AsyncSearchEngine, name)) for name in asynchronous)


def test_aliases_are_ordered_by_version_number_not_by_spelling() -> None:
    answer = {"p-orders-v10": {}, "p-orders-v9": {}, "p-orders-v2": {}, "p-orders-v11": {}}
    assert ops.aliases_of("p-orders").read(answer) == ["p-orders-v2", "p-orders-v9", "p-orders-v10", "p-orders-v11"]


def test_operations_say_which_errors_are_answers() -> None:
    assert (ops.aliases_of("a").tolerate, ops.aliases_of("a").fallback) == (NotFound, [])
    assert (ops.index_exists("i").tolerate, ops.index_exists("i").fallback) == (NotFound, False)
    assert ops.get("i", "d").tolerate is NotFound and ops.health().tolerate is None
    empty = ops.mget("i", [])
    assert (empty.skip, empty.fallback) == (True, {}) and not ops.mget("i", ["a"]).skip
    assert ops.count("i", None).body == {"query": {"match_all": {}}}


@pytest.mark.parametrize(("kind", "version", "dialect"), [
    (EngineKind.OPENSEARCH, "3.8.0", OpenSearchDialect),
    (EngineKind.OPENSEARCH, "1.3.20", OpenSearchDialect),
    (EngineKind.ELASTICSEARCH, "8.15.0", ElasticsearchDialect),
    (EngineKind.ELASTICSEARCH, "7.14.0", ElasticsearchDialect),
    (EngineKind.ELASTICSEARCH, "7.10.2", LegacyElasticsearchDialect),
])
def test_the_dialect_fits_the_engine_and_its_version(kind: EngineKind, version: str, dialect: type) -> None:
    assert type(dialect_for(EngineInfo(kind, version, "http://x"))) is dialect


def test_point_in_time_requests_differ_by_engine() -> None:
    opensearch, elastic = OpenSearchDialect(), ElasticsearchDialect()
    assert (opensearch.open_pit("o", "1m").path, opensearch.open_pit("o", "1m").read({"pit_id": "p"})) == (
        "/o/_search/point_in_time", "p")
    assert (elastic.open_pit("o", "1m").path, elastic.open_pit("o", "1m").read({"id": "p"})) == ("/o/_pit", "p")
    assert opensearch.close_pit("p").body == {"pit_id": ["p"]} and elastic.close_pit("p").body == {"id": "p"}
    assert opensearch.search_pit("p", {"size": 1}, "1m").body == {"size": 1, "pit": {"id": "p", "keep_alive": "1m"}}


def test_without_point_in_time_pages_search_the_index_itself() -> None:
    legacy = LegacyElasticsearchDialect()
    opened = legacy.open_pit("orders", "1m")
    assert opened.skip and not legacy.has_point_in_time
    page = legacy.search_pit(opened.fallback, {"size": 5}, "1m")
    assert (page.path, page.body) == ("/orders/_search", {"size": 5})
    assert legacy.close_pit(opened.fallback).skip


def test_both_client_libraries_errors_become_ours() -> None:
    import elastic_transport
    import elasticsearch
    import opensearchpy

    assert isinstance(OpenSearchDialect().translate(opensearchpy.NotFoundError(404, "index_not_found", {})), NotFound)
    unreachable = OpenSearchDialect().translate(opensearchpy.ConnectionError("N/A", "refused", None))
    assert type(unreachable) is EngineUnavailable and unreachable.status == 503
    meta = elastic_transport.ApiResponseMeta(409, "1.1", elastic_transport.HttpHeaders(), 0.1, None)
    conflict = ElasticsearchDialect().translate(elasticsearch.ConflictError("conflict", meta, {"error": "x"}))
    assert type(conflict) is Conflict and conflict.status == 409
    bad_request = elastic_transport.ApiResponseMeta(400, "1.1", elastic_transport.HttpHeaders(), 0.1, None)
    refused = ElasticsearchDialect().translate(elasticsearch.BadRequestError("bad", bad_request, {}))
    assert type(refused) is EngineError and refused.status == 400


def test_an_unreachable_engine_is_unavailable_and_observed_as_no_answer() -> None:
    engine = SearchEngine(EngineInfo(EngineKind.OPENSEARCH, "3.8.0", "http://127.0.0.1:9"),
                          EngineConfig(url="http://127.0.0.1:9", timeout_s=2.0))
    seen: list[tuple[str, int]] = []
    engine.observer = lambda method, seconds, status: seen.append((method, status))
    with pytest.raises(EngineUnavailable):
        engine.health()
    assert engine.mget("orders", []) == {} and seen == [("GET", 0)]  # nothing to ask: no request
    engine.close()


class _RecordingClient:
    """Stands in for the official client: records the options and the request it is asked to send."""

    def __init__(self, options: dict[str, float] | None = None, sent: list[tuple] | None = None) -> None:
        self.given, self.sent = options or {}, sent if sent is not None else []

    def options(self, **options: float) -> _RecordingClient:
        return _RecordingClient(options, self.sent)

    def perform_request(self, method: str, path: str, **request: object) -> dict[str, object]:
        self.sent.append((method, path, request["params"], self.given))
        return {}


def test_a_request_timeout_goes_to_the_official_client_as_an_option_not_a_query_parameter() -> None:
    client = _RecordingClient()
    dialect = ElasticsearchDialect()
    dialect.send(client, ops.Call("POST", "/w/_forcemerge", params={"max_num_segments": 1, "request_timeout": 3600}))
    dialect.send(client, ops.Call("GET", "/_cluster/health"))
    assert client.sent == [("POST", "/w/_forcemerge", {"max_num_segments": 1}, {"request_timeout": 3600.0}),
                           ("GET", "/_cluster/health", None, {})]


def test_the_lean_client_writes_parameters_and_bodies_as_the_client_libraries_do() -> None:
    from decimal import Decimal

    from adapters.engine.lean_client import query_value, request_body

    assert [query_value(v) for v in (True, False, 3, "wait_for", ["a", "b"])] == ["true", "false", "3", "wait_for",
                                                                              "a,b"]
    assert request_body({"total": Decimal("69.00")}) == b'{"total":"69.00"}'  # the exact string, as every dialect
    assert request_body('{"index":{}}\n') == b'{"index":{}}\n' and request_body(None) is None
