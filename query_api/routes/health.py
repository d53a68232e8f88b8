"""Liveness, readiness (engine reachable) and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from adapters.search_engine import EngineError
from query_api.deps import EngineDep
from query_api.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(engine: EngineDep) -> JSONResponse:
    try:
        status = (await engine.health())["status"]
    except EngineError as error:
        answer = Readiness(status="unavailable", detail=str(error)[:200])
        return JSONResponse(answer.model_dump(exclude_none=True), status_code=503)
    ready = status in ("green", "yellow")
    answer = Readiness(status=status, engine=engine.info.kind.value, version=engine.info.version)
    return JSONResponse(answer.model_dump(exclude_none=True), status_code=200 if ready else 503)


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
