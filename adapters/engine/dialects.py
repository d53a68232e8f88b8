"""Every difference between the engines and their client libraries, in this one module (adapter).

- OpenSearch 1.x-3.x: `opensearch-py`; point in time at `/_search/point_in_time`.
- Elasticsearch 7.14+ (8.x): the official `elasticsearch` 8.x client; point in time at `/_pit`.
- Elasticsearch 7.10-7.13: the 8.x client refuses servers that do not send the
  `X-Elastic-Product` header (added in 7.14), so these are served by `opensearch-py`,
  which speaks the 7.10 REST API OpenSearch forked from. Their Apache-2.0 builds have
  no point in time (an X-Pack feature): deep pages use `search_after` on the index,
  consistent per page but not as one snapshot.
Warm indices are placed by a custom node attribute on OpenSearch and by data tiers on
Elasticsearch clusters that have them (`allocation.py` reads the nodes' answer).
The rest of the REST API (documents, bulk with `if_seq_no`/`if_primary_term` guards,
aliases, composable templates) is the same everywhere, so it lives in `operations.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from decimal import Decimal
from typing import Any

import orjson

from adapters.engine.allocation import NO_ALLOCATION, NodeAttribute, TierAllocation, by_attribute, by_data_tier
from adapters.engine.model import EngineConfig, EngineError, EngineInfo, EngineKind, EngineUnavailable, error_for_status
from adapters.engine.operations import Call

JSON_HEADERS = {"accept": "application/json", "content-type": "application/json"}
_NO_PIT_PREFIX = "index:"  # a "point in time" id on engines without one: the index to page
_NODE_FIELDS = "nodes.*.roles,nodes.*.attributes"


def orjson_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _orjson_serializer() -> Any:
    """orjson instead of the stdlib json, with the same encoding as bulk bodies (`bulk_body.py`)."""
    from opensearchpy.serializer import JSONSerializer

    class OrjsonSerializer(JSONSerializer):  # type: ignore[misc]
        def dumps(self, data: Any) -> Any:
            if isinstance(data, str | bytes):
                return data
            return orjson.dumps(data, default=orjson_default).decode()

        def loads(self, s: str) -> Any:
            return orjson.loads(s)

    return OrjsonSerializer()


def _elasticsearch_serializers() -> dict[str, Any]:
    """The official client's JSON serializers with the same encoding as `_orjson_serializer`: its own
    turn a Decimal into a float (`69.00` would come back as `69.0`, and cents could drift), ours keep
    the exact string, so a document reads back the same from every engine."""
    from elasticsearch.serializer import (
        CompatibilityModeJsonSerializer, CompatibilityModeNdjsonSerializer, JsonSerializer, NdjsonSerializer,
    )

    class Orjson:
        def json_dumps(self, data: Any) -> bytes:
            return orjson.dumps(data, default=orjson_default)

        def json_loads(self, data: bytes) -> Any:
            return orjson.loads(data)

    kinds = (JsonSerializer, NdjsonSerializer, CompatibilityModeJsonSerializer, CompatibilityModeNdjsonSerializer)
    return {kind.mimetype: type(f"Orjson{kind.__name__}", (Orjson, kind), {})() for kind in kinds}


class OpenSearchDialect:
    """OpenSearch through opensearch-py; the other dialects override what differs."""

    client_library = "opensearch-py"
    has_point_in_time = True
    has_data_tiers = False  # data_hot/data_warm node roles: Elasticsearch 7.10+ only

    def client(self, config: EngineConfig, *, asynchronous: bool) -> Any:
        from opensearchpy import AsyncOpenSearch, OpenSearch

        common: dict[str, Any] = dict(
            hosts=[config.url], http_auth=config.auth(), verify_certs=config.verify_certs,
            timeout=config.timeout_s, serializer=_orjson_serializer(),
        )
        if asynchronous:
            return AsyncOpenSearch(**common, maxsize=32)
        return OpenSearch(**common, http_compress=config.http_compress)

    def send(self, client: Any, call: Call[Any]) -> Any | Awaitable[Any]:
        """The client's answer (an awaitable one for an async client)."""
        return client.transport.perform_request(call.method, call.path, params=call.params, body=call.body)

    def unwrap(self, answer: Any) -> Any:
        return answer

    def translate(self, error: Exception) -> EngineError:
        """Both libraries' errors carry `status_code` and `info`; no integer status = no answer."""
        status = getattr(error, "status_code", None)
        if not isinstance(status, int):
            return EngineUnavailable(503, str(error))
        return error_for_status(status, str(getattr(error, "info", None) or error))

    def open_pit(self, index: str, keep_alive: str) -> Call[str]:
        return Call("POST", f"/{index}/_search/point_in_time", params={"keep_alive": keep_alive},
                    read=lambda answer: str(answer["pit_id"]))

    def close_pit(self, pit_id: str) -> Call[None]:
        return Call("DELETE", "/_search/point_in_time", body={"pit_id": [pit_id]}, read=lambda _: None,
                    tolerate=EngineError)  # it expires on its own

    def search_pit(self, pit_id: str, body: dict[str, Any], keep_alive: str) -> Call[dict[str, Any]]:
        return Call("POST", "/_search", body={**body, "pit": {"id": pit_id, "keep_alive": keep_alive}})

    def tier_allocation(self, attribute: NodeAttribute | None) -> Call[TierAllocation]:
        """Where hot and warm indices go, from the nodes' roles and attributes: data tiers where the
        engine has them and some node is a dedicated `data_warm` node, else the warm node attribute
        if some node has it, else nothing (a single node keeps every shard)."""
        if attribute is None and not self.has_data_tiers:
            return Call.answered(NO_ALLOCATION)
        rule = by_data_tier if self.has_data_tiers else by_attribute
        return Call("GET", "/_nodes", params={"filter_path": _NODE_FIELDS}, read=lambda nodes: rule(nodes, attribute))


