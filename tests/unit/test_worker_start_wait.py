"""A worker (re)started while the broker or the engine is away waits for them (found by the fault
drill: a worker restarted on a loaded machine was still starting when the broker restarted, and ended)."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.bus_records import BusUnavailable
from adapters.search_engine import EngineUnavailable
from orderrepo import bootstrap
from settings import Settings


def _outage(monkeypatch: pytest.MonkeyPatch, failures: list[Exception]) -> list[str]:
    calls: list[str] = []

    def prepare(settings: Settings, engine: Any) -> None:
        calls.append("prepare")
        if failures:
            raise failures.pop(0)

    monkeypatch.setattr(bootstrap, "prepare_storage", prepare)
    monkeypatch.setattr(bootstrap, "build_worker", lambda settings, engine, worker_index: f"worker {worker_index}")
    monkeypatch.setattr(bootstrap.time, "sleep", lambda seconds: calls.append(f"sleep {seconds:.1f}"))
    return calls


def test_a_broker_and_an_engine_away_at_start_are_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _outage(monkeypatch, [BusUnavailable("cannot reach Kafka"), EngineUnavailable(0, "refused")])
    waits: list[str] = []

    engine: Any = object()
    worker = bootstrap.start_worker(Settings(engine_start_wait_s=60), engine, worker_index=2, prepare=True,
                                    on_wait=lambda error, left: waits.append(type(error).__name__))

    assert worker == "worker 2"
    assert calls == ["prepare", "sleep 0.5", "prepare", "sleep 1.0", "prepare"]
    assert waits == ["BusUnavailable", "EngineUnavailable"]


def test_the_wait_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    _outage(monkeypatch, [BusUnavailable("cannot reach Kafka")])
    engine: Any = object()
    with pytest.raises(BusUnavailable):
        bootstrap.start_worker(Settings(engine_start_wait_s=0), engine, worker_index=0, prepare=True)
