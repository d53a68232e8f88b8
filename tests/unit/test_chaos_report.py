"""`orderrepo chaos` writes its report after each stage, also for a failed one, and prints it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from chaos.drill import DrillReport
from chaos.ground_truth import Verdict
from chaos.soak import SoakReport
from orderrepo import cli_chaos


def _soak(**overrides: object) -> SoakReport:
    minute = {"minute": 0, "requests": 10, "errors": 0, "error_rate": 0.0, "p50_ms": 5.0, "p99_ms": 9.0,
              "max_lag": 3, "roles": {"csr": {"requests": 10, "errors": 0, "error_rate": 0.0, "p50_ms": 5.0,
                                              "p99_ms": 9.0}}}
    fields: dict[str, object] = {"seconds": 60.0, "messages": 1800, "minutes": [minute], "drained_s": 2.0,
                                 "memory": {"worker": {"peak_mb": 150.0, "slope_mb_per_min": 0.1, "samples": 12}},
                                 "exits": [{"name": "worker", "pid": 1, "how": "exit code 0", "caused_by_us": True,
                                            "at_s": 61.0}]}
    return SoakReport(**{**fields, **overrides})  # type: ignore[arg-type]


def test_a_failed_drill_and_a_soak_are_saved_with_their_verdicts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cli_chaos, "console", Console(width=240))  # whatever the terminal's width
    drill = DrillReport(messages=10, failure="ChildDied: worker-0 ended ON ITS OWN: exit code 1",
                        verdict=Verdict(checked_orders=3, lost=[], doubled=[], regressed=[], unexpected=[]),
                        exits=[{"name": "worker-0", "pid": 7, "how": "exit code 1", "caused_by_us": False,
                                "at_s": 12.0, "log_tail": "KeyError"}])
    report = tmp_path / "report.json"

    cli_chaos._save(report, drill, _soak())
    cli_chaos._print(drill, _soak())

    saved = json.loads(report.read_text())
    assert saved["drill"]["ok"] is False and saved["drill"]["failure"].startswith("ChildDied")
    assert saved["drill"]["exits"][0]["log_tail"] == "KeyError"
    assert saved["drill"]["verdict"]["checked_orders"] == 3
    assert (saved["soak"]["ok"], saved["soak"]["requests"], saved["soak"]["errors"]) == (True, 10, 0)
    assert saved["soak"]["minutes"][0]["roles"]["csr"]["p99_ms"] == 9.0
    printed = capsys.readouterr().out
    assert "ON ITS OWN" in printed and "drill failed" in printed and "p99 csr ms" in printed


def test_a_soak_with_an_error_or_a_death_on_its_own_is_not_ok() -> None:
    assert _soak().ok
    assert not _soak(minutes=[{**_soak().minutes[0], "errors": 1}]).ok
    assert not _soak(exits=[{"name": "api", "pid": 2, "how": "exit code 3", "caused_by_us": False, "at_s": 5.0}]).ok
    assert not _soak(drained_s=None).ok