class ElasticsearchDialect(OpenSearchDialect):
    """Elasticsearch 7.14+ through the official 8.x client."""

    client_library = "elasticsearch"
    has_data_tiers = True

    def client(self, config: EngineConfig, *, asynchronous: bool) -> Any:
        from elasticsearch import AsyncElasticsearch, Elasticsearch

        common: dict[str, Any] = dict(
            hosts=[config.url], basic_auth=config.auth(), verify_certs=config.verify_certs,
            request_timeout=config.timeout_s, serializers=_elasticsearch_serializers(),
        )
        if asynchronous:
            return AsyncElasticsearch(**common, connections_per_node=32)
        return Elasticsearch(**common, http_compress=config.http_compress)

    def send(self, client: Any, call: Call[Any]) -> Any | Awaitable[Any]:
        """`request_timeout` in the parameters is a client option (opensearch-py takes it from there);
        sent to Elasticsearch as a query parameter it is refused (`unrecognized parameter`)."""
        params = dict(call.params or {})
        timeout = params.pop("request_timeout", None)
        sender = client if timeout is None else client.options(request_timeout=float(timeout))
        return sender.perform_request(call.method, call.path, params=params or None, headers=JSON_HEADERS,
                                      body=call.body)

    def unwrap(self, answer: Any) -> Any:
        return getattr(answer, "body", answer)

    def open_pit(self, index: str, keep_alive: str) -> Call[str]:
        return Call("POST", f"/{index}/_pit", params={"keep_alive": keep_alive},
                    read=lambda answer: str(answer["id"]))

    def close_pit(self, pit_id: str) -> Call[None]:
        return Call("DELETE", "/_pit", body={"id": pit_id}, read=lambda _: None, tolerate=EngineError)


class LegacyElasticsearchDialect(OpenSearchDialect):
    """Elasticsearch 7.10-7.13 (Apache-2.0 builds): opensearch-py, and no point in time."""

    has_point_in_time = False
    has_data_tiers = True  # from 7.10 (older servers have no data_warm role: the attribute rule applies)

    def open_pit(self, index: str, keep_alive: str) -> Call[str]:
        return Call.answered(_NO_PIT_PREFIX + index)

    def close_pit(self, pit_id: str) -> Call[None]:
        return Call.answered(None)

    def search_pit(self, pit_id: str, body: dict[str, Any], keep_alive: str) -> Call[dict[str, Any]]:
        return Call("POST", f"/{pit_id.removeprefix(_NO_PIT_PREFIX)}/_search", body=body)


def dialect_for(info: EngineInfo) -> OpenSearchDialect:
    """The dialect that fits the detected server (kind and version from its `GET /`)."""
    if info.kind is EngineKind.OPENSEARCH:
        return OpenSearchDialect()
    return ElasticsearchDialect() if info.release >= (7, 14) else LegacyElasticsearchDialect()
