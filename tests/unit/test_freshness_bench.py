"""The freshness bench's own honesty: how late its poller can see a marker, and the verdicts it prints."""

from __future__ import annotations

import pytest

from bench.freshness_bench import Markers, poll_granularity, print_checks


def test_the_poll_cycle_runs_from_one_search_start_to_the_next_answer() -> None:
    markers = Markers()
    markers.searches = [(10.0, 10.04), (10.06, 10.10), (10.12, 10.20)]

    assert poll_granularity(markers) == {"search_mean": pytest.approx(0.0533), "cycle_mean": pytest.approx(0.12),
                                         "cycle_p99": pytest.approx(0.14)}


def test_one_search_gives_no_cycle() -> None:
    markers = Markers()
    markers.searches = [(10.0, 10.04)]

    assert poll_granularity(markers) == {}


def test_each_target_level_is_printed_with_its_ratio_and_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    checks = print_checks([{"share_of_max": 0.5, "p99": 1.2}, {"share_of_max": 0.9, "p99": 3.0},
                           {"share_of_max": 0.25, "p99": 9.0}])

    assert [(check["ratio"], check["holds"]) for check in checks] == [(0.8, True), (1.2, False)]
    assert capsys.readouterr().out.splitlines() == [
        "PASS  freshness p99 ≤ 1.5 s at 50% load: 1.2 s (ratio 0.8)",
        "FAIL  freshness p99 ≤ 2.5 s at 90% load: 3.0 s (ratio 1.2)"]
