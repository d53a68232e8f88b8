"""The audit recorder's delivery rules, over a scripted engine: retried until stored, each entry once."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import orjson
from starlette.requests import Request

from adapters.search_engine import EngineUnavailable
from query_api.audit import AuditEntry, AuditRecorder, record_csr_read
from query_api.auth import Caller, Role


class ScriptedEngine:
    """Answers bulk requests from a script: an exception, or per-item statuses (others succeed)."""

    def __init__(self, script: list[Exception | dict[int, int]]) -> None:
        self.script = script
        self.bulks: list[list[str]] = []  # entry ids per bulk request
        self.stored: list[str] = []

    async def request(self, method: str, path: str, *, params: Any = None, body: Any = None) -> Any:
        if path != "/_bulk":
            return {"acknowledged": True}
        ids = [orjson.loads(line)["index"]["_id"] for line in body.splitlines()[::2]]
        self.bulks.append(ids)
        step = self.script.pop(0) if self.script else {}
        if isinstance(step, Exception):
            raise step
        statuses = [step.get(position, 201) for position in range(len(ids))]
        self.stored += [doc_id for doc_id, status in zip(ids, statuses, strict=True) if status == 201]
        return {"errors": any(s != 201 for s in statuses),
                "items": [{"index": {"_id": doc_id, "status": status}} for doc_id, status in zip(ids, statuses, strict=True)]}


def entries(count: int) -> list[AuditEntry]:
    return [AuditEntry(who=f"agent-{i}", role="csr", route="/orders/{reference}") for i in range(count)]


async def test_failed_writes_are_retried_and_only_refused_items_are_sent_again() -> None:
    engine = ScriptedEngine([EngineUnavailable(503, "away"), {1: 429, 2: 503, 3: 400}])
    recorder = AuditRecorder(engine, prefix="t", flush_s=0.01, batch=4)  # type: ignore[arg-type]
    await recorder.start()
    batch = entries(4)
    for entry in batch:
        await recorder.record(entry)
    while len(engine.bulks) < 3:
        await asyncio.sleep(0.01)
    await recorder.close()
    ids = [entry.entry_id for entry in batch]
    assert engine.bulks == [ids, ids, [ids[1], ids[2]]]  # the 400 is refused for good (logged), not retried
    assert sorted(engine.stored) == sorted([ids[0], ids[1], ids[2]])


async def test_close_sends_what_is_queued_and_in_flight() -> None:
    engine = ScriptedEngine([])
    recorder = AuditRecorder(engine, prefix="t", flush_s=3600, batch=1000)  # type: ignore[arg-type]
    await recorder.start()
    batch = entries(7)
    for entry in batch:
        await recorder.record(entry)
    await asyncio.sleep(0)  # the writer takes the first entries and waits for more
    await recorder.close()
    assert sorted(engine.stored) == sorted(entry.entry_id for entry in batch)


async def test_only_staff_reads_are_recorded() -> None:
    recorded: list[AuditEntry] = []

    class Collect:
        async def record(self, entry: AuditEntry) -> None:
            recorded.append(entry)

    app = SimpleNamespace(state=SimpleNamespace(audit=Collect()))
    request = Request({"type": "http", "app": app, "route": SimpleNamespace(path="/customers/{customer_key}/orders")})
    for role in Role:
        keys = ("email:a@x.com",) if role is Role.STOREFRONT else ()
        await record_csr_read(request, Caller(subject=role.value, role=role, customer_keys=keys),
                              customer_key="email:a@x.com", order_id="web-1")
    assert [(e.who, e.route, e.order_id) for e in recorded] == [
        ("csr", "/customers/{customer_key}/orders", "web-1"), ("admin", "/customers/{customer_key}/orders", "web-1")]
    assert all(e.customer and e.customer.startswith("p") and "a@x.com" not in e.customer for e in recorded)
