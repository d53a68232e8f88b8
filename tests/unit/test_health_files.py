"""Health files of several ingest worker processes, and `ingest health` reading all of them: no servers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from orderrepo.bootstrap import health_file, health_files
from settings import Settings, StackSettings

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_worker_0_keeps_the_single_process_name_and_the_others_are_numbered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERREPO_INGEST_PROCESSES", "3")
    settings = Settings(consumer_group="shop-ingest", stack=StackSettings(home=tmp_path))

    run = tmp_path / "run"
    assert health_files(settings) == [
        run / "ingest-shop-ingest.health.json",
        run / "ingest-shop-ingest-1.health.json",
        run / "ingest-shop-ingest-2.health.json",
    ]
    assert health_file(settings) == health_file(settings, 0) == run / "ingest-shop-ingest.health.json"


def _write_fresh_health(path: Path, records: int) -> None:
    now = time.time()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps({"records": records, "lag": 0, "last_poll_at": now, "last_progress_at": now}))


def _ingest_health(home: Path, processes: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ORDERREPO_STACK_HOME": str(home), "ORDERREPO_CONSUMER_GROUP": "shop-ingest",
           "ORDERREPO_INGEST_PROCESSES": str(processes), "COLUMNS": "500"}  # rich must not wrap paths
    return subprocess.run([sys.executable, "-m", "orderrepo.cli", "ingest", "health"], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60)


def test_ingest_health_fails_when_any_one_worker_has_no_health_file(tmp_path: Path) -> None:
    settings = Settings(consumer_group="shop-ingest", ingest_processes=2, stack=StackSettings(home=tmp_path))
    for worker, path in enumerate(health_files(settings)):
        _write_fresh_health(path, records=10 + worker)

    both_present = _ingest_health(tmp_path, processes=2)
    third_missing = _ingest_health(tmp_path, processes=3)

    assert both_present.returncode == 0, both_present.stderr
    assert "10 records" in both_present.stderr and "11 records" in both_present.stderr
    assert third_missing.returncode == 1, third_missing.stderr
    assert "ingest-shop-ingest-2.health.json" in third_missing.stderr
