"""Operator status for the console (admin only): engine health, ingest workers, stored volume.

Read from what the API process can reach without Kafka (the API never loads a Kafka client):
- the engine: cluster health, and document count and bytes per index behind each alias;
- the ingest workers' health files (JSON the worker rewrites every few seconds in the stack
  home), which carry lag, throughput and dead-letter counts. Broker health itself is not
  visible from here and is reported as unknown, saying why.
Tiers: hot is counted on its indices (documents and bytes of orders and timelines: the
locator only learns of new hot orders at the next retention pass); warm and cold come from
`retention.report` (the locator's counts; bytes of the warm month indices and of the cold
Parquet parts, timelines included, so their timeline columns are empty).
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request

from adapters.search_engine import AsyncSearchEngine, EngineError
from index_templates import IndexNames
from query_api.auth import Role
from query_api.deps import EngineDep, require
from query_api.tier_wiring import TierServices
from settings import Settings

STALE_AFTER_S = 60.0
ADMIN_ONLY = Depends(require(Role.ADMIN))


def worker_health_files(settings: Settings) -> list[Path]:
    """Every health file of this deployment's consumer group on this host (one per worker process:
    `ingest-<group>.health.json`, then `ingest-<group>-<n>.health.json`), not those of other groups."""
    own = re.compile(rf"ingest-{re.escape(settings.consumer_group)}(-\d+)?\.health\.json")
    return sorted(path for path in (settings.stack.home / "run").glob("ingest-*.health.json")
                  if own.fullmatch(path.name))


def read_worker(path: Path, *, now: float) -> dict[str, Any]:
    """One worker's state from its health file; unreadable files are reported, not skipped."""
    try:
        stats = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as error:
        return {"worker": path.name, "state": "unreadable", "detail": str(error)[:200]}
    poll_age = now - float(stats.get("last_poll_at", 0))
    return {
        "worker": path.name.removesuffix(".health.json"),
        "state": "stopped or stalled" if poll_age > STALE_AFTER_S else "polling",
        "last_poll_s_ago": round(poll_age, 1),
        "last_progress_s_ago": round(now - float(stats.get("last_progress_at", 0)), 1),
        "lag": int(stats.get("lag", 0)),
        "lag_by_channel": stats.get("lag_by_channel"),
        "records": int(stats.get("records", 0)),
        "orders_written": int(stats.get("orders_written", 0)),
        "dead_lettered": int(stats.get("dead_lettered", 0)),
        "dead_letter_reasons": stats.get("dead_letter_reasons"),
    }


async def _engine_status(engine: AsyncSearchEngine) -> dict[str, Any]:
    try:
        health = await engine.health()
    except EngineError as error:
        return {"status": "unreachable", "detail": str(error)[:200]}
    return {"status": health["status"], "kind": engine.info.kind.value, "version": engine.info.version,
            "nodes": health.get("number_of_nodes"), "unassigned_shards": health.get("unassigned_shards")}


async def _volume(engine: AsyncSearchEngine, alias: str) -> dict[str, int | None]:
    """Top-level documents (a count query: index stats also count nested line documents) and bytes."""
    try:
        documents = await engine.count(alias, {"match_all": {}})
        stats = (await engine.request("GET", f"/{alias}/_stats/store"))["_all"]["primaries"]
    except (EngineError, KeyError):
        return {"documents": None, "bytes": None}
    return {"documents": documents, "bytes": stats["store"]["size_in_bytes"]}


def ops_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/console/api", tags=["console"])

    @router.get("/ops", dependencies=[ADMIN_ONLY])
    async def ops_status(engine: EngineDep, request: Request) -> dict[str, Any]:
        """Engine and ingest health, dead letters and stored volume per tier (admin)."""
        now = time.time()
        workers = [read_worker(path, now=now) for path in worker_health_files(settings)]
        return {
            "generated_at": now,
            "engine": await _engine_status(engine),
            "broker": {"status": "unknown",
                       "detail": "the API does not connect to Kafka; ingest health below is the workers' view"},
            "workers": workers,
            "tiers": await _tiers(engine, IndexNames(settings.index_prefix), request.app.state.tiers),
        }

    return router


async def _tiers(engine: AsyncSearchEngine, names: IndexNames, tiers: TierServices) -> list[dict[str, Any]]:
    """Hot from its indices (exact, and current before the locator learns of new orders); warm and
    cold from the retention report, in a worker thread (it uses the synchronous client)."""
    orders, events = await _volume(engine, names.orders), await _volume(engine, names.events)
    rows: list[dict[str, Any]] = [{"tier": "hot", "orders": orders["documents"], "order_bytes": orders["bytes"],
                                   "timeline_entries": events["documents"], "timeline_bytes": events["bytes"]}]
    try:
        archived = await asyncio.to_thread(tiers.report)
    except EngineError:
        archived = [{"tier": tier, "orders": None, "bytes": None} for tier in ("warm", "cold")]
    return rows + [{"tier": row["tier"], "orders": row["orders"], "order_bytes": row["bytes"],
                    "timeline_entries": None, "timeline_bytes": None} for row in archived if row["tier"] != "hot"]
