"""Warm indices allocate to warm nodes, hot ones to hot nodes, on a real three-node OpenSearch cluster.

The module starts its own `hot-warm` cluster (local_stack/cluster.py: hot-1, hot-2 with
temp=hot, warm-1 with temp=warm) on ports 28100-28102 / 28110-28112 with a state directory
of its own, once for the module, and stops it by pid at the end. Orders are written by the
real ingest writer and moved to warm by the real mover, so the allocation settings under
test are the ones the product itself puts on its indices.

Set ORDERREPO_SKIP_CLUSTER_TEST=1 to skip it (a machine without the memory for three JVMs).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import timedelta

import pytest

from adapters.engine_settings import engine_config
from adapters.search_engine import SearchEngine
from index_templates import IndexNames, install
from local_stack import cluster, stack
from local_stack.java_runtime import find_jdks, pick_for_opensearch
from order_domain.tier_policy import Tier
from retention.mover import Mover
from settings import Settings, StackSettings
from tests.integration.tiering_support import T0, Clock, ingest, make_mover, order_id, place

OPT_OUT = "ORDERREPO_SKIP_CLUSTER_TEST"
ORDERS, WARM = 12, 8  # orders 0..7 move to warm, 8..11 stay hot
PREFIX = "hotwarm"


@pytest.fixture(scope="module")
def hot_warm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    if os.environ.get(OPT_OUT) == "1":
        pytest.skip(f"{OPT_OUT}=1: the three-node allocation test was opted out")
    home = tmp_path_factory.mktemp("hot-warm-stack")
    settings = Settings(
        ORDERREPO_ENGINE_URL="http://127.0.0.1:28100", index_prefix=PREFIX,
        stack=StackSettings(home=home, opensearch_cluster_http_port=28100, opensearch_cluster_transport_port=28110),
    )
    assert settings.resolved_engine_url() == cluster.address(settings.stack)  # never the shared node
    cluster.check_ports(settings.stack)
    _reuse_resolved_classpaths(settings.stack)
    plans = cluster.start(settings.stack, pick_for_opensearch(find_jdks(settings.stack.java_home)))
    try:
        cluster.wait_until_formed(plans, settings.stack, settings.stack.start_timeout_s)
        yield settings
    finally:
        cluster.stop(settings.stack)


def _reuse_resolved_classpaths(stack_settings: StackSettings) -> None:
    """Copy the shared stack's classpath files (a cache: every jar is checked before use), so the
    cluster starts without a Maven run of its own; without them Maven resolves as usual."""
    shared = StackSettings().home / "classpath"
    target = stack_settings.home / "classpath"
    target.mkdir(parents=True, exist_ok=True)
    for cached in shared.glob("opensearch-*.cp"):
        shutil.copyfile(cached, target / cached.name)


@pytest.fixture(scope="module")
def cluster_engine(hot_warm: Settings) -> Iterator[SearchEngine]:
    engine = SearchEngine.connect(engine_config(hot_warm))
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def moved(hot_warm: Settings, cluster_engine: SearchEngine, tmp_path_factory: pytest.TempPathFactory) -> Mover:
    """Templates installed, orders ingested and 8 of 12 moved to warm, all by the product's own code."""
    install(cluster_engine, IndexNames(PREFIX))
    ingest(cluster_engine, PREFIX, range(ORDERS), months=1)  # one creation month: two warm indices
    mover = make_mover(cluster_engine, PREFIX, str(tmp_path_factory.mktemp("cold")),
                       clock=Clock(T0 + timedelta(days=100)), batch=25)
    place(mover, {order_id(n): Tier.WARM for n in range(WARM)})
    health = _wait_for_green(cluster_engine)
    assert (health["status"], health["number_of_nodes"], health["unassigned_shards"]) == ("green", 3, 0)
    return mover


