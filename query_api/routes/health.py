"""Liveness, readiness (engine reachable) and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from adapters.search_engine import EngineError
from query_api.deps import EngineDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(engine: EngineDep) -> JSONResponse:
    try:
        status = (await engine.health())["status"]
    except EngineError as error:
        return JSONResponse({"status": "unavailable", "detail": str(error)[:200]}, status_code=503)
    ready = status in ("green", "yellow")
    return JSONResponse({"status": status, "engine": engine.info.kind.value, "version": engine.info.version},
                        status_code=200 if ready else 503)


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
