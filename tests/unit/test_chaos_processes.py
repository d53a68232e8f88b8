"""The drill's process bookkeeping on real child processes: every end is recorded with its exit
status and log tail, an end the run did not cause is raised, and the soak's per-role figures."""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import pytest

from chaos.processes import Child, ChildDied, Fleet, rss_bytes
from chaos.soak import MinuteStats, percentile
from query_api.auth import Role

SLEEPER = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(600)"]


def _child(tmp_path: Path, name: str, script: str) -> Child:
    return Child(name, [], {}, tmp_path / f"{name}.log", program=[sys.executable, "-c", textwrap.dedent(script)])


def test_a_child_that_exits_on_its_own_is_raised_with_its_code_and_stderr(tmp_path: Path) -> None:
    child = _child(tmp_path, "worker-0", """
        import sys
        print("consuming", flush=True)
        sys.stderr.write("Traceback: broker gone\\n")
        sys.exit(3)""")
    fleet = Fleet([child])
    fleet.start()
    child.process.wait(30)  # type: ignore[union-attr]
    with pytest.raises(ChildDied) as died:
        fleet.sample()
    ended = died.value.ended
    assert (ended.name, ended.returncode, ended.how, ended.caused_by_us) == ("worker-0", 3, "exit code 3", False)
    assert ended.log_tail.splitlines() == ["consuming", "Traceback: broker gone"]
    assert "ON ITS OWN" in str(died.value) and "broker gone" in str(died.value)
    assert [(e["name"], e["how"], e["caused_by_us"]) for e in fleet.exits()] == [("worker-0", "exit code 3", False)]
    assert fleet.exits()[0]["log_tail"] == ended.log_tail


def test_a_fatal_signal_is_named_and_leaves_a_python_traceback(tmp_path: Path) -> None:
    child = _child(tmp_path, "worker-1", """
        import os, signal
        os.kill(os.getpid(), signal.SIGSEGV)""")
    child.start()
    child.process.wait(30)  # type: ignore[union-attr]
    ended = child.ended()
    assert ended is not None and (ended.how, ended.caused_by_us) == ("killed by SIGSEGV", False)
    assert "Fatal Python error: Segmentation fault" in ended.log_tail  # the fault handler is on in every child


def _until_loaded(child: Child) -> None:
    """A child sampled in the instant after its fork holds a few KB: wait until its interpreter is in memory."""
    deadline = time.monotonic() + 20
    while child.process is not None and rss_bytes(child.process.pid) < 2_000_000 and time.monotonic() < deadline:
        time.sleep(0.02)


def test_ends_the_run_caused_are_recorded_and_not_raised(tmp_path: Path) -> None:
    child = Child("worker-0", [], {}, tmp_path / "w.log", program=SLEEPER)
    fleet = Fleet([child])
    fleet.start()
    fleet.sample()
    child.kill_hard()
    fleet.check()
    child.start()
    _until_loaded(child)
    fleet.sample()
    fleet.stop()
    fleet.check()
    assert child.kills == 1
    assert [(e["how"], e["caused_by_us"]) for e in fleet.exits()] == [("killed by SIGKILL", True),
                                                                     ("killed by SIGTERM", True)]
    assert fleet.unexpected() == []
    assert set(fleet.memory()["worker-0"]) == {"peak_mb", "slope_mb_per_min", "samples"}
    assert fleet.memory()["worker-0"]["samples"] == 1, "the slope is over the current process only"
    assert fleet.memory()["worker-0"]["peak_mb"] > 0


def test_a_minute_reports_error_rate_and_p99_per_role() -> None:
    minute = MinuteStats(minute=0)
    for latency in range(1, 101):
        minute.add(Role.CSR, float(latency), failed=False)
    minute.add(Role.ANALYST, 500.0, failed=True)
    summary = minute.summary()
    assert (summary["requests"], summary["errors"], summary["error_rate"]) == (101, 1, round(1 / 101, 5))
    assert summary["roles"]["csr"] == {"requests": 100, "errors": 0, "error_rate": 0.0, "p50_ms": 50.0,
                                       "p99_ms": 99.0}
    assert summary["roles"]["analyst"]["p99_ms"] == 500.0 and summary["roles"]["analyst"]["error_rate"] == 1.0
    assert percentile([], 0.99) == 0.0
