"""The console's pages, vendored assets and the operator's reading of worker health files."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from query_api.app import create_app
from query_api.console import assets, ops
from settings import Settings


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(Settings(api_token_secret="unit-secret-unit-secret-unit-secret-0123")))


@pytest.mark.parametrize("screen", ["", "csr", "my-orders", "analyst", "operator"])
def test_every_screen_is_a_page_with_its_own_script_and_no_data(client: TestClient, screen: str) -> None:
    page = client.get(f"/console/{screen}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    script = {"": "home", "my-orders": "my_orders"}.get(screen, screen)
    assert f'src="/console/static/app/js/{script}.js"' in page.text
    assert "https://" not in page.text and "http://" not in page.text  # nothing from a CDN
    assert client.get(f"/console/static/app/js/{script}.js").status_code == 200


def test_unknown_screens_and_unlisted_files_are_not_served(client: TestClient) -> None:
    assert client.get("/console/nope").status_code == 404
    assert client.get("/console/static/vendor/package.json").status_code == 404
    assert client.get("/console/static/app/../assets.py").status_code == 404
    assert client.get("/console", follow_redirects=False).headers["location"] == "/console/"


def test_the_analyst_page_says_how_to_install_missing_chart_assets(client: TestClient, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(assets.VENDOR, "chart.umd.min.js", tmp_path / "absent.js")
    page = client.get("/console/analyst").text
    assert "Charts are unavailable" in page and "make setup" in page
    assert "/console/static/vendor/chart.umd.min.js" not in page
    assert client.get("/console/static/vendor/chart.umd.min.js").status_code == 404


def test_a_worker_health_file_becomes_an_operator_row(tmp_path: Path) -> None:
    now = time.time()
    path = tmp_path / "ingest-g.health.json"
    path.write_bytes(orjson.dumps({"records": 7887, "orders_written": 2167, "dead_lettered": 3, "lag": 12,
                                   "last_poll_at": now - 2, "last_progress_at": now - 5}))
    row = ops.read_worker(path, now=now)
    assert row == {"worker": "ingest-g", "state": "polling", "last_poll_s_ago": 2.0, "last_progress_s_ago": 5.0,
                   "lag": 12, "lag_by_channel": None, "records": 7887, "orders_written": 2167,
                   "dead_lettered": 3, "dead_letter_reasons": None}
    assert ops.read_worker(path, now=now + 120)["state"] == "stopped or stalled"
    path.write_text("{not json")
    assert ops.read_worker(path, now=now)["state"] == "unreadable"


def test_health_files_are_those_of_this_consumer_group(tmp_path: Path) -> None:
    settings = Settings(consumer_group="shop-ingest", stack={"home": tmp_path})
    run = tmp_path / "run"
    run.mkdir()
    for name in ("ingest-shop-ingest.health.json", "ingest-shop-ingest-1.health.json", "ingest-other.health.json",
                 "ingest-shop-ingest-eu.health.json"):
        (run / name).write_text("{}")
    assert [p.name for p in ops.worker_health_files(settings)] == [
        "ingest-shop-ingest-1.health.json", "ingest-shop-ingest.health.json"]
