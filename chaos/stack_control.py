"""A stack of its own for fault drills, and the switches that break it on purpose.

Drills stop and start servers, so they never run on the stack the other tests or a
developer use: `drill_settings` gives a stack home and ports of its own (27xxx by
default). The switches act like production faults: a server process stopped and
started again on the same data, the disk flood-stage watermark reached.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx

from local_stack import stack
from local_stack.servers import managed
from settings import Settings, StackSettings

# below the ephemeral port range (32768+) so no outgoing connection can hold one, and apart from
# the ports the launcher's own tests use (29xxx)
DRILL_PORTS = {"opensearch_http_port": 27200, "opensearch_transport_port": 27300,
               "kafka_port": 27092, "kafka_controller_port": 27093}


def api_port(settings: Settings) -> int:
    """The port of a drill's or soak's API process: tied to its stack's engine port (27200 -> 27400), so
    runs side by side (a test and `orderrepo chaos`, whose stacks cannot share ports) never share one."""
    return settings.stack.opensearch_http_port + 200


def drill_settings(home: Path, *, prefix: str = "drill") -> Settings:
    """Settings for the drill stack: its own home and ports, its own index and topic names."""
    overrides = {name: int(os.environ.get(f"ORDERREPO_DRILL_{name.upper()}", port))
                 for name, port in DRILL_PORTS.items()}
    stack_settings = StackSettings(home=home, **overrides)
    return Settings(engine_url=None, kafka_bootstrap_servers=None, stack=stack_settings, index_prefix=prefix,
                    topic_prefix=prefix, consumer_group=f"{prefix}-ingest", consumer_session_timeout_ms=6_000)


def process_env(settings: Settings) -> dict[str, str]:
    """The environment that makes an `orderrepo` child process use the drill stack and names."""
    return {**os.environ, "ORDERREPO_ENGINE_URL": settings.resolved_engine_url(),
            "ORDERREPO_KAFKA_BOOTSTRAP_SERVERS": settings.resolved_kafka_servers(),
            "ORDERREPO_INDEX_PREFIX": settings.index_prefix, "ORDERREPO_TOPIC_PREFIX": settings.topic_prefix,
            "ORDERREPO_CONSUMER_GROUP": settings.consumer_group,
            "ORDERREPO_CONSUMER_SESSION_TIMEOUT_MS": str(settings.consumer_session_timeout_ms),
            "ORDERREPO_STACK_HOME": str(settings.stack.home), "ORDERREPO_LOG_FORMAT": "json",
            "ORDERREPO_INGEST_PROCESSES": "1"}  # one worker per child: the drill counts and kills them one by one


def start(settings: Settings) -> None:
    stack.up(settings, report=lambda line: None)


def stop_server(settings: Settings, name: str) -> None:
    """Stop one server (graceful SIGTERM, like an orchestrator's restart)."""
    managed(settings.stack, name).stop()


def start_again(settings: Settings) -> float:
    """Start whatever is stopped, on the same data; the seconds it took."""
    started = time.monotonic()
    stack.up(settings, report=lambda line: None)
    return time.monotonic() - started


def flood_stage(settings: Settings, *, reached: bool, timeout_s: float = 60) -> None:
    """Make the engine believe its disk is full until every index of the drill is blocked
    (read-only-allow-delete), or give the disk back and lift the blocks. The absolute
    watermarks ask for more free space than any disk has; the engine checks its disks
    every 10 s at the most (its lower bound), so this waits for the block to appear."""
    value = "1000tb" if reached else None
    body = {"transient": {
        "cluster.routing.allocation.disk.threshold_enabled": True if reached else None,
        "cluster.routing.allocation.disk.watermark.low": value,
        "cluster.routing.allocation.disk.watermark.high": value,
        "cluster.routing.allocation.disk.watermark.flood_stage": value,
        "cluster.info.update.interval": "10s",
    }}
    url = settings.resolved_engine_url()
    httpx.put(f"{url}/_cluster/settings", json=body, timeout=30).raise_for_status()
    if reached:
        deadline = time.monotonic() + timeout_s
        while not _all_blocked(url, settings.index_prefix) and time.monotonic() < deadline:
            time.sleep(1)
        return
    httpx.put(f"{url}/{settings.index_prefix}-*/_settings", json={"index.blocks.read_only_allow_delete": None},
              timeout=30).raise_for_status()
    _lift_create_index_block(url, timeout_s)


def _lift_create_index_block(url: str, timeout_s: float) -> None:
    """Found by the chaos run: while every node is over the high watermark the engine also blocks
    index creation cluster-wide (a cluster setting), and lifts it only on a later disk check, so
    the next run's workers could not create their indices. Lifted here, and checked again after
    one disk check (10 s) in case that check was already under way."""
    clear = {"persistent": {"cluster.blocks.create_index": None}, "transient": {"cluster.blocks.create_index": None}}
    deadline = time.monotonic() + timeout_s
    while True:
        httpx.put(f"{url}/_cluster/settings", json=clear, timeout=30).raise_for_status()
        time.sleep(11)
        if not _create_index_blocked(url) or time.monotonic() > deadline:
            break
    httpx.put(f"{url}/_cluster/settings", json={"transient": {"cluster.info.update.interval": None}},
              timeout=30).raise_for_status()


def _create_index_blocked(url: str) -> bool:
    answer = httpx.get(f"{url}/_cluster/settings", params={"flat_settings": "true"}, timeout=30).json()
    return any(str(scope.get("cluster.blocks.create_index")).lower() == "true" for scope in answer.values())


def _all_blocked(url: str, prefix: str) -> bool:
    answer = httpx.get(f"{url}/{prefix}-*/_settings/index.blocks.read_only_allow_delete", timeout=30).json()
    return bool(answer) and all(
        index.get("settings", {}).get("index", {}).get("blocks", {}).get("read_only_allow_delete") == "true"
        for index in answer.values())