def _wait_for_green(engine: SearchEngine, *, attempts: int = 4) -> dict[str, str]:
    """The engine waits (30 s per ask, its default) for every shard to be assigned and settled."""
    params = {"wait_for_status": "green", "wait_for_no_relocating_shards": "true", "wait_for_events": "languid"}
    health = engine.request("GET", "/_cluster/health", params=params)
    for _ in range(attempts - 1):
        if health["status"] == "green" and not health["timed_out"]:
            break
        health = engine.request("GET", "/_cluster/health", params=params)
    return health


def _node_temps(engine: SearchEngine) -> dict[str, str]:
    rows = engine.request("GET", "/_cat/nodeattrs", params={"format": "json", "h": "node,attr,value"})
    return {row["node"]: row["value"] for row in rows if row["attr"] == "temp"}


def _shards(engine: SearchEngine) -> list[dict[str, str]]:
    return engine.request("GET", f"/_cat/shards/{PREFIX}-*", params={"format": "json", "h": "index,prirep,state,node"})


def test_the_launcher_starts_two_hot_nodes_and_one_warm_node(hot_warm: Settings, cluster_engine: SearchEngine) -> None:
    assert _node_temps(cluster_engine) == {"hot-1": "hot", "hot-2": "hot", "warm-1": "warm"}
    assert cluster_engine.tier_allocation().mechanism == "node-attribute"
    nodes = {s.name: s for s in stack.status(hot_warm) if s.name.startswith("opensearch-")}
    assert sorted(nodes) == ["opensearch-hot-1", "opensearch-hot-2", "opensearch-warm-1"]
    assert all(s.state == "running" and s.pid is not None and s.detail.startswith("ready") for s in nodes.values())
    assert len({s.pid for s in nodes.values()}) == 3


def test_warm_shards_sit_on_the_warm_node_and_hot_shards_on_hot_nodes(
    moved: Mover, cluster_engine: SearchEngine
) -> None:
    temps = _node_temps(cluster_engine)
    shards = _shards(cluster_engine)
    warm = [s for s in shards if "-warm-" in s["index"]]
    hot = [s for s in shards if "-warm-" not in s["index"]]
    assert all(s["state"] == "STARTED" for s in shards)
    assert {s["index"] for s in warm} == set(cluster_engine.aliases_of(moved.names.warm_alias("orders"))) | set(
        cluster_engine.aliases_of(moved.names.warm_alias("order-events")))
    assert warm and {temps[s["node"]] for s in warm} == {"warm"}
    assert {s["index"] for s in hot} >= {f"{PREFIX}-orders-v1", f"{PREFIX}-order-events-v1",
                                         f"{PREFIX}-order-locator-v1", f"{PREFIX}-tombstones-v1"}
    assert {temps[s["node"]] for s in hot} == {"hot"}
    locator = sorted(s["prirep"] for s in hot if s["index"] == f"{PREFIX}-order-locator-v1")
    assert locator == ["p", "r"]  # auto-expanded to one replica, on the second hot node


def test_the_moved_orders_are_answered_from_their_tiers(moved: Mover, cluster_engine: SearchEngine) -> None:
    cluster_engine.refresh(f"{PREFIX}-orders")
    assert cluster_engine.count(moved.names.warm_alias("orders")) == WARM
    assert cluster_engine.count(moved.names.hot.orders) == ORDERS - WARM
    warm_index = cluster_engine.aliases_of(moved.names.warm_alias("orders"))[0]
    settings = cluster_engine.request("GET", f"/{warm_index}/_settings")[warm_index]["settings"]["index"]
    assert settings["routing"]["allocation"]["require"] == {"temp": "warm"}
    assert settings["blocks"]["write"] == "true"


def test_down_stops_every_node_by_pid(hot_warm: Settings, cluster_engine: SearchEngine) -> None:
    stopped: list[str] = []
    stack.down(hot_warm, only=cluster.LAYOUT, report=stopped.append)
    assert stopped == ["opensearch-warm-1: stopped", "opensearch-hot-2: stopped", "opensearch-hot-1: stopped"]
    assert cluster.running_nodes(hot_warm.stack) == []
    assert not any(cluster.process_of(hot_warm.stack, node).pid_file.exists() for node in cluster.NODES)
