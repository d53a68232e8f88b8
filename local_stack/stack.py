"""Stack lifecycle: `up` (idempotent), `down` (only our own pids), `status`.

When the user points at their own clusters (OPENSEARCH_URL / ELASTICSEARCH_URL and
KAFKA_BOOTSTRAP_SERVERS), the corresponding embedded server is not started.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass

from local_stack.java_runtime import find_jdks, pick_for_kafka, pick_for_opensearch
from local_stack.processes import ensure_port_free
from local_stack.servers import (
    ServerDidNotStart,
    ServerPlan,
    kafka_ready,
    managed,
    opensearch_ready,
    start_kafka,
    start_opensearch,
    wait_until_ready,
)
from settings import Settings

SERVERS = ("opensearch", "kafka")


@dataclass(frozen=True)
class ServerStatus:
    name: str
    state: str  # running | stopped | external
    address: str
    pid: int | None
    detail: str = ""


def _report(message: str) -> None:
    print(message, flush=True)


def up(settings: Settings, report: Callable[[str], None] = _report) -> list[ServerStatus]:
    stack = settings.stack
    jdks = find_jdks(stack.java_home)
    report("java found: " + ", ".join(f"{jdk.major} ({jdk.java})" for jdk in jdks))
    statuses = []
    for name in SERVERS:
        if _external(settings, name):
            statuses.append(_external_status(settings, name))
            continue
        process = managed(stack, name)
        if process.is_running():
            report(f"{name}: already running (pid {process.pid()})")
            statuses.append(_status_of(settings, name))
            continue
        _check_ports(settings, name)
        start = start_opensearch if name == "opensearch" else start_kafka
        jdk = pick_for_opensearch(jdks) if name == "opensearch" else pick_for_kafka(jdks)
        report(f"{name}: starting on Java {jdk.major} ...")
        plan: ServerPlan = start(stack, jdk)
        try:
            seconds = wait_until_ready(plan, stack.start_timeout_s)
        except ServerDidNotStart:
            plan.process.stop()
            raise
        report(f"{name} {plan.version} ready at {plan.address} in {seconds:.1f}s "
               f"(Java {jdk.major}, pid {plan.process.pid()}, log {plan.process.log_file})")
        statuses.append(_status_of(settings, name))
    return statuses


def down(settings: Settings, *, wipe: bool = False, report: Callable[[str], None] = _report) -> None:
    stack = settings.stack
    for name in reversed(SERVERS):
        process = managed(stack, name)
        if process.stop():
            report(f"{name}: stopped")
        else:
            report(f"{name}: not running (nothing of ours to stop)")
        if wipe:
            shutil.rmtree(stack.home / name, ignore_errors=True)
            report(f"{name}: data wiped ({stack.home / name})")


def status(settings: Settings) -> list[ServerStatus]:
    return [
        _external_status(settings, name) if _external(settings, name) else _status_of(settings, name)
        for name in SERVERS
    ]


def _external(settings: Settings, name: str) -> bool:
    return (settings.engine_url if name == "opensearch" else settings.kafka_bootstrap_servers) is not None


def _external_status(settings: Settings, name: str) -> ServerStatus:
    address = settings.resolved_engine_url() if name == "opensearch" else settings.resolved_kafka_servers()
    return ServerStatus(name, "external", address, None, "configured by environment; not managed here")


def _status_of(settings: Settings, name: str) -> ServerStatus:
    process = managed(settings.stack, name)
    address = settings.resolved_engine_url() if name == "opensearch" else settings.resolved_kafka_servers()
    if not process.is_running():
        return ServerStatus(name, "stopped", address, None)
    ready = opensearch_ready(address) if name == "opensearch" else kafka_ready(address)
    return ServerStatus(name, "running", address, process.pid(), "ready" if ready else "not answering yet")


def _check_ports(settings: Settings, name: str) -> None:
    stack = settings.stack
    if name == "opensearch":
        ensure_port_free(stack.opensearch_http_port, "OpenSearch HTTP", "ORDERREPO_STACK_OPENSEARCH_HTTP_PORT")
        ensure_port_free(stack.opensearch_transport_port, "OpenSearch transport",
                         "ORDERREPO_STACK_OPENSEARCH_TRANSPORT_PORT")
    else:
        ensure_port_free(stack.kafka_port, "Kafka broker", "ORDERREPO_STACK_KAFKA_PORT")
        ensure_port_free(stack.kafka_controller_port, "Kafka controller", "ORDERREPO_STACK_KAFKA_CONTROLLER_PORT")
