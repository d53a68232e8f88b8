"""Elastic's own Elasticsearch 8.x core build (the integ-test-zip from Maven Central), as a local node.

The zip is resolved with `mvn` (pom profile `elasticsearch8`), unpacked once into the
node's directory, and started with its own launcher (`bin/elasticsearch`: a small CLI
JVM that starts the server JVM and stops it when it gets SIGTERM or dies, because the
server exits when the CLI's pipe closes). The pid we keep is the CLI's, which carries
the stack marker in its command line (CLI_JAVA_OPTS) like every server of ours.

Guarantees and choices:
- Elasticsearch refuses to run as root. When we are root (CI on a fresh machine), the
  node runs as `elasticsearch8_user` (default `orderrepo-es`), created if missing with
  `useradd --system --user-group --no-create-home --shell /usr/sbin/nologin`, with its
  own group and no supplementary groups. Its files then live in
  /var/lib/orderrepo-es/<id of the stack home> (root's home is closed to other users);
  as any other user, in <stack home>/elasticsearch8.
- Single node, loopback only, security off (`xpack.security.enabled: false`: plain HTTP,
  no users), disk watermarks off (a dev node on a full disk must not go red), its own
  config, data, logs and temp directories.
- The build is core-only: no analysis-common, mapper-extras, painless or reindex, and no
  `GET /` (the rest-root module); the engine adapter detects that and adapts.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

from local_stack.java_runtime import Jdk
from local_stack.maven import resolve_classpath
from local_stack.servers import ServerDidNotStart, ServerPlan, managed
from settings import StackSettings

NAME = "elasticsearch8"
SERVICE_ROOT = Path("/var/lib/orderrepo-es")
_CONFIG_FILES = ("jvm.options", "log4j2.properties")


def node_dir(settings: StackSettings) -> Path:
    """Where the node's distribution, config, data and logs live (see the module docstring)."""
    if settings.elasticsearch8_dir is not None:
        return settings.elasticsearch8_dir
    if os.geteuid() != 0:
        return settings.home / NAME
    home_id = hashlib.sha256(str(settings.home.resolve()).encode()).hexdigest()[:12]
    return SERVICE_ROOT / home_id


def service_user(settings: StackSettings) -> str | None:
    """The account the node runs as: ours unless we are root, then the service user (created if missing)."""
    if os.geteuid() != 0:
        return None
    name = settings.elasticsearch8_user
    try:
        pwd.getpwnam(name)
    except KeyError:
        result = subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            capture_output=True, text=True,
        )
        if result.returncode != 0:
            raise ServerDidNotStart(f"cannot create the user {name!r} Elasticsearch runs as: {result.stderr.strip()}")
    return name


@dataclass(frozen=True)
class NodeSpec:
    """One node: its stack name (pid file, log), its directory, ports and the cluster lines of its
    elasticsearch.yml (single-node discovery, or roles and seed hosts of a multi-node cluster)."""

    server: str
    base: Path
    http_port: int
    transport_port: int
    cluster_lines: tuple[str, ...]


def single_node(settings: StackSettings) -> NodeSpec:
    """The stack's own node (`stack up --engine elasticsearch8`): a cluster of one."""
    return NodeSpec(NAME, node_dir(settings), settings.elasticsearch8_http_port, settings.elasticsearch8_transport_port,
                    ("cluster.name: orderrepo-elasticsearch8", "node.name: orderrepo-es8", "discovery.type: single-node"))


def start_elasticsearch8(settings: StackSettings, jdk: Jdk) -> ServerPlan:
    node = single_node(settings)
    return start_node(settings, jdk, node, dist=node.base / "dist")


def start_node(settings: StackSettings, jdk: Jdk, node: NodeSpec, *, dist: Path) -> ServerPlan:
    """Start one node of the 8.x build (distribution unpacked once into `dist`); do not wait."""
    version = settings.elasticsearch8_version
    archive = resolve_classpath(
        profile=NAME, properties={"elasticsearch8.version": version}, maven_repo=settings.maven_repo,
        cache_file=settings.home / "classpath" / f"{NAME}-{version}.cp",
    )
    user = service_user(settings)
    es_home = _unpacked(Path(archive), dist, version)
    _write_config(node, es_home, heap=settings.elasticsearch8_heap)
    _hand_over(node.base, user)
    process = managed(settings, node.server)
    process.start(
        [str(es_home / "bin" / "elasticsearch")], cwd=node.base, user=user,
        env={"ES_JAVA_HOME": str(jdk.java.parent.parent), "ES_PATH_CONF": str(node.base / "config"),
             "ES_TMPDIR": str(node.base / "tmp"), "CLI_JAVA_OPTS": process.marker, "ES_JAVA_OPTS": process.marker},
    )
    return ServerPlan(node.server, version, jdk, process, f"http://127.0.0.1:{node.http_port}")


def _unpacked(archive: Path, into: Path, version: str) -> Path:
    """The distribution unpacked (once; a half-unpacked one is redone), files keeping their zip modes."""
    es_home = into / f"elasticsearch-{version}"
    done = es_home / ".unpacked"
    if done.exists():
        return es_home
    shutil.rmtree(es_home, ignore_errors=True)
    into.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive) as zipped:
        for member in zipped.infolist():
            target = Path(zipped.extract(member, into))
            mode = (member.external_attr >> 16) & 0o777 or (0o755 if target.is_dir() else 0o644)
            target.chmod(mode | 0o444 | (0o111 if target.is_dir() else 0))  # readable by the service user
    done.touch()
    return es_home


def _write_config(node: NodeSpec, es_home: Path, *, heap: str) -> None:
    base, config = node.base, node.base / "config"
    (config / "jvm.options.d").mkdir(parents=True, exist_ok=True)
    for name in _CONFIG_FILES:
        shutil.copyfile(es_home / "config" / name, config / name)
    (config / "jvm.options.d" / "heap.options").write_text(f"-Xms{heap}\n-Xmx{heap}\n")
    for part in ("data", "logs", "tmp"):
        (base / part).mkdir(exist_ok=True)
    (config / "elasticsearch.yml").write_text("\n".join([
        *node.cluster_lines,
        "network.host: 127.0.0.1",
        f"http.port: {node.http_port}",
        f"transport.port: {node.transport_port}",
        f"path.data: {base / 'data'}",
        f"path.logs: {base / 'logs'}",
        "xpack.security.enabled: false",
        "cluster.routing.allocation.disk.threshold_enabled: false",
        "",
    ]))


def _hand_over(base: Path, user: str | None) -> None:
    """The service user owns what the node writes (config: its keystore); the parents stay root's, open to read."""
    if user is None:
        return
    account = pwd.getpwnam(user)
    for directory in [base, *base.parents]:  # a cluster node's directory sits one level deeper
        if directory == SERVICE_ROOT or SERVICE_ROOT in directory.parents or directory == base:
            directory.chmod(0o755)
    for part in ("config", "data", "logs", "tmp"):
        for path in [base / part, *(base / part).rglob("*")]:
            os.chown(path, account.pw_uid, account.pw_gid)
