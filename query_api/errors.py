"""Every failure answers JSON `{"error", "detail"}` with a 4xx (or 503 when the engine is away).

A 503 carries `Retry-After` (the engine is retried on the next request: the API recovers by
itself once the engine is back). Engine errors are logged by status and error type only: an
engine's message may quote the query, and so a customer's email or phone.

One answer is not a failure but is not one order either: a reference carried by several
orders answers HTTP 300 with every match (`ReferenceMatches`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.search_engine import EngineError, EngineUnavailable
from settings.log_setup import get_logger
from query_api.auth import InvalidToken
from query_api.params import BadCursor, InstantOutOfRange
from query_api.read_port import StoredOrder
from query_api.schemas import ReferenceMatches
from query_api.views import reference_match

log = get_logger(__name__)
RETRY_AFTER_S = 5


class AmbiguousReference(Exception):
    """Several orders carry the reference: the caller must choose (never one arbitrary order)."""

    def __init__(self, reference: str, matches: list[StoredOrder]) -> None:
        super().__init__(f"{len(matches)} orders carry reference {reference!r}")
        self.answer = ReferenceMatches(reference=reference, matches=[reference_match(m) for m in matches])


ERROR_NAMES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
               413: "payload_too_large", 429: "too_many_requests"}


RETRY_AFTER_DOC = {"Retry-After": {"description": "seconds to wait before retrying",
                                 "schema": {"type": "integer", "minimum": 1}}}
# (error, detail) of one real answer per status, the published examples
EXAMPLES: dict[int, tuple[str, str, str]] = {
    400: ("bad_cursor", "cursor was not issued for this query: pass back the `next_cursor` of the previous page "
          "of the same query unchanged", "valid by the schema, refused on its meaning: page size over the "
          "configured maximum, a cursor not issued for this query, `placed_from` not before `placed_to`, an "
          "instant outside the years 1970-2200, a query the engine refuses"),
    401: ("unauthorized", "missing bearer token (Authorization: Bearer <token>)", "missing, invalid or expired token"),
    403: ("forbidden", "role analyst may not call this; needs one of csr, admin",
          "the token's role may not read this (or an analyst named a customer key)"),
    404: ("not_found", "no order found for reference 'web-1'", "no such order (or not this customer's)"),
    405: ("method_not_allowed", "Method Not Allowed", "only GET is served; `Allow` lists the methods"),
    422: ("invalid_request", "query.size: Input should be greater than or equal to 1", "a parameter is invalid"),
    503: ("engine_unavailable", f"the search engine is not reachable; retry in {RETRY_AFTER_S} s",
          "the search engine is away; retry after `Retry-After` seconds"),
}


def error_responses(model: type[BaseModel], *statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI answers of these error statuses: the error body, a real example, `Retry-After`
    on 503 and `Allow` on 405 (for `include_router(..., responses=...)` and route `responses`)."""
    answers: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        error, detail, description = EXAMPLES[status]
        answers[status] = {"model": model, "description": description,
                           "content": {"application/json": {"example": {"error": error, "detail": detail}}}}
        if status == 503:
            answers[status]["headers"] = RETRY_AFTER_DOC
        if status == 405:
            answers[status]["headers"] = {"Allow": {"description": "methods served", "schema": {"type": "string"}}}
    return answers


def _error(status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


def unavailable(error: str, detail: str) -> JSONResponse:
    """503 with `Retry-After`: the one answer for "the engine is away" (data routes and /readyz)."""
    return _error(503, error, detail, headers={"Retry-After": str(RETRY_AFTER_S)})


async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    return _error(422, "invalid_request", f"{where}: {first.get('msg', 'invalid input')}")


async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    name = ERROR_NAMES.get(exc.status_code, "bad_request")
    return _error(exc.status_code, name, str(exc.detail))  # a 405's `Allow` comes from query_api.security


async def _ambiguous(_: Request, exc: AmbiguousReference) -> JSONResponse:
    return JSONResponse(exc.answer.model_dump(mode="json"), status_code=300)


async def _token(_: Request, exc: InvalidToken) -> JSONResponse:
    return _error(401, "unauthorized", str(exc))


async def _cursor(_: Request, exc: BadCursor) -> JSONResponse:
    return _error(400, "bad_cursor", str(exc))


async def _instant(_: Request, exc: InstantOutOfRange) -> JSONResponse:
    return _error(400, "bad_instant", str(exc))


async def _away(_: Request, exc: EngineUnavailable) -> JSONResponse:
    log.warning("engine unreachable", error_type=type(exc).__name__)
    return unavailable("engine_unavailable", f"the search engine is not reachable; retry in {RETRY_AFTER_S} s")


async def _engine(_: Request, exc: EngineError) -> JSONResponse:
    # status and type only: the engine's message may quote query values (emails, phones, names)
    if 400 <= exc.status < 500:
        log.info("engine refused a query", status=exc.status, error_type=type(exc).__name__)
        return _error(400, "bad_query", "the query could not be run; check the parameters")
    log.error("engine error", status=exc.status, error_type=type(exc).__name__)
    return unavailable("engine_error", f"the search engine failed to answer; retry in {RETRY_AFTER_S} s")


# each handler takes its own exception type; Starlette dispatches by the exception's class
HANDLERS: dict[type[Exception], Callable[[Request, Any], Awaitable[JSONResponse]]] = {
    RequestValidationError: _invalid, StarletteHTTPException: _http, AmbiguousReference: _ambiguous,
    InvalidToken: _token, BadCursor: _cursor, InstantOutOfRange: _instant, EngineUnavailable: _away,
    EngineError: _engine,
}


def install_error_handlers(app: FastAPI) -> None:
    for exception, handler in HANDLERS.items():
        app.add_exception_handler(exception, handler)
