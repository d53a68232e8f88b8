"""Where warm and hot indices are allocated: the dialect's choice per engine and cluster, and the
hot-warm launcher's node settings (pure: no server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters.engine.allocation import NO_ALLOCATION, NodeAttribute, TierAllocation
from adapters.search_engine import EngineInfo, EngineKind, dialect_for
from index_templates import load_template, with_index_settings
from local_stack import cluster
from settings import StackSettings

TEMP_WARM = NodeAttribute("temp", "warm")
REQUIRE_WARM = {"index.routing.allocation.require.temp": "warm"}
EXCLUDE_WARM = {"index.routing.allocation.exclude.temp": "warm"}
TIER_PREFERENCE = {"index.routing.allocation.include._tier_preference": "data_warm,data_hot"}


def _nodes(*nodes: tuple[list[str], dict[str, str]]) -> dict[str, Any]:
    """A `GET /_nodes?filter_path=nodes.*.roles,nodes.*.attributes` answer."""
    return {"nodes": {f"n{i}": {"roles": roles, "attributes": attrs} for i, (roles, attrs) in enumerate(nodes)}}


SINGLE_NODE = _nodes((["cluster_manager", "data"], {"shard_indexing_pressure_enabled": "true"}))  # OpenSearch 3.8
# a default Elasticsearch 8.19 node: the generic data role beside every tier role
DEFAULT_ES_NODE = _nodes((["data", "data_cold", "data_content", "data_frozen", "data_hot", "data_warm", "ingest",
                           "master", "ml", "remote_cluster_client", "transform"], {"xpack.installed": "true"}))
HOT_WARM_ATTRIBUTES = _nodes((["data"], {"temp": "hot"}), (["data"], {"temp": "hot"}), (["data"], {"temp": "warm"}))
DATA_TIERS = _nodes((["data_hot", "data_content", "master"], {}), (["data_warm"], {"temp": "warm"}))


def _choose(kind: EngineKind, version: str, answer: dict[str, Any],
            attribute: NodeAttribute | None = TEMP_WARM) -> TierAllocation:
    call = dialect_for(EngineInfo(kind, version, "http://x")).tier_allocation(attribute)
    assert (call.method, call.path) == ("GET", "/_nodes")
    assert call.params == {"filter_path": "nodes.*.roles,nodes.*.attributes"}
    return call.read(answer)


def test_opensearch_with_warm_nodes_pins_warm_indices_there_and_keeps_hot_indices_off_them() -> None:
    chosen = _choose(EngineKind.OPENSEARCH, "3.8.0", HOT_WARM_ATTRIBUTES)
    assert chosen == TierAllocation(hot=EXCLUDE_WARM, warm=REQUIRE_WARM, mechanism="node-attribute")


def test_a_single_node_gets_no_allocation_setting_so_every_shard_stays_assignable() -> None:
    assert _choose(EngineKind.OPENSEARCH, "3.8.0", SINGLE_NODE) == NO_ALLOCATION
    assert _choose(EngineKind.ELASTICSEARCH, "8.19.21", DEFAULT_ES_NODE) == NO_ALLOCATION
    assert _choose(EngineKind.ELASTICSEARCH, "7.10.2", _nodes((["data", "ingest", "master"], {}))) == NO_ALLOCATION


def test_without_a_configured_attribute_opensearch_asks_nothing_and_allocates_nothing() -> None:
    call = dialect_for(EngineInfo(EngineKind.OPENSEARCH, "2.19.1", "http://x")).tier_allocation(None)
    assert (call.skip, call.fallback) == (True, NO_ALLOCATION)


def test_a_configured_attribute_of_another_name_is_honoured() -> None:
    answer = _nodes((["data"], {"box": "fast"}), (["data"], {"box": "cheap"}))
    chosen = _choose(EngineKind.OPENSEARCH, "3.8.0", answer, NodeAttribute("box", "cheap"))
    assert (chosen.warm, chosen.hot) == ({"index.routing.allocation.require.box": "cheap"},
                                         {"index.routing.allocation.exclude.box": "cheap"})
    assert _choose(EngineKind.OPENSEARCH, "3.8.0", answer) == NO_ALLOCATION  # temp=warm: no such node


@pytest.mark.parametrize("version", ["7.10.2", "7.17.0", "8.15.0", "9.1.0"])
def test_elasticsearch_with_data_tiers_uses_tier_preference_not_the_attribute(version: str) -> None:
    chosen = _choose(EngineKind.ELASTICSEARCH, version, DATA_TIERS)
    assert chosen == TierAllocation(hot={}, warm=TIER_PREFERENCE, mechanism="data-tiers")
    assert _choose(EngineKind.ELASTICSEARCH, version, DATA_TIERS, None).warm == TIER_PREFERENCE


def test_elasticsearch_without_warm_tier_nodes_falls_back_to_the_attribute() -> None:
    chosen = _choose(EngineKind.ELASTICSEARCH, "8.15.0", HOT_WARM_ATTRIBUTES)
    assert (chosen.mechanism, chosen.warm, chosen.hot) == ("node-attribute", REQUIRE_WARM, EXCLUDE_WARM)


def test_opensearch_ignores_role_names_it_does_not_have() -> None:
    assert _choose(EngineKind.OPENSEARCH, "3.8.0", _nodes((["data_warm"], {}))) == NO_ALLOCATION


@pytest.mark.parametrize(("text", "parsed"), [("temp=warm", TEMP_WARM), (" box = cold ", NodeAttribute("box", "cold")),
                                               ("", None), (None, None)])
def test_the_attribute_setting_is_name_equals_value(text: str | None, parsed: NodeAttribute | None) -> None:
    assert NodeAttribute.parse(text) == parsed


@pytest.mark.parametrize("text", ["temp", "=warm", "temp="])
def test_a_malformed_attribute_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="name=value"):
        NodeAttribute.parse(text)


def test_hot_allocation_is_merged_into_a_settings_component_without_losing_its_own_settings() -> None:
    merged = with_index_settings(load_template("component/orders@settings.json", "p"), EXCLUDE_WARM)
    assert merged["template"]["settings"] == {"number_of_shards": 1, "number_of_replicas": 0,
                                              "refresh_interval": "1s", **EXCLUDE_WARM}
    untouched = load_template("component/orders@settings.json", "p")
    assert with_index_settings(load_template("component/orders@settings.json", "p"), {}) == untouched


def test_the_hot_warm_cluster_has_two_hot_nodes_and_one_warm_node_on_consecutive_ports(tmp_path: Path) -> None:
    stack = StackSettings(home=tmp_path, opensearch_cluster_http_port=28100, opensearch_cluster_transport_port=28110)
    assert [(n.name, n.temp, n.http_port(stack), n.transport_port(stack)) for n in cluster.NODES] == [
        ("hot-1", "hot", 28100, 28110), ("hot-2", "hot", 28101, 28111), ("warm-1", "warm", 28102, 28112)]
    assert cluster.node_settings(stack, cluster.NODES[2]) == [
        "node.name=warm-1", "node.attr.temp=warm", "discovery.type=zen",
        "discovery.seed_hosts=127.0.0.1:28110,127.0.0.1:28111,127.0.0.1:28112",
        "cluster.initial_cluster_manager_nodes=hot-1,hot-2,warm-1",
    ]
    assert {cluster.process_of(stack, n).pid_file.name for n in cluster.NODES} == {
        "opensearch-hot-1.pid", "opensearch-hot-2.pid", "opensearch-warm-1.pid"}
