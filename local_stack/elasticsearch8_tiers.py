"""A two-node Elasticsearch 8.x cluster with data tiers, from Elastic's core build (local_stack/elasticsearch8.py).

Data tiers need node roles the Apache-2.0 Elasticsearch 7.10 build does not have (its
`data_hot`/`data_warm` roles and the tier allocation decider are X-Pack code there); the
8.x core build carries both (the roles in the server, the decider in its x-pack-core
module), so this is where tier-preference allocation is run on real nodes.

Layout (fixed, so tests and docs can count on it): `hot-1` is master-eligible and holds
the hot and content tiers (`master`, `data_hot`, `data_content`: every index created
without a tier preference lands there), `warm-1` holds the warm tier only (`data_warm`).
Node i listens on `http_port + i` and `transport_port + i` on 127.0.0.1, finds the other
through `discovery.seed_hosts`, and `hot-1` bootstraps the cluster alone. Each node is its
own process with its own pid file, log and directory (`<node dir>/<server name>`, the
distribution unpacked once beside them) and is stopped only by its own pid and marker.
"""

from __future__ import annotations

from dataclasses import dataclass

from local_stack import elasticsearch8
from local_stack.cluster import wait_for_nodes
from local_stack.java_runtime import Jdk
from local_stack.processes import ensure_port_free
from local_stack.servers import ServerPlan, managed
from settings import StackSettings

LAYOUT = "data-tiers"
CLUSTER_NAME = "orderrepo-data-tiers"


@dataclass(frozen=True)
class TierNode:
    name: str
    roles: tuple[str, ...]
    offset: int

    @property
    def server(self) -> str:
        return f"elasticsearch8-{self.name}"


NODES = (TierNode("hot-1", ("master", "data_hot", "data_content"), 0), TierNode("warm-1", ("data_warm",), 1))


@dataclass(frozen=True)
class Ports:
    """The first node's ports; node i adds i to each."""

    http: int
    transport: int

    def address(self) -> str:
        return f"http://127.0.0.1:{self.http}"


def _spec(stack: StackSettings, node: TierNode, ports: Ports) -> elasticsearch8.NodeSpec:
    seeds = ", ".join(f'"127.0.0.1:{ports.transport + other.offset}"' for other in NODES)
    masters = ", ".join(f'"{other.name}"' for other in NODES if "master" in other.roles)
    lines = (f"cluster.name: {CLUSTER_NAME}", f"node.name: {node.name}",
             "node.roles: [" + ", ".join(node.roles) + "]", f"discovery.seed_hosts: [{seeds}]",
             f"cluster.initial_master_nodes: [{masters}]")
    return elasticsearch8.NodeSpec(node.server, elasticsearch8.node_dir(stack) / node.server,
                                   ports.http + node.offset, ports.transport + node.offset, lines)


def start(stack: StackSettings, jdk: Jdk, ports: Ports) -> list[ServerPlan]:
    """Both nodes at once (they find each other while booting); do not wait."""
    for node in NODES:
        ensure_port_free(ports.http + node.offset, f"Elasticsearch {node.name} HTTP", "Ports given to start()")
        ensure_port_free(ports.transport + node.offset, f"Elasticsearch {node.name} transport", "Ports given to start()")
    dist = elasticsearch8.node_dir(stack) / "dist"
    return [elasticsearch8.start_node(stack, jdk, _spec(stack, node, ports), dist=dist) for node in NODES]


def wait_until_formed(plans: list[ServerPlan], stack: StackSettings, ports: Ports) -> float:
    """Until both nodes are in one cluster; seconds taken. A node that exits fails the start at once."""
    return wait_for_nodes(plans, ports.address(), len(NODES), timeout_s=stack.start_timeout_s,
                          what=f"the Elasticsearch {LAYOUT} cluster", logs=str(stack.home / "logs"))


def stop(stack: StackSettings) -> list[str]:
    """Stop every node of ours (warm first); the names of those that were running."""
    return [node.server for node in reversed(NODES) if managed(stack, node.server).stop()]
