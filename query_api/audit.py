"""CSR read audit: who read which customer's data, when, on which route (adapter + recorder).

Every staff read (csr, admin) of a customer's history or of an order becomes one entry in the
index `<prefix>-audit` (template index_templates/audit.json): `who` (token subject), `role`, `at`,
`route` (template, e.g. `/customers/{customer_key}/orders`), `customer` (the customer key's
pseudonym, never the key itself) and `order_id`. The routes that record: a customer's history
(the pseudonym of the key read), an order by reference, its timeline and as-of state (the order
id and its first key's pseudonym; a 300 answer records every match it lists), and search (who and
when only: the query text is often an email or a phone, so it is never stored).

Entries are written off the request path: the route hands them to an in-memory queue, a
background task sends them in bulk every `api_audit_flush_s` seconds or `api_audit_batch` entries. A failed write is retried with the
same document ids (no duplicates); only a full queue (engine away for long) makes reads wait,
so no read goes unrecorded while the API answers. Entries are kept `api_audit_retention_days`
(`purge_audit`, `orderrepo audit purge`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from fastapi import FastAPI, Request
from prometheus_client import Counter

from adapters.search_engine import AsyncSearchEngine, EngineError, NotFound, SearchEngine
from index_templates import load_template
from query_api.access_log import route_template
from query_api.auth import Caller, Role
from query_api.pseudonyms import pseudonym
from settings import Settings
from settings.log_setup import get_logger

log = get_logger(__name__)
AUDITED_ROLES = frozenset({Role.CSR, Role.ADMIN})
AUDIT_WRITTEN = Counter("orderrepo_api_audit_written_total", "CSR audit entries stored")
AUDIT_RETRIED = Counter("orderrepo_api_audit_retried_total", "CSR audit batches that failed and were retried")


def audit_index(prefix: str) -> str:
    return f"{prefix}-audit"


@dataclass(frozen=True)
class AuditEntry:
    who: str
    role: str
    route: str
    customer: str | None = None
    order_id: str | None = None
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="milliseconds"))
    entry_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def document(self) -> dict[str, Any]:
        """The stored entry (its id is the document id): every field a plain string or None, so a
        dict of them, not `dataclasses.asdict` and its deep copy of each value."""
        return {"who": self.who, "role": self.role, "route": self.route, "customer": self.customer,
                "order_id": self.order_id, "at": self.at}


def bulk_body(index: str, entries: list[AuditEntry]) -> str:
    lines: list[bytes] = []
    for entry in entries:
        lines += [orjson.dumps({"index": {"_index": index, "_id": entry.entry_id}}), orjson.dumps(entry.document())]
    return b"\n".join(lines).decode() + "\n"


class AuditRecorder:
    """Batches entries in memory and writes them in the background (see the module docstring)."""

    def __init__(self, engine: AsyncSearchEngine, *, prefix: str, flush_s: float = 1.0, batch: int = 500,
                 queue_size: int = 100_000) -> None:
        self.engine, self.prefix, self.index = engine, prefix, audit_index(prefix)
        self.flush_s, self.batch = flush_s, batch
        self._queue: asyncio.Queue[AuditEntry] = asyncio.Queue(maxsize=queue_size)
        self._task: asyncio.Task[None] | None = None
        self._in_flight: list[AuditEntry] = []  # taken off the queue, not yet stored

    async def start(self) -> None:
        template = load_template("audit.json", self.prefix)
        await self.engine.request("PUT", f"/_index_template/{self.index}", body=template)
        self._task = asyncio.create_task(self._run(), name="audit-writer")

    async def record(self, entry: AuditEntry) -> None:
        await self._queue.put(entry)  # waits only when the queue is full

    async def close(self) -> None:
        """Stop the writer after sending what is queued (one last attempt)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        pending = self._in_flight + self._drain(self._queue.qsize())
        self._in_flight = []
        if pending and not await self._write(pending):
            log.error("audit entries lost at shutdown", count=len(pending))

    async def _run(self) -> None:
        backoff = self.flush_s
        while True:
            await self._fill_batch()
            while not await self._write(self._in_flight):
                AUDIT_RETRIED.inc()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
            self._in_flight, backoff = [], self.flush_s

    async def _fill_batch(self) -> None:
        """Wait for one entry, then gather more for up to `flush_s` or until the batch is full."""
        batch = self._in_flight
        batch.append(await self._queue.get())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.flush_s
        while len(batch) < self.batch and (left := deadline - loop.time()) > 0:
            batch += self._drain(self.batch - len(batch))
            if len(batch) < self.batch:
                try:
                    async with asyncio.timeout(left):  # Queue.get loses no entry when cancelled
                        batch.append(await self._queue.get())
                except TimeoutError:
                    break

    def _drain(self, at_most: int) -> list[AuditEntry]:
        entries: list[AuditEntry] = []
        while len(entries) < at_most and not self._queue.empty():
            entries.append(self._queue.get_nowait())
        return entries

    async def _write(self, entries: list[AuditEntry]) -> bool:
        """True when every entry is stored (or refused for good, which is logged)."""
        try:
            answer = await self.engine.request("POST", "/_bulk", body=bulk_body(self.index, entries))
        except EngineError as error:
            log.warning("audit write failed; will retry", count=len(entries), error=str(error)[:200])
            return False
        items = [next(iter(item.values())) for item in answer.get("items", [])]
        statuses = {str(item.get("_id")): int(item.get("status", 500)) for item in items}
        refused = [status for status in statuses.values() if status >= 300 and not _transient(status)]
        AUDIT_WRITTEN.inc(sum(1 for status in statuses.values() if status < 300))
        if refused:
            first = next(item for item in items if int(item.get("status", 500)) == refused[0])
            log.error("audit entries refused by the engine", count=len(refused), error=str(first.get("error"))[:300])
        entries[:] = [entry for entry in entries if _transient(statuses.get(entry.entry_id, 503))]
        return not entries


