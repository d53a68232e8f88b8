"""The ingest worker's collector settings (orderrepo.bootstrap.tune_collector)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from orderrepo.bootstrap import tune_collector
from settings import Settings


@pytest.fixture
def restored_collector() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_a_threshold_freezes_start_up_objects_and_collects_less_often(restored_collector: None) -> None:
    gc.unfreeze()
    tune_collector(20_000)
    assert gc.get_threshold() == (20_000, 20, 20)
    assert gc.get_freeze_count() > 0


def test_zero_keeps_pythons_defaults(restored_collector: None) -> None:
    gc.unfreeze()
    before = gc.get_threshold()
    tune_collector(0)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_the_setting_defaults_to_the_measured_threshold_and_reads_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().ingest_gc_threshold == 20_000
    monkeypatch.setenv("ORDERREPO_INGEST_GC_THRESHOLD", "0")
    assert Settings().ingest_gc_threshold == 0
