"""`stack up --engine elasticsearch8` on a private home and ports: Elastic's 8.x core build, then gone.

It starts one more JVM for about a minute, so it runs in the Elasticsearch 8 leg of the
engine matrix only (ELASTICSEARCH_URL names an 8.x node), not in every run.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters.search_engine import Capabilities, EngineConfig, EngineKind, Feature, SearchEngine
from local_stack import elasticsearch8, stack
from local_stack.servers import managed
from settings import Settings, StackSettings

HTTP_PORT, TRANSPORT_PORT = 28210, 28310


@pytest.fixture
def eight_leg(engine: SearchEngine) -> Iterator[None]:
    if engine.info.kind is not EngineKind.ELASTICSEARCH or engine.info.release[0] < 8:
        pytest.skip(f"the Elasticsearch 8 leg of the matrix runs this (ELASTICSEARCH_URL names an 8.x node); "
                    f"the engine here is {engine.info.kind} {engine.info.version}")
    yield


def _private_settings(home: Path, kafka_servers: str) -> Settings:
    return Settings(
        ORDERREPO_ENGINE_URL=None, ORDERREPO_KAFKA_BOOTSTRAP_SERVERS=kafka_servers,  # Kafka: the shared one
        stack=StackSettings(home=home, elasticsearch8_http_port=HTTP_PORT, elasticsearch8_transport_port=TRANSPORT_PORT,
                            elasticsearch8_heap="384m"),
    )


def _owner_of(pid: int) -> str:
    uid = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
               if line.startswith("Uid:"))
    return pwd.getpwuid(uid).pw_name


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (any of its threads may have started them)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(") ", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except (OSError, IndexError):
            continue  # gone meanwhile
    return found


def test_the_8x_core_build_goes_up_as_a_service_user_answers_and_goes_down(
    eight_leg: None, tmp_path: Path, kafka_servers: str
) -> None:
    settings = _private_settings(tmp_path / "stack", kafka_servers)
    url = f"http://127.0.0.1:{HTTP_PORT}"
    process = managed(settings.stack, "elasticsearch8")
    server: list[int] = []
    try:
        started = stack.up(settings, engine="elasticsearch8")
        assert [(s.name, s.state) for s in started] == [("elasticsearch8", "running"), ("kafka", "external")]
        pid = process.pid()
        assert pid is not None
        server = _children(pid)  # the launcher's server JVM
        expected_user = settings.stack.elasticsearch8_user if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        assert len(server) == 1 and {_owner_of(pid), _owner_of(server[0])} == {expected_user}
        assert httpx.get(f"{url}/_cluster/health", timeout=10.0).json()["status"] == "green"  # no credentials
        assert httpx.get(url, timeout=10.0).status_code == 405  # this build has no root endpoint
        engine = SearchEngine.connect(EngineConfig(url=url))
        assert (engine.info.kind, engine.info.version) == (EngineKind.ELASTICSEARCH, settings.stack.elasticsearch8_version)
        assert engine.info.capabilities == Capabilities(missing=frozenset(Feature))
        engine.close()
        assert (elasticsearch8.node_dir(settings.stack) / "data").stat().st_uid == pwd.getpwnam(expected_user).pw_uid
        assert [s.name for s in stack.status(settings)] == ["opensearch", "elasticsearch8", "kafka"]
    finally:
        stack.down(settings, only="elasticsearch8", wipe=True)
    assert not process.is_running() and not any(Path(f"/proc/{child}").exists() for child in server)
    assert not elasticsearch8.node_dir(settings.stack).exists()
    assert [s.name for s in stack.status(settings)] == ["opensearch", "kafka"]
