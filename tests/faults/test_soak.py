"""One minute of mixed ingest and API traffic from all three roles: no errors, the lag drains
once traffic stops (bounded), memory reported per process (the 30-minute run is
`orderrepo chaos --soak 30m`, which reports the lag per minute and the memory slope)."""

from __future__ import annotations

from pathlib import Path

from chaos.drill import lag
from chaos.soak import Soak
from ingest.topics import TopicMap
from settings import Settings


def test_a_minute_of_mixed_load_has_no_errors_and_bounded_lag(drill: Settings, tmp_path: Path) -> None:
    report = Soak(settings=drill, workdir=tmp_path, seconds=60, rate=30, clients=4).run()
    print(f"soak: {report.messages} messages ({report.messages / 60:.1f}/s) in {report.seconds:.0f}s; "
          f"minutes {report.minutes}; memory {report.memory}")
    assert report.failure is None, report.failure
    assert report.messages > 0  # as many as the machine allows at 30/s: the rate is reported, not asserted
    assert report.requests > 0
    assert {role for minute in report.minutes for role in minute["roles"]} == {"storefront", "csr", "analyst"}
    assert report.errors == 0
    assert report.drained_s is not None, f"the worker never caught up: {report.minutes}"
    assert lag(drill, TopicMap.from_settings(drill)) == 0
    assert set(report.memory) == {"worker", "api"} and all(m["peak_mb"] > 0 for m in report.memory.values())
    assert [(end["name"], end["caused_by_us"]) for end in report.exits] == [("worker", True), ("api", True)]
