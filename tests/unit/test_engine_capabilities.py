"""Engine builds without the standard modules: detection, capabilities and fitted templates (pure, no server)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest

from adapters.engine.capabilities import Capabilities, Feature, capabilities_from_nodes, fit_index_body
from adapters.engine.detection import NODE_PLUGINS, NODE_VERSION, Reply, detection
from adapters.engine.dialects import ElasticsearchDialect
from adapters.engine.model import EngineConfig, EngineKind, EngineUnavailable
from index_templates import load_template

CORE_ONLY = Capabilities(missing=frozenset(Feature))
ES8_CORE_MODULES = {"nodes": {"n1": {"modules": [
    {"name": name, "classname": f"org.elasticsearch.{name}.Plugin"}
    for name in ("apm", "transport-netty4", "x-pack-core", "x-pack-security")], "plugins": []}}}


def _run(replies: dict[str, Reply]) -> tuple[Any, list[str]]:
    """Drive the detection dialogue with canned replies; the answer and the paths it asked for."""
    steps, asked = detection("http://es:9200"), []
    try:
        path = next(steps)
        while True:
            asked.append(path)
            path = steps.send(replies[path])
    except StopIteration as done:
        return done.value, asked


def test_a_core_only_elasticsearch_without_the_root_endpoint_is_detected_from_its_header_and_node_info() -> None:
    info, asked = _run({
        "/": Reply(405, "Elasticsearch", {"error": "Incorrect HTTP method for uri [/]", "status": 405}),
        NODE_VERSION: Reply(200, "Elasticsearch", {"nodes": {"n1": {"version": "8.19.21"}}}),
        NODE_PLUGINS: Reply(200, "Elasticsearch", ES8_CORE_MODULES),
    })
    assert asked == ["/", NODE_VERSION, NODE_PLUGINS]
    assert (info.kind, info.version, info.release, info.capabilities) == (
        EngineKind.ELASTICSEARCH, "8.19.21", (8, 19), CORE_ONLY)


def test_a_standard_build_is_detected_from_its_root_answer_and_a_refused_plugin_list_means_standard() -> None:
    info, asked = _run({"/": Reply(200, None, {"version": {"number": "3.8.0", "distribution": "opensearch"}}),
                        NODE_PLUGINS: Reply(403, None, {"error": "no monitor privilege"})})
    assert asked == ["/", NODE_PLUGINS]
    assert (info.kind, info.version, info.capabilities) == (EngineKind.OPENSEARCH, "3.8.0", Capabilities())


def test_an_answer_that_is_no_search_engine_is_unavailable() -> None:
    with pytest.raises(EngineUnavailable, match="GET / answered 404"):
        _run({"/": Reply(404, None, None)})


def test_modules_are_found_by_name_or_by_the_runners_plugin_class() -> None:
    runner = {"nodes": {"n": {"plugins": [{"name": name, "classname": name} for name in (
        "org.opensearch.analysis.common.CommonAnalysisModulePlugin", "org.opensearch.painless.PainlessModulePlugin",
        "org.opensearch.index.mapper.MapperExtrasModulePlugin")]}}}
    assert capabilities_from_nodes(runner).missing == {Feature.BY_QUERY}
    named = {"nodes": {"n": {"modules": [{"name": "reindex"}, {"name": "lang-painless"}]}}}
    assert capabilities_from_nodes(named).missing == {Feature.ANALYSIS, Feature.SCALED_FLOAT}
    assert capabilities_from_nodes(ES8_CORE_MODULES) == CORE_ONLY


def test_a_standard_build_installs_the_templates_unchanged() -> None:
    body = load_template("component/orders@mappings.json", "p")
    assert fit_index_body(body, Capabilities()) is body


def test_a_core_only_build_gets_core_analysis_and_doubles_and_nothing_else_changes() -> None:
    body = load_template("component/orders@mappings.json", "p")
    fitted = fit_index_body(body, CORE_ONLY)
    analysis = fitted["template"]["settings"]["analysis"]
    assert "filter" not in analysis
    assert analysis["normalizer"]["lower"] == {"type": "custom", "filter": ["lowercase"]}
    assert {name: (a["tokenizer"], a["filter"]) for name, a in analysis["analyzer"].items()} == {
        "folding": ("standard", ["lowercase"]), "partial": ("standard", ["lowercase"]),
        "digits_partial": ("standard", [])}
    properties = fitted["template"]["mappings"]["properties"]
    assert properties["totals"]["properties"]["total"] == {"type": "double"}
    assert properties["lines"]["properties"]["unit_price"] == {"type": "double"}
    assert "scaled_float" not in orjson.dumps(fitted).decode()
    assert properties["customer"] == body["template"]["mappings"]["properties"]["customer"]  # same fields
    assert body["template"]["settings"]["analysis"]["filter"]  # the original is untouched


def test_the_official_client_keeps_decimals_exact_like_opensearch_py() -> None:
    client = ElasticsearchDialect().client(EngineConfig(url="http://127.0.0.1:9"), asynchronous=False)
    try:
        serializers = client.transport.serializers
        document = {"price": Decimal("69.00")}
        assert serializers.get_serializer("application/json").dumps(document) == b'{"price":"69.00"}'
        assert serializers.get_serializer("application/x-ndjson").dumps([document]) == b'{"price":"69.00"}\n'
    finally:
        client.close()
