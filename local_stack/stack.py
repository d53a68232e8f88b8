"""Stack lifecycle: `up` (idempotent), `down` (only our own pids), `status`.

`up` starts one search engine (OpenSearch by default, Elasticsearch 7.10 with
`engine="elasticsearch"`, or Elastic's core-only Elasticsearch 8.x build with
`engine="elasticsearch8"`, each on its own ports so they can run side by side) and Kafka;
with `cluster_layout="hot-warm"`, OpenSearch runs as three nodes instead (local_stack/cluster.py).
When the user points at their own clusters (OPENSEARCH_URL / ELASTICSEARCH_URL and
KAFKA_BOOTSTRAP_SERVERS), the corresponding embedded server is not started; an engine
URL that names one of our own engine ports is ours, not external.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass

from local_stack import cluster, elasticsearch8
from local_stack.java_runtime import (
    Jdk, find_jdks, pick_for_elasticsearch, pick_for_elasticsearch8, pick_for_kafka, pick_for_opensearch,
)
from local_stack.processes import ensure_port_free
from local_stack.servers import (
    ServerDidNotStart, ServerPlan, engine_ready, kafka_ready, managed, start_elasticsearch, start_kafka,
    start_opensearch, wait_until_ready,
)
from settings import Settings, StackSettings

ENGINES = ("opensearch", "elasticsearch", "elasticsearch8")
SERVERS = ("opensearch", "kafka")  # what `up` starts by default, and `status` always shows


@dataclass(frozen=True)
class ServerKind:
    """How to start, find and probe one kind of server."""

    start: Callable[[StackSettings, Jdk], ServerPlan]
    pick_jdk: Callable[[list[Jdk]], Jdk]
    ready: Callable[[str], bool]
    ports: Callable[[StackSettings], dict[str, tuple[int, str]]]  # what -> (port, setting to change it)


CLUSTERS = (cluster.LAYOUT,)  # `up --cluster`: OpenSearch as three nodes (local_stack/cluster.py)
KINDS = {
    "opensearch": ServerKind(start_opensearch, pick_for_opensearch, engine_ready, lambda s: {
        "OpenSearch HTTP": (s.opensearch_http_port, "ORDERREPO_STACK_OPENSEARCH_HTTP_PORT"),
        "OpenSearch transport": (s.opensearch_transport_port, "ORDERREPO_STACK_OPENSEARCH_TRANSPORT_PORT")}),
    "elasticsearch": ServerKind(start_elasticsearch, pick_for_elasticsearch, engine_ready, lambda s: {
        "Elasticsearch HTTP": (s.elasticsearch_http_port, "ORDERREPO_STACK_ELASTICSEARCH_HTTP_PORT"),
        "Elasticsearch transport": (s.elasticsearch_transport_port, "ORDERREPO_STACK_ELASTICSEARCH_TRANSPORT_PORT")}),
    "elasticsearch8": ServerKind(elasticsearch8.start_elasticsearch8, pick_for_elasticsearch8, engine_ready, lambda s: {
        "Elasticsearch 8 HTTP": (s.elasticsearch8_http_port, "ORDERREPO_STACK_ELASTICSEARCH8_HTTP_PORT"),
        "Elasticsearch 8 transport": (s.elasticsearch8_transport_port,
                                      "ORDERREPO_STACK_ELASTICSEARCH8_TRANSPORT_PORT")}),
    "kafka": ServerKind(start_kafka, pick_for_kafka, kafka_ready, lambda s: {
        "Kafka broker": (s.kafka_port, "ORDERREPO_STACK_KAFKA_PORT"),
        "Kafka controller": (s.kafka_controller_port, "ORDERREPO_STACK_KAFKA_CONTROLLER_PORT")}),
}


@dataclass(frozen=True)
class ServerStatus:
    name: str
    state: str  # running | stopped | external
    address: str
    pid: int | None
    detail: str = ""


def _report(message: str) -> None:
    print(message, flush=True)


def up(settings: Settings, report: Callable[[str], None] = _report, *, engine: str | None = None,
       cluster_layout: str | None = None) -> list[ServerStatus]:
    """Start `engine` (or, with `cluster_layout`, an OpenSearch cluster) and Kafka unless running
    (or external); wait until each answers.

    No `engine`: the one of ours the engine URL names (a matrix leg's Elasticsearch node), else OpenSearch."""
    if engine is None:
        engine = next((name for name in ENGINES if settings.engine_url is not None
                       and settings.engine_url.rstrip("/") == local_address(settings.stack, name)), "opensearch")
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if cluster_layout is not None and (cluster_layout not in CLUSTERS or engine != "opensearch"):
        raise ValueError(f"cluster layouts are for OpenSearch: choose one of {', '.join(CLUSTERS)}")
    jdks = find_jdks(settings.stack.java_home)
    report("java found: " + ", ".join(f"{jdk.major} ({jdk.java})" for jdk in jdks))
    engines = _cluster_up(settings, jdks, report) if cluster_layout else [_up_one(settings, engine, jdks, report)]
    return [*engines, _up_one(settings, "kafka", jdks, report)]


def _cluster_up(settings: Settings, jdks: list[Jdk], report: Callable[[str], None]) -> list[ServerStatus]:
    """The three nodes start together and are ready once all have joined one cluster."""
    stack = settings.stack
    if _external(settings, "opensearch"):
        return [_external_status(settings, "opensearch")]
    if not cluster.running_nodes(stack):
        cluster.check_ports(stack)
        jdk = pick_for_opensearch(jdks)
        report(f"opensearch {cluster.LAYOUT} cluster: starting {len(cluster.NODES)} nodes on Java {jdk.major} ...")
        plans = cluster.start(stack, jdk)
        try:
            seconds = cluster.wait_until_formed(plans, stack, stack.start_timeout_s)
        except ServerDidNotStart:
            cluster.stop(stack)
            raise
        report(f"opensearch {plans[0].version} {cluster.LAYOUT} cluster ready at {cluster.address(stack)} "
               f"in {seconds:.1f}s (logs under {stack.home / 'logs'})")
    else:
        report(f"opensearch {cluster.LAYOUT} cluster: already running")
    if settings.resolved_engine_url().rstrip("/") != cluster.address(stack):
        report(f"to use it: export ORDERREPO_ENGINE_URL={cluster.address(stack)}")
    return _cluster_statuses(settings)


def _cluster_statuses(settings: Settings) -> list[ServerStatus]:
    stack = settings.stack
    return [_status_of(settings, node.server, node.address(stack), detail=f"{cluster.NODE_ATTRIBUTE}={node.temp}")
            for node in cluster.NODES]


def _up_one(settings: Settings, name: str, jdks: list[Jdk], report: Callable[[str], None]) -> ServerStatus:
    if _external(settings, name):
        return _external_status(settings, name)
    process = managed(settings.stack, name)
    if process.is_running():
        report(f"{name}: already running (pid {process.pid()})")
        return _status_of(settings, name)
    kind = KINDS[name]
    for what, (port, setting) in kind.ports(settings.stack).items():
        ensure_port_free(port, what, setting)
    jdk = kind.pick_jdk(jdks)
    report(f"{name}: starting on Java {jdk.major} ...")
    plan = kind.start(settings.stack, jdk)
    try:
        seconds = wait_until_ready(plan, settings.stack.start_timeout_s)
    except ServerDidNotStart:
        plan.process.stop()
        raise
    report(f"{name} {plan.version} ready at {plan.address} in {seconds:.1f}s "
           f"(Java {jdk.major}, pid {plan.process.pid()}, log {plan.process.log_file})")
    return _status_of(settings, name)


def down(settings: Settings, *, wipe: bool = False, only: str | None = None,
         report: Callable[[str], None] = _report) -> None:
    """Stop our servers (or `only` that one); never a process we did not start."""
    stack = settings.stack
    if only is None or only == cluster.LAYOUT:
        _cluster_down(settings, wipe=wipe, report=report)
        if only:
            return
    for name in [only] if only else ["kafka", *reversed(ENGINES)]:
        if managed(stack, name).stop():
            report(f"{name}: stopped")
        elif only or name in SERVERS:
            report(f"{name}: not running (nothing of ours to stop)")
        if wipe:
            files = elasticsearch8.node_dir(stack) if name == "elasticsearch8" else stack.home / name
            shutil.rmtree(files, ignore_errors=True)
            report(f"{name}: data wiped ({files})")


def _cluster_down(settings: Settings, *, wipe: bool, report: Callable[[str], None]) -> None:
    for name in cluster.stop(settings.stack):
        report(f"{name}: stopped")
    if wipe:
        for node in cluster.NODES:
            shutil.rmtree(settings.stack.home / node.server, ignore_errors=True)
        report(f"opensearch {cluster.LAYOUT} cluster: data wiped")


def status(settings: Settings) -> list[ServerStatus]:
    """The default servers, plus an Elasticsearch node or cluster nodes of ours when running
    (a running cluster stands in for the single OpenSearch node when that one is stopped)."""
    running_extra = [name for name in ENGINES if name not in SERVERS and managed(settings.stack, name).is_running()]
    nodes = _cluster_statuses(settings) if cluster.running_nodes(settings.stack) else []
    statuses = [
        _external_status(settings, name) if _external(settings, name) else _status_of(settings, name)
        for name in [*SERVERS[:1], *running_extra, *SERVERS[1:]]
    ]
    return [s for s in statuses if not (nodes and s.name == "opensearch" and s.state == "stopped")] + nodes


def local_address(stack: StackSettings, name: str) -> str:
    """Where our own server `name` listens."""
    if name == "kafka":
        return f"127.0.0.1:{stack.kafka_port}"
    port = {"opensearch": stack.opensearch_http_port, "elasticsearch": stack.elasticsearch_http_port,
            "elasticsearch8": stack.elasticsearch8_http_port}[name]
    return f"http://127.0.0.1:{port}"


def _configured(settings: Settings, name: str) -> str | None:
    return settings.kafka_bootstrap_servers if name == "kafka" else settings.engine_url


def _external(settings: Settings, name: str) -> bool:
    configured = _configured(settings, name)
    own = {local_address(settings.stack, engine) for engine in ENGINES} | {
        node.address(settings.stack) for node in cluster.NODES}
    return configured is not None and (name == "kafka" or configured.rstrip("/") not in own)


def _external_status(settings: Settings, name: str) -> ServerStatus:
    return ServerStatus(name, "external", str(_configured(settings, name)), None,
                        "configured by environment; not managed here")


def _status_of(settings: Settings, name: str, address: str | None = None, *, detail: str = "") -> ServerStatus:
    process = managed(settings.stack, name)
    address = address or local_address(settings.stack, name)
    if not process.is_running():
        return ServerStatus(name, "stopped", address, None, detail)
    ready = (KINDS[name].ready if name in KINDS else engine_ready)(address)
    state = "ready" if ready else "not answering yet"
    return ServerStatus(name, "running", address, process.pid(), f"{state}, {detail}" if detail else state)
