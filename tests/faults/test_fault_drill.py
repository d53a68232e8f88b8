"""The fast fault drill on real servers (a CI gate): a multichannel stream survives a worker
killed twice, a group member killed for good, the engine and the broker restarted, the disk
full and a skewed channel clock, and the store ends equal to the independent ground truth.
A process that dies on its own fails the drill with its exit status and the tail of its log."""

from __future__ import annotations

from pathlib import Path

from chaos.drill import FAULTS, Drill
from settings import Settings


def test_every_order_once_and_current_after_every_fault(drill: Settings, tmp_path: Path) -> None:
    report = Drill(settings=drill, workdir=tmp_path, orders=200, rate=10.0).run()
    print(f"drill: {report.messages} messages in {report.seconds:.0f}s, faults {report.faults_injected}, "
          f"memory {report.memory}, catch-up {report.catch_up_s:.1f}s, resent {report.resent} "
          f"(publisher restarts {report.publisher_restarts}), "
          f"exits {report.exits}")
    assert report.failure is None, report.failure
    verdict = report.verdict
    assert verdict is not None
    assert verdict.checked_orders >= 200
    assert (verdict.lost, verdict.doubled, verdict.regressed, verdict.unexpected) == ([], [], [], [])
    assert report.dead_letters == report.expected_dead_letters == 0
    assert len(report.faults_injected) == len(FAULTS) + 1  # the worker is killed twice
    assert report.worker_kills == 3
    assert report.workers_alive_at_end == 1, "the surviving worker must not have crashed on any fault"
    assert [end for end in report.exits if not end["caused_by_us"]] == []
    down = report.api_while_engine_down
    assert down["readyz_status"] == 503 and down["readyz_retry_after"], down
