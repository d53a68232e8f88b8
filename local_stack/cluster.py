"""A three-node OpenSearch cluster with hot and warm nodes, for tiering on more than one node.

Layout (fixed, so tests and docs can count on it): `hot-1` and `hot-2` carry the node
attribute `temp=hot`, `warm-1` carries `temp=warm`. Two hot nodes let the always-hot
indices keep a replica (the locator and tombstones auto-expand to one) and stay green;
warm month indices have no replica, so one warm node holds them all.

Each node is its own JVM (one core's worth of threads, a small heap), bound to
127.0.0.1: node i listens on `opensearch_cluster_http_port + i` and
`opensearch_cluster_transport_port + i`, finds the others through
`discovery.seed_hosts` and bootstraps the cluster once with all three as
`cluster.initial_cluster_manager_nodes`. Every node keeps its own pid file, log and
data directory (`<stack home>/opensearch-<node>/`), so `status`, `logs` and `down`
treat each like any other server of the stack: stopped only by its own pid and marker.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from local_stack.java_runtime import Jdk
from local_stack.maven import resolve_classpath
from local_stack.processes import ManagedProcess, ensure_port_free
from local_stack.servers import JAVA_SOURCE, ServerDidNotStart, ServerPlan, managed, opensearch_version_for
from settings import StackSettings

LAYOUT = "hot-warm"
CLUSTER_NAME = "orderrepo-hot-warm"
NODE_ATTRIBUTE = "temp"
_RUNNER = "org.codelibs.opensearch.runner.OpenSearchRunner"


@dataclass(frozen=True)
class ClusterNode:
    """One node of the cluster: its name, its `temp` attribute and its port offset."""

    name: str
    temp: str
    offset: int

    @property
    def server(self) -> str:
        """The stack's name for this node's process (pid file, log, data directory)."""
        return f"opensearch-{self.name}"

    def http_port(self, stack: StackSettings) -> int:
        return stack.opensearch_cluster_http_port + self.offset

    def transport_port(self, stack: StackSettings) -> int:
        return stack.opensearch_cluster_transport_port + self.offset

    def address(self, stack: StackSettings) -> str:
        return f"http://127.0.0.1:{self.http_port(stack)}"


NODES = (ClusterNode("hot-1", "hot", 0), ClusterNode("hot-2", "hot", 1), ClusterNode("warm-1", "warm", 2))


def address(stack: StackSettings) -> str:
    """Where clients reach the cluster (any node answers for all; the first is the documented one)."""
    return NODES[0].address(stack)


def process_of(stack: StackSettings, node: ClusterNode) -> ManagedProcess:
    return managed(stack, node.server)


def running_nodes(stack: StackSettings) -> list[ClusterNode]:
    return [node for node in NODES if process_of(stack, node).is_running()]


def check_ports(stack: StackSettings) -> None:
    """Every port of every node is free (PortInUse names the setting that moves it)."""
    for node in NODES:
        ensure_port_free(node.http_port(stack), f"OpenSearch {node.name} HTTP",
                         "ORDERREPO_STACK_OPENSEARCH_CLUSTER_HTTP_PORT")
        ensure_port_free(node.transport_port(stack), f"OpenSearch {node.name} transport",
                         "ORDERREPO_STACK_OPENSEARCH_CLUSTER_TRANSPORT_PORT")


def node_settings(stack: StackSettings, node: ClusterNode) -> list[str]:
    """What makes one node a member of this cluster: name, attribute, discovery, bootstrap."""
    seeds = ",".join(f"127.0.0.1:{other.transport_port(stack)}" for other in NODES)
    return [
        f"node.name={node.name}",
        f"node.attr.{NODE_ATTRIBUTE}={node.temp}",
        "discovery.type=zen",  # the runner would make a lone node a single-node cluster
        f"discovery.seed_hosts={seeds}",
        "cluster.initial_cluster_manager_nodes=" + ",".join(other.name for other in NODES),
    ]


def start(stack: StackSettings, jdk: Jdk) -> list[ServerPlan]:
    """Start the three JVMs at once (they find each other while booting); do not wait."""
    version = opensearch_version_for(jdk, stack)
    classpath = resolve_classpath(
        profile="opensearch", properties={"opensearch.runner.version": version}, maven_repo=stack.maven_repo,
        cache_file=stack.home / "classpath" / f"opensearch-{version}.cp",
    )
    return [_start_node(stack, jdk, node, classpath=classpath, version=version) for node in NODES]


def _start_node(stack: StackSettings, jdk: Jdk, node: ClusterNode, *, classpath: str, version: str) -> ServerPlan:
    process = process_of(stack, node)
    base = stack.home / node.server
    base.mkdir(parents=True, exist_ok=True)
    heap = stack.opensearch_cluster_heap
    # serial GC and the quick JIT only: half the CPU to start three JVMs on a small box (measured: 29 s
    # instead of 56 s of CPU until the cluster formed); a local cluster to try tiering, not to benchmark
    jvm = [str(jdk.java), process.marker, f"-Xms{heap}", f"-Xmx{heap}", "-XX:+UseSerialGC",
           "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true", "-Dfile.encoding=UTF-8"]
    node_args = [_RUNNER, str(base), str(node.http_port(stack)), str(node.transport_port(stack)), CLUSTER_NAME]
    process.start([*jvm, "-cp", classpath, str(JAVA_SOURCE), *node_args, *node_settings(stack, node)], cwd=base)
    return ServerPlan(node.server, version, jdk, process, node.address(stack))


def wait_until_formed(plans: list[ServerPlan], stack: StackSettings, timeout_s: float) -> float:
    """Until every node has joined one cluster (health reports all three); seconds taken."""
    return wait_for_nodes(plans, address(stack), len(NODES), timeout_s=timeout_s, what=f"the {LAYOUT} cluster",
                          logs=str(stack.home / "logs"))


def wait_for_nodes(plans: list[ServerPlan], address: str, count: int, *, timeout_s: float, what: str,
                   logs: str) -> float:
    """Until the cluster behind `address` has `count` nodes; seconds taken (any multi-node layout).

    A node that exits meanwhile fails the start at once, with its last log lines."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        for plan in plans:
            if not plan.process.is_running():
                raise ServerDidNotStart(
                    f"{plan.name} exited during start-up; last log lines:\n{plan.process.log_tail()}")
        if cluster_size(address) == count:
            return time.monotonic() - started
        time.sleep(0.5)
    raise ServerDidNotStart(f"{what} did not form within {timeout_s:.0f}s; see the logs under {logs}")


def cluster_size(address: str) -> int:
    """How many nodes the cluster behind `address` has (0 if it has not formed or answers nothing)."""
    try:
        response = httpx.get(f"{address}/_cluster/health", params={"timeout": "1s"}, timeout=3.0)
    except httpx.HTTPError:
        return 0
    return int(response.json().get("number_of_nodes", 0)) if response.status_code == 200 else 0


def stop(stack: StackSettings) -> list[str]:
    """Stop every node of ours (warm first, then hot); the names of those that were running."""
    return [node.server for node in reversed(NODES) if process_of(stack, node).stop()]
