"""How to resolve, configure, start and probe each server of the local stack."""

from __future__ import annotations

import base64
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

from local_stack.java_runtime import Jdk
from local_stack.maven import resolve_classpath
from local_stack.processes import ManagedProcess
from settings import StackSettings

JAVA_SOURCE = Path(__file__).with_name("EmbeddedNode.java")
_RUNNERS = {  # engine -> (runner class, cluster name)
    "opensearch": ("org.codelibs.opensearch.runner.OpenSearchRunner", "orderrepo"),
    "elasticsearch": ("org.codelibs.elasticsearch.runner.ElasticsearchClusterRunner", "orderrepo-elasticsearch"),
}
_KAFKA_LOG4J = """\
rootLogger.level=INFO
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
logger.kafka.name=kafka
logger.kafka.level=WARN
logger.apache.name=org.apache.kafka
logger.apache.level=WARN
"""


class ServerDidNotStart(RuntimeError):
    pass


@dataclass(frozen=True)
class ServerPlan:
    name: str
    version: str
    jdk: Jdk
    process: ManagedProcess
    address: str


def marker_for(settings: StackSettings, name: str) -> str:
    return f"-Dorderrepo.stack={settings.home.resolve()}/{name}"


def managed(settings: StackSettings, name: str) -> ManagedProcess:
    run = settings.home / "run"
    run.mkdir(parents=True, exist_ok=True)
    return ManagedProcess(
        name=name,
        pid_file=run / f"{name}.pid",
        log_file=settings.home / "logs" / f"{name}.log",
        marker=marker_for(settings, name),
    )


def opensearch_version_for(jdk: Jdk, settings: StackSettings) -> str:
    return settings.opensearch_version_java21 if jdk.major >= 21 else settings.opensearch_version_java17


def start_opensearch(settings: StackSettings, jdk: Jdk) -> ServerPlan:
    return _start_engine_node(settings, jdk, name="opensearch", version=opensearch_version_for(jdk, settings),
                              heap=settings.opensearch_heap,
                              ports=(settings.opensearch_http_port, settings.opensearch_transport_port))


def start_elasticsearch(settings: StackSettings, jdk: Jdk) -> ServerPlan:
    """Elasticsearch 7.10.2 (the last Apache-2.0 release) with its standard modules."""
    return _start_engine_node(settings, jdk, name="elasticsearch", version=settings.elasticsearch_version,
                              heap=settings.elasticsearch_heap,
                              ports=(settings.elasticsearch_http_port, settings.elasticsearch_transport_port))


def _start_engine_node(
    settings: StackSettings, jdk: Jdk, *, name: str, version: str, heap: str, ports: tuple[int, int]
) -> ServerPlan:
    """One engine node from its runner (pom profile `name`, local_stack/EmbeddedNode.java), data in home/<name>."""
    classpath = resolve_classpath(
        profile=name,
        properties={f"{name}.runner.version": version},
        maven_repo=settings.maven_repo,
        cache_file=settings.home / "classpath" / f"{name}-{version}.cp",
    )
    process = managed(settings, name)
    base = settings.home / name
    base.mkdir(parents=True, exist_ok=True)
    http_port, transport_port = ports
    runner, cluster = _RUNNERS[name]
    process.start(
        [
            str(jdk.java), process.marker, f"-Xms{heap}", f"-Xmx{heap}",
            "-XX:+UseG1GC", "-Djava.awt.headless=true", "-Dfile.encoding=UTF-8",
            "-cp", classpath, str(JAVA_SOURCE), runner, str(base), str(http_port), str(transport_port), cluster,
        ],
        cwd=base,
    )
    return ServerPlan(name, version, jdk, process, f"http://127.0.0.1:{http_port}")


def start_kafka(settings: StackSettings, jdk: Jdk) -> ServerPlan:
    classpath = resolve_classpath(
        profile="kafka",
        properties={"kafka.version": settings.kafka_version},
        maven_repo=settings.maven_repo,
        cache_file=settings.home / "classpath" / f"kafka-{settings.kafka_version}.cp",
    )
    process = managed(settings, "kafka")
    base = settings.home / "kafka"
    config = _write_kafka_config(settings, base)
    java = [str(jdk.java), f"-Dlog4j2.configurationFile={base / 'log4j2.properties'}", "-cp", classpath]
    if not (base / "data" / "meta.properties").exists():
        _format_kafka_storage(java, config, process)
    process.start(
        [*java[:1], process.marker, f"-Xms{settings.kafka_heap}", f"-Xmx{settings.kafka_heap}", *java[1:],
         "kafka.Kafka", str(config)],
        cwd=base,
    )
    return ServerPlan("kafka", settings.kafka_version, jdk, process, f"127.0.0.1:{settings.kafka_port}")


def _write_kafka_config(settings: StackSettings, base: Path) -> Path:
    base.mkdir(parents=True, exist_ok=True)
    (base / "log4j2.properties").write_text(_KAFKA_LOG4J)
    config = base / "server.properties"
    broker, controller = settings.kafka_port, settings.kafka_controller_port
    config.write_text(
        "\n".join([
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{controller}",
            f"listeners=PLAINTEXT://127.0.0.1:{broker},CONTROLLER://127.0.0.1:{controller}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{broker}",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            f"log.dirs={base / 'data'}",
            f"num.partitions={settings.kafka_partitions}",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=6",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=true",
            "",
        ])
    )
    return config


def _format_kafka_storage(java: list[str], config: Path, process: ManagedProcess) -> None:
    cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    result = subprocess.run(
        [*java, "kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}", "-c", str(config)],  # ids may start with "-"
        capture_output=True, text=True,
    )
    process.log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(process.log_file, "a") as log:
        log.write(result.stdout + result.stderr)
    if result.returncode != 0:
        raise ServerDidNotStart(f"formatting Kafka storage failed:\n{(result.stdout + result.stderr)[-2000:]}")


def engine_ready(address: str) -> bool:
    """The cluster answers its health at least yellow (OpenSearch and Elasticsearch alike)."""
    try:
        response = httpx.get(f"{address}/_cluster/health", params={"wait_for_status": "yellow", "timeout": "1s"},
                             timeout=3.0)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and response.json().get("status") in {"green", "yellow"}


def kafka_ready(address: str) -> bool:
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=1.0).close()
    except OSError:
        return False  # not listening yet: skip the client, whose retries would log errors
    try:
        admin = KafkaAdminClient(bootstrap_servers=address, request_timeout_ms=3000)
    except (KafkaError, OSError, ValueError):
        return False
    try:
        return bool(admin.describe_cluster().get("brokers"))
    except (KafkaError, OSError):
        return False
    finally:
        admin.close()


def wait_until_ready(plan: ServerPlan, timeout_s: float) -> float:
    probe = kafka_ready if plan.name == "kafka" else engine_ready
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if not plan.process.is_running():
            raise ServerDidNotStart(f"{plan.name} exited during start-up; last log lines:\n{plan.process.log_tail()}")
        if probe(plan.address):
            return time.monotonic() - started
        time.sleep(0.5)
    raise ServerDidNotStart(f"{plan.name} not ready after {timeout_s:.0f}s; see {plan.process.log_file}")