def _transient(status: int) -> bool:
    return status == 429 or status >= 500


async def record_csr_read(request: Request, caller: Caller, *, customer_key: str | None = None,
                          order_id: str | None = None) -> None:
    """Record one staff read of personal data (no-op for other roles). Call after access is granted."""
    if caller.role not in AUDITED_ROLES:
        return
    entry = AuditEntry(who=caller.subject, role=caller.role.value, route=route_template(request.scope),
                       customer=pseudonym(customer_key) if customer_key else None, order_id=order_id)
    await request.app.state.audit.record(entry)


def install_audit(app: FastAPI, settings: Settings) -> None:
    """Run a recorder for the app's lifetime: started once the app's own start-up has connected
    the engine (`app.state.engine`), stopped (queue flushed) before the engine closes."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def with_audit(started: FastAPI) -> AsyncIterator[Any]:
        async with inner(started) as state:
            recorder = AuditRecorder(started.state.engine, prefix=settings.index_prefix,
                                     flush_s=settings.api_audit_flush_s, batch=settings.api_audit_batch,
                                     queue_size=settings.api_audit_queue)
            await recorder.start()
            started.state.audit = recorder
            try:
                yield state
            finally:
                await recorder.close()

    app.router.lifespan_context = with_audit


def list_audit(engine: SearchEngine, prefix: str, *, who: str | None = None, customers: tuple[str, ...] = (),
               order_id: str | None = None, since: datetime | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Newest first. `customers` are pseudonyms (compute them with query_api.pseudonyms)."""
    filters: list[dict[str, Any]] = []
    if who:
        filters.append({"term": {"who": who}})
    if customers:
        filters.append({"terms": {"customer": list(customers)}})
    if order_id:
        filters.append({"term": {"order_id": order_id}})
    if since:
        filters.append({"range": {"at": {"gte": since.isoformat()}}})
    body = {"size": limit, "query": {"bool": {"filter": filters}}, "sort": [{"at": "desc"}]}
    try:
        return [hit["_source"] for hit in engine.search(audit_index(prefix), body)["hits"]["hits"]]
    except NotFound:
        return []


def purge_audit(engine: SearchEngine, prefix: str, *, retention_days: int, now: datetime | None = None) -> int:
    """Delete entries older than the retention; returns how many went."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    query = {"query": {"range": {"at": {"lt": cutoff.isoformat()}}}}
    try:
        answer = engine.request("POST", f"/{audit_index(prefix)}/_delete_by_query", params={"refresh": "true"},
                                body=query)
    except NotFound:
        return 0
    return int(answer.get("deleted", 0))
