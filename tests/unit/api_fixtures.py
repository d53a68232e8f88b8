"""Order documents, timeline entries and an app wired to the fake reader, for the API unit tests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from order_domain.model import OrderChange
from order_domain.significance import timeline_entry_id
from query_api.app import create_app
from query_api.audit import AuditEntry
from query_api.auth import Role, issue_token
from query_api.deps import get_reader
from query_api.read_port import OrderReader
from settings import Settings, StackSettings

SECRET = "unit-test-secret-0123456789abcdef0123456789"


def order(order_id: str, *, channel: str = "web", placed_at: str | None = "2026-03-01T10:00:00+00:00",
          refs: tuple[tuple[str, str], ...] = (), keys: tuple[str, ...] = ("email:ana@example.com",),
          status: str = "confirmed", **extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "order_id": order_id, "channel": channel, "channels_seen": [channel], "status": status,
        "store_id": extra.pop("store_id", None), "currency": "USD",
        "references": [{"kind": kind, "value": value} for kind, value in refs],
        "customer": {"email": next((k[6:] for k in keys if k.startswith("email:")), None), "name": "Ana Smith",
                     "card_token": "tok_secret_123"},
        "identity_keys": list(keys), "status_history": {status: placed_at} if placed_at else {},
        "lines": [{"line_id": "1", "sku": "SKU-RED-42", "quantity": 2, "unit_price": "10.00"}],
        "totals": {"total": "20.00"}, "stamps": {"status": {"event_id": "x"}}, **extra,
    }
    if placed_at:
        document["placed_at"] = placed_at
    return document


def entry(change: OrderChange, *, categories: tuple[str, ...], changes: dict[str, Any]) -> dict[str, Any]:
    return {"entry_id": timeline_entry_id(change.order_id, change.event_id), "order_id": change.order_id,
            "event_id": change.event_id, "occurred_at": change.occurred_at.isoformat(), "channel": change.channel.value,
            "source": change.source, "kind": change.kind.value, "actor": change.actor, "categories": list(categories),
            "status_after": change.status.value if change.status else None, "changes": changes,
            "event": change.model_dump(mode="json", exclude_none=True)}


def change(order_id: str, event_id: str, at: str, status: str, kind: str = "status_changed") -> OrderChange:
    return OrderChange(event_id=event_id, order_id=order_id, channel="web", source="test", kind=kind,
                       occurred_at=datetime.fromisoformat(at), status=status,
                       placed_at=datetime.fromisoformat("2026-03-01T10:00:00+00:00"))


class MemoryAudit:
    """Stands in for the audit recorder (which needs the engine): keeps the entries it is given."""

    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    async def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)


def app_over(reader: OrderReader, home: Path, *, standard: bool = False, **settings: Any) -> FastAPI:
    """The real app over `reader`, its audit entries in `app.state.audit.entries` (no lifespan:
    the app never connects to an engine). The reader is the app's own (`app.state.reader`, as the
    lifespan sets it), so requests take the routes' compiled plans (`query_api.lean_route`);
    `standard=True` puts it behind `app.dependency_overrides` instead, which has FastAPI's own
    handler solve every request (the lean plans' reference)."""
    unlimited = {"api_rate_per_token": 0, "api_rate_per_client": 0}  # rate limits have tests of their own
    app = create_app(Settings(_env_file=None, api_token_secret=SECRET, stack=StackSettings(home=home),
                              **{**unlimited, **settings}))
    app.state.reader = reader
    if standard:
        app.dependency_overrides[get_reader] = lambda: reader
    app.state.audit = MemoryAudit()
    return app


def bearer(role: Role, keys: tuple[str, ...] = ()) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, subject='t', role=role, customer_keys=keys)}"}


def client_over(reader: OrderReader, home: Path) -> TestClient:
    return TestClient(app_over(reader, home))
