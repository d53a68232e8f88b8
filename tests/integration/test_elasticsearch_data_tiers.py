"""Warm indices allocate to the warm tier and hot ones to the hot tier, on a real two-node
Elasticsearch cluster with data tiers (`data_hot` and `data_warm` node roles).

Data tiers are not in the Apache-2.0 Elasticsearch 7.10 build (its node roles are `data`,
`master`, `ingest` and `remote_cluster_client`: the tier roles and their allocation decider
are X-Pack code in 7.10), so this runs on Elastic's 8.x core build, which has both: the
Elasticsearch 8 leg of the engine matrix. The module starts its own cluster
(local_stack/elasticsearch8_tiers.py: hot-1 = master + data_hot + data_content, warm-1 =
data_warm) on ports 28220-28221 / 28320-28321 with a state directory of its own, and stops
it by pid at the end. Orders are written by the real ingest writer and the warm month indices
are made and sealed by the retention storage code the mover calls (ensure_warm_index, seal),
so the allocation settings under test are the ones the product puts on its indices. (The mover
itself needs painless, which the core build lacks; its moves are proven on the other engines.)
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from adapters.engine.allocation import WARM_TIER_PREFERENCE
from adapters.search_engine import EngineConfig, EngineKind, SearchEngine
from index_templates import IndexNames, install
from local_stack import elasticsearch8, elasticsearch8_tiers
from local_stack.java_runtime import find_jdks, pick_for_elasticsearch8
from local_stack.processes import ManagedProcess
from local_stack.servers import managed
from retention.storage import TierNames, ensure_warm_index, install_tier_storage, seal
from settings import StackSettings
from tests.integration.tiering_support import ingest

PORTS = elasticsearch8_tiers.Ports(http=28220, transport=28320)
ORDERS, MONTH = 12, "2025.01"
PREFIX = "datatiers"


@pytest.fixture(scope="module")
def tiered_cluster(engine: SearchEngine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackSettings]:
    if engine.info.kind is not EngineKind.ELASTICSEARCH or engine.info.release[0] < 8:
        pytest.skip(f"the Elasticsearch 8 leg of the matrix runs this (data tiers need Elasticsearch 8.x here: the "
                    f"Apache-2.0 7.10 build has no data_warm role); the engine here is "
                    f"{engine.info.kind} {engine.info.version}")
    stack = StackSettings(home=tmp_path_factory.mktemp("data-tiers-stack"), elasticsearch8_heap="384m")
    _reuse_resolved_archive(stack)
    plans = elasticsearch8_tiers.start(stack, pick_for_elasticsearch8(find_jdks(stack.java_home)), PORTS)
    try:
        elasticsearch8_tiers.wait_until_formed(plans, stack, PORTS)
        yield stack
    finally:
        elasticsearch8_tiers.stop(stack)
        shutil.rmtree(elasticsearch8.node_dir(stack), ignore_errors=True)


def _reuse_resolved_archive(stack: StackSettings) -> None:
    """The shared stack's resolved archive path (a cache, checked before use): no Maven run of our own."""
    target = stack.home / "classpath"
    target.mkdir(parents=True, exist_ok=True)
    for cached in (StackSettings().home / "classpath").glob("elasticsearch8-*.cp"):
        shutil.copyfile(cached, target / cached.name)


@pytest.fixture(scope="module")
def cluster_engine(tiered_cluster: StackSettings) -> Iterator[SearchEngine]:
    engine = SearchEngine.connect(EngineConfig(url=PORTS.address()))
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def stored(cluster_engine: SearchEngine) -> TierNames:
    """Templates installed, orders ingested into hot and one warm month index made and sealed, by the
    product's own code (the mover itself needs painless, which the 8.x core build lacks)."""
    names = TierNames(PREFIX)
    install(cluster_engine, IndexNames(PREFIX))
    install_tier_storage(cluster_engine, names)
    ingest(cluster_engine, PREFIX, range(ORDERS), months=1)
    for family in ("orders", "order-events"):
        ensure_warm_index(cluster_engine, names.warm_index(family, MONTH))
        seal(cluster_engine, names.warm_index(family, MONTH))
    params = {"wait_for_status": "green", "wait_for_no_relocating_shards": "true", "timeout": "60s"}
    health = cluster_engine.request("GET", "/_cluster/health", params=params)
    assert (health["status"], health["number_of_nodes"], health["unassigned_shards"]) == ("green", 2, 0)
    return names


def _node_roles(engine: SearchEngine) -> dict[str, list[str]]:
    nodes = engine.request("GET", "/_nodes", params={"filter_path": "nodes.*.name,nodes.*.roles"})["nodes"]
    return {node["name"]: sorted(node["roles"]) for node in nodes.values()}


def test_the_cluster_has_a_hot_node_and_a_dedicated_warm_node(cluster_engine: SearchEngine) -> None:
    assert _node_roles(cluster_engine) == {"hot-1": ["data_content", "data_hot", "master"], "warm-1": ["data_warm"]}
    allocation = cluster_engine.tier_allocation()
    assert (allocation.mechanism, allocation.hot) == ("data-tiers", {})
    assert allocation.warm == {"index.routing.allocation.include._tier_preference": WARM_TIER_PREFERENCE}


def test_warm_shards_sit_on_the_warm_node_and_hot_shards_on_the_hot_node(
    stored: TierNames, cluster_engine: SearchEngine
) -> None:
    shards = cluster_engine.request("GET", f"/_cat/shards/{PREFIX}-*",
                                    params={"format": "json", "h": "index,prirep,state,node"})
    warm = [s for s in shards if "-warm-" in s["index"]]
    hot = [s for s in shards if "-warm-" not in s["index"]]
    assert all(s["state"] == "STARTED" for s in shards)
    assert {s["index"] for s in warm} == {stored.warm_index(family, MONTH) for family in ("orders", "order-events")}
    assert warm and {s["node"] for s in warm} == {"warm-1"}
    assert {s["index"] for s in hot} >= {f"{PREFIX}-orders-v1", f"{PREFIX}-order-events-v1",
                                         f"{PREFIX}-order-locator-v1", f"{PREFIX}-tombstones-v1"}
    assert {s["node"] for s in hot} == {"hot-1"}


def test_warm_indices_prefer_the_warm_tier_and_hot_ones_keep_the_content_tier(
    stored: TierNames, cluster_engine: SearchEngine
) -> None:
    cluster_engine.refresh(f"{PREFIX}-orders")
    assert cluster_engine.count(stored.hot.orders) == ORDERS
    warm_index = stored.warm_index("orders", MONTH)
    settings = cluster_engine.request("GET", f"/{warm_index}/_settings")[warm_index]["settings"]["index"]
    assert settings["routing"]["allocation"]["include"]["_tier_preference"] == WARM_TIER_PREFERENCE
    assert settings["blocks"]["write"] == "true"
    hot_index = f"{PREFIX}-orders-v1"
    hot = cluster_engine.request("GET", f"/{hot_index}/_settings")[hot_index]["settings"]["index"]
    assert hot["routing"]["allocation"]["include"]["_tier_preference"] == "data_content"  # the engine's default


def test_stop_ends_both_nodes_by_pid(tiered_cluster: StackSettings, cluster_engine: SearchEngine) -> None:
    processes: list[ManagedProcess] = [managed(tiered_cluster, node.server) for node in elasticsearch8_tiers.NODES]
    assert all(process.is_running() for process in processes)
    assert elasticsearch8_tiers.stop(tiered_cluster) == ["elasticsearch8-warm-1", "elasticsearch8-hot-1"]
    assert not any(process.is_running() for process in processes)
