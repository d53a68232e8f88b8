"""Liveness, readiness (engine reachable) and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from adapters.search_engine import EngineError
from query_api.deps import EngineDep
from query_api.errors import RETRY_AFTER_DOC, RETRY_AFTER_S
from query_api.lean_route import LeanRoute
from query_api.schemas import Health, Readiness

router = APIRouter(tags=["health"], route_class=LeanRoute)
RETRY = {"Retry-After": str(RETRY_AFTER_S)}


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses={503: {
    "model": Readiness, "description": "the engine is not reachable or not healthy",
    "headers": RETRY_AFTER_DOC, "content": {"application/json": {"example": {
        "status": "unavailable", "detail": "the search engine is not reachable (EngineUnavailable)"}}}}})
async def readyz(engine: EngineDep) -> JSONResponse:
    """200 when the engine answers green or yellow; else 503 with `Retry-After` (probes retry)."""
    try:
        status = (await engine.health())["status"]
    except EngineError as error:
        answer = Readiness(status="unavailable", detail=f"the search engine is not reachable ({type(error).__name__})")
        return JSONResponse(answer.model_dump(exclude_none=True), status_code=503, headers=RETRY)
    ready = status in ("green", "yellow")
    answer = Readiness(status=status, engine=engine.info.kind.value, version=engine.info.version,
                       detail=None if ready else f"engine health is {status}")
    return JSONResponse(answer.model_dump(exclude_none=True), status_code=200 if ready else 503,
                        headers=None if ready else RETRY)


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
