"""`stack up` / `stack down` on a second, private stack (own home and ports)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from local_stack import stack
from local_stack.processes import PortInUse
from local_stack.servers import managed
from settings import Settings, StackSettings


def _private_settings(home: Path, base_port: int) -> Settings:
    return Settings(
        engine_url=None,
        kafka_bootstrap_servers=None,
        stack=StackSettings(
            home=home, opensearch_http_port=base_port, opensearch_transport_port=base_port + 100,
            kafka_port=base_port + 2, kafka_controller_port=base_port + 3,
            opensearch_heap="384m", kafka_heap="256m",
        ),
    )


def _our_processes(home: Path) -> list[str]:
    marker = f"-Dorderrepo.stack={home.resolve()}/"
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in text:
            found.append(cmdline.parent.name)
    return found


def test_up_twice_then_down_leaves_no_process_of_ours(tmp_path: Path) -> None:
    settings = _private_settings(tmp_path / "stack", 29200)
    try:
        first = stack.up(settings)
        second = stack.up(settings)  # harmless: reports "already running"
        assert [s.state for s in first] == ["running", "running"]
        assert [s.pid for s in second] == [s.pid for s in first]
        assert len(_our_processes(settings.stack.home)) == 2
    finally:
        stack.down(settings, wipe=True)
    assert _our_processes(settings.stack.home) == []
    assert [s.state for s in stack.status(settings)] == ["stopped", "stopped"]


def test_down_never_signals_a_process_it_did_not_start(tmp_path: Path) -> None:
    settings = _private_settings(tmp_path / "stack", 29400)
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        managed(settings.stack, "opensearch").pid_file.write_text(str(stranger.pid))
        stack.down(settings)
        assert stranger.poll() is None, "a foreign process was killed"
    finally:
        stranger.kill()
        stranger.wait()


def test_a_taken_port_gives_a_clear_message(tmp_path: Path) -> None:
    settings = _private_settings(tmp_path / "stack", 29600)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 29600))
        squatter.listen()
        with pytest.raises(PortInUse, match=r"port 29600 .*ORDERREPO_STACK_OPENSEARCH_HTTP_PORT"):
            stack.up(settings)
    assert _our_processes(settings.stack.home) == []
