"""The ingest supervisor with real child processes: exit codes, stopping siblings, forwarding signals.

No servers; every child is `python -c` with a tiny script, so each test takes well under a second
of real work. Children record what happened to them in files under the test's tmp_path.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.supervisor import supervise

REPO_ROOT = Path(__file__).resolve().parents[2]

WRITES_AND_EXITS_0 = "import pathlib, sys; pathlib.Path(sys.argv[1]).write_text('ran')"

# Installs a SIGTERM handler, announces its pid, then sleeps far longer than any test waits.
SLEEPER = """
import os, pathlib, signal, sys, time
folder = pathlib.Path(sys.argv[1])
def stop(signum, _frame):
    (folder / "sleeper.stopped").write_text(signal.Signals(signum).name)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
(folder / "sleeper.pid").write_text(str(os.getpid()))
time.sleep(30)
"""

# Fails only once the sleeper is up, so the test knows there was a sibling to stop.
FAILS_WITH_3 = """
import pathlib, sys, time
pid_file = pathlib.Path(sys.argv[1]) / "sleeper.pid"
deadline = time.monotonic() + 10
while not pid_file.exists() and time.monotonic() < deadline:
    time.sleep(0.01)
sys.exit(3)
"""

# A worker stand-in: on SIGTERM/SIGINT it records the signal and exits 0, as a graceful worker does.
GRACEFUL_CHILD = """
import os, pathlib, signal, sys, time
folder, name = pathlib.Path(sys.argv[1]), sys.argv[2]
def stop(signum, _frame):
    (folder / f"{name}.stopped").write_text(signal.Signals(signum).name)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
(folder / f"{name}.ready").write_text(str(os.getpid()))
time.sleep(30)
"""

# Runs supervise() in its own process, so the test can signal it without signalling pytest.
SUPERVISOR_PROCESS = """
import sys
from ingest.supervisor import supervise
folder, child = sys.argv[1], sys.argv[2]
sys.exit(supervise([[sys.executable, "-c", child, folder, name] for name in ("a", "b")], poll_interval_s=0.05))
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_for(paths: list[Path], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not all(path.exists() for path in paths):
        assert time.monotonic() < deadline, f"never appeared: {[p.name for p in paths if not p.exists()]}"
        time.sleep(0.01)


def _catches_sigterm(pid: int) -> bool:
    """True once the process has its own SIGTERM handler (Linux /proc); elsewhere assume it has."""
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        return True
    caught = next(line for line in status.read_text().splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) & (1 << (signal.SIGTERM - 1)))


def test_returns_0_when_every_child_exits_0(tmp_path: Path) -> None:
    markers = [tmp_path / f"child-{i}" for i in range(3)]
    commands = [[sys.executable, "-c", WRITES_AND_EXITS_0, str(marker)] for marker in markers]

    assert supervise(commands, poll_interval_s=0.05) == 0
    assert [marker.read_text() for marker in markers] == ["ran"] * 3


def test_a_failing_child_stops_its_siblings_and_its_exit_code_is_returned(tmp_path: Path) -> None:
    commands = [[sys.executable, "-c", SLEEPER, str(tmp_path)], [sys.executable, "-c", FAILS_WITH_3, str(tmp_path)]]

    code = supervise(commands, poll_interval_s=0.05)

    assert code == 3
    assert not _alive(int((tmp_path / "sleeper.pid").read_text()))
    assert (tmp_path / "sleeper.stopped").read_text() == "SIGTERM", "siblings get SIGTERM first, not a kill"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_the_supervisor_reaches_every_child_and_a_graceful_stop_exits_0(
    tmp_path: Path, signum: signal.Signals
) -> None:
    ready = [tmp_path / "a.ready", tmp_path / "b.ready"]
    log = tmp_path / "supervisor.log"  # a file, not a pipe: the children inherit it and may outlive the parent
    with log.open("wb") as output:
        supervisor = subprocess.Popen([sys.executable, "-c", SUPERVISOR_PROCESS, str(tmp_path), GRACEFUL_CHILD],
                                      cwd=REPO_ROOT, stdout=output, stderr=output)
    try:
        _wait_for(ready, timeout_s=15)
        deadline = time.monotonic() + 5
        while not _catches_sigterm(supervisor.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        supervisor.send_signal(signum)
        try:
            supervisor.wait(timeout=30)
        except subprocess.TimeoutExpired:
            stopped = sorted(p.name for p in tmp_path.glob("*.stopped"))
            pytest.fail(f"supervisor still running 30 s after {signum.name}; children stopped: {stopped}; "
                        f"log: {log.read_text(errors='replace')[-2000:]}")
    finally:
        _end_leftovers(supervisor, ready)

    assert supervisor.returncode == 0, log.read_text(errors="replace")[-2000:]
    assert [(tmp_path / f"{name}.stopped").read_text() for name in ("a", "b")] == [signum.name] * 2


def _end_leftovers(supervisor: subprocess.Popen[bytes], ready: list[Path]) -> None:
    """If the test failed half-way, end the processes it started (by pid) instead of leaving them asleep."""
    if supervisor.poll() is None:
        supervisor.kill()
        supervisor.wait()
    for path in ready:
        if path.exists() and path.read_text() and _alive(pid := int(path.read_text())):
            os.kill(pid, signal.SIGKILL)


def test_a_child_killed_by_a_signal_is_reported_as_128_plus_the_signal(tmp_path: Path) -> None:
    killed = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    assert supervise([[sys.executable, "-c", killed]], poll_interval_s=0.05, grace_s=1) == 128 + signal.SIGKILL
