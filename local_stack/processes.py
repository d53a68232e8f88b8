"""Background server processes: start detached, remember by pid file, stop only our own.

A pid file alone is not proof of ownership (pids are reused), so every process we
start carries a marker system property naming the stack home, and `stop`
checks /proc/<pid>/cmdline for it before signalling anything.
"""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class PortInUse(RuntimeError):
    pass


@dataclass(frozen=True)
class ManagedProcess:
    name: str
    pid_file: Path
    log_file: Path
    marker: str

    def pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def is_running(self) -> bool:
        pid = self.pid()
        return pid is not None and _cmdline_has(pid, self.marker)

    def start(self, command: list[str], *, cwd: Path, env: dict[str, str] | None = None,
              user: str | None = None) -> int:
        """`user`: run as that account (its own group, no supplementary groups); we must be root."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        as_user: dict[str, Any] = {}
        if user is not None:
            as_user = {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}
        with open(self.log_file, "ab") as log:
            process = subprocess.Popen(
                command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, env={**os.environ, **(env or {})}, **as_user,
            )
        self.pid_file.write_text(str(process.pid))
        _wait_for_exec(process, self.marker)
        return process.pid

    def stop(self, timeout_s: float = 30.0) -> bool:
        """SIGTERM (graceful: the JVM shutdown hooks flush), SIGKILL after the timeout."""
        pid = self.pid()
        if pid is None or not _cmdline_has(pid, self.marker):
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)
        return True

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_file.exists():
            return ""
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])


def _wait_for_exec(process: subprocess.Popen[bytes], marker: str, timeout_s: float = 10.0) -> None:
    """Until exec() completes, /proc/<pid>/cmdline still shows the forking Python process."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None and not _cmdline_has(process.pid, marker):
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def _cmdline_has(pid: int, marker: str) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return marker in cmdline and _alive(pid)


def ensure_port_free(port: int, what: str, setting: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise PortInUse(
                f"port {port} ({what}) is already in use by another process; "
                f"stop it or choose another port with {setting}=<port>"
            ) from None
