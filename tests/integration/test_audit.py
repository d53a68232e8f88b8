"""CSR audit on the real OpenSearch: entries recorded through a running app, listed, purged; and
through the real API process over ingested traffic: staff reads recorded, other roles' not."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from adapters.search_engine import SearchEngine
from orderrepo import cli_audit
from orderrepo.bootstrap import connect_async_engine
from orderrepo.cli import app as cli
from query_api.audit import AuditEntry, AuditRecorder, audit_index, list_audit, purge_audit, record_csr_read
from query_api.auth import Role, issue_token
from query_api.deps import AnyCaller
from query_api.pseudonyms import key_from_settings
from query_api.security import install_security
from settings import Settings, StackSettings
from tests.integration.test_query_api import SECRET as DATA_SECRET
from tests.integration.test_query_api import DataSet, dataset  # noqa: F401 - the shared ingested data set
from tests.integration.test_query_api import bearer as data_bearer

SECRET = "integration-secret-0123456789abcdef0123456789"
ANA, BOB = "email:ana@example.com", "loyalty:L-1182"


@pytest.fixture
def scoped(settings: Settings, engine: SearchEngine, unique_name: str, tmp_path: Path) -> Iterator[Settings]:
    """This test's own index prefix and secrets; its audit index and template removed afterwards."""
    yield settings.model_copy(update={"index_prefix": unique_name, "api_token_secret": SECRET,
                                      "api_pseudonym_secret": "pseudonym-secret-" * 3, "api_audit_flush_s": 0.2,
                                      "stack": StackSettings(home=tmp_path)})
    engine.delete_index(audit_index(unique_name))
    engine.request("DELETE", f"/_index_template/{audit_index(unique_name)}")


def audited_app(settings: Settings) -> FastAPI:
    """Two routes shaped like the real CSR reads, wired the way create_app wires the real ones."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = await connect_async_engine(settings)
        yield
        await app.state.engine.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/customers/{customer_key}/orders")
    async def history(customer_key: str, request: Request, caller: AnyCaller) -> dict:
        await record_csr_read(request, caller, customer_key=customer_key)
        return {"items": []}

    @app.get("/orders/{reference}")
    async def order(reference: str, request: Request, caller: AnyCaller) -> dict:
        await record_csr_read(request, caller, customer_key=ANA, order_id=f"web-{reference}")
        return {"order_id": f"web-{reference}"}

    install_security(app, settings)
    app.state.token_secret = SECRET  # deps.get_caller before the wiring; after it, install_security's verifier
    return app


def token(subject: str, role: Role) -> dict[str, str]:
    keys = (ANA,) if role is Role.STOREFRONT else ()
    return {"authorization": f"Bearer {issue_token(SECRET, subject=subject, role=role, customer_keys=keys)}"}


def stored(engine: SearchEngine, prefix: str) -> list[dict]:
    engine.refresh(audit_index(prefix))
    return sorted(list_audit(engine, prefix, limit=1000), key=lambda row: (row["who"], row["route"], row["customer"]))


def test_staff_reads_are_recorded_with_pseudonyms_and_route_templates(scoped: Settings, engine: SearchEngine) -> None:
    with TestClient(audited_app(scoped)) as client:
        calls = [client.get(f"/customers/{ANA}/orders", headers=token("agent-1", Role.CSR)),
                 client.get(f"/customers/{BOB}/orders", headers=token("agent-1", Role.CSR)),
                 client.get("/orders/1042", headers=token("admin-9", Role.ADMIN)),
                 client.get("/orders/1042", headers=token("analyst-3", Role.ANALYST)),
                 client.get(f"/customers/{ANA}/orders", headers=token("shopper", Role.STOREFRONT))]
        assert [call.status_code for call in calls] == [200] * 5
    # leaving the client stopped the app: the recorder flushed its queue before the engine closed
    key = key_from_settings(scoped)
    rows = stored(engine, scoped.index_prefix)
    assert [{k: v for k, v in row.items() if k != "at"} for row in rows] == sorted([
        {"who": "admin-9", "role": "admin", "route": "/orders/{reference}", "customer": key.pseudonym(ANA),
         "order_id": "web-1042"},
        {"who": "agent-1", "role": "csr", "route": "/customers/{customer_key}/orders",
         "customer": key.pseudonym(ANA), "order_id": None},
        {"who": "agent-1", "role": "csr", "route": "/customers/{customer_key}/orders",
         "customer": key.pseudonym(BOB), "order_id": None},
    ], key=lambda row: (row["who"], row["route"], row["customer"]))
    assert all(datetime.fromisoformat(row["at"]) > datetime.now(UTC) - timedelta(minutes=5) for row in rows)
    assert ANA not in str(rows) and "ana@example.com" not in str(rows)


async def test_a_full_batch_leaves_without_waiting_for_the_flush_interval(scoped: Settings,
                                                                          engine: SearchEngine) -> None:
    async_engine = await connect_async_engine(scoped)
    recorder = AuditRecorder(async_engine, prefix=scoped.index_prefix, flush_s=3600, batch=5)
    await recorder.start()
    try:
        for i in range(5):
            await recorder.record(AuditEntry(who=f"agent-{i}", role="csr", route="/orders/{reference}"))
        deadline = time.monotonic() + 60  # far below the hour-long interval: only the batch size sent them
        while time.monotonic() < deadline and (not engine.index_exists(audit_index(scoped.index_prefix))
                                               or len(stored(engine, scoped.index_prefix)) < 5):
            await asyncio.sleep(0.2)  # the writer runs on this loop
        assert sorted(row["who"] for row in stored(engine, scoped.index_prefix)) == [f"agent-{i}" for i in range(5)]
    finally:
        await recorder.close()
        await async_engine.close()


async def test_purge_keeps_exactly_the_retention_window(scoped: Settings, engine: SearchEngine) -> None:
    now = datetime.now(UTC)
    ages = {"fresh": 1, "month": 29, "old": 31, "older": 400}
    async_engine = await connect_async_engine(scoped)
    recorder = AuditRecorder(async_engine, prefix=scoped.index_prefix)
    await recorder.start()
    for who, days in ages.items():
        await recorder.record(AuditEntry(who=who, role="csr", route="/orders/{reference}",
                                         at=(now - timedelta(days=days)).isoformat()))
    await recorder.close()
    await async_engine.close()
    engine.refresh(audit_index(scoped.index_prefix))
    assert purge_audit(engine, scoped.index_prefix, retention_days=30, now=now) == 2
    assert sorted(row["who"] for row in stored(engine, scoped.index_prefix)) == ["fresh", "month"]
    assert purge_audit(engine, scoped.index_prefix, retention_days=30, now=now) == 0


def test_cli_lists_a_customers_entries_by_key(scoped: Settings, engine: SearchEngine,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    with TestClient(audited_app(scoped)) as client:
        client.get(f"/customers/{ANA}/orders", headers=token("agent-1", Role.CSR))
        client.get(f"/customers/{BOB}/orders", headers=token("agent-2", Role.CSR))
        client.get("/orders/77", headers=token("agent-3", Role.CSR))
    engine.refresh(audit_index(scoped.index_prefix))
    monkeypatch.setattr(cli_audit, "get_settings", lambda: scoped)
    result = CliRunner().invoke(cli, ["audit", "list", "--customer", ANA], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "2 audit entries" in result.output and "agent-1" in result.output and "agent-3" in result.output
    assert "agent-2" not in result.output
    by_order = CliRunner().invoke(cli, ["audit", "list", "--order", "web-77"], env={"COLUMNS": "200"})
    assert "1 audit entries" in by_order.output and "agent-3" in by_order.output


def _wait_for_entries(engine: SearchEngine, prefix: str, count: int) -> list[dict]:
    """The API writes audit entries in the background (every `api_audit_flush_s`): wait for them."""
    deadline = time.monotonic() + 60
    while True:
        rows = stored(engine, prefix) if engine.index_exists(audit_index(prefix)) else []
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.3)


def test_the_real_api_audits_staff_reads_of_a_history_and_an_order_and_nothing_else(
        dataset: DataSet, engine: SearchEngine) -> None:  # noqa: F811
    order = max(dataset.orders.values(), key=lambda o: (len(o.identity_keys), o.order_id))
    key = order.identity_keys[0]
    agent = {"Authorization": f"Bearer {issue_token(DATA_SECRET, subject='agent-7', role=Role.CSR)}"}
    shopper = data_bearer(Role.STOREFRONT, (key,))
    for token in (dataset.analyst, shopper):  # neither is audited
        assert dataset.get(f"/orders/{order.order_id}", token).status_code == 200
        assert dataset.get(f"/orders/{order.order_id}/timeline", token).status_code == 200
    assert dataset.get(f"/customers/{key}/orders", shopper).status_code == 200
    shown = dataset.get(f"/orders/{order.order_id}", dataset.analyst).json()["customer"]["pseudonym"]
    assert dataset.get(f"/customers/{key}/orders", agent).status_code == 200
    assert dataset.get(f"/orders/{order.order_id}", agent).status_code == 200
    rows = _wait_for_entries(engine, dataset.settings.index_prefix, 2)
    assert [{k: v for k, v in row.items() if k != "at"} for row in rows] == [
        {"who": "agent-7", "role": "csr", "route": "/customers/{customer_key}/orders", "customer": shown,
         "order_id": None},
        {"who": "agent-7", "role": "csr", "route": "/orders/{reference}", "customer": shown,
         "order_id": order.order_id},
    ]
    assert key not in str(rows) and shown.startswith("p1_")
    engine.request("DELETE", f"/_index_template/{audit_index(dataset.settings.index_prefix)}")
