"""Pre-resolved dependencies for the read routes: the same FastAPI routes, solved by a plan
compiled once per route instead of the generic per-request walk.

FastAPI's request handler re-derives, on every request, what it could know at start-up: for
each dependency of the tree it solves the sub-tree recursively, builds a cache key, inspects
each parameter's annotation (is it a sequence?), reads headers and cookies for every node and
creates a response placeholder. On the hot read routes that generic walk cost more CPU than
the route itself (about a millisecond for a customer's history, seven dependencies deep).

`LeanRoute` keeps everything the route declares (it is an `APIRoute`: the OpenAPI document,
response models, `responses`, tags and the dependency functions themselves are unchanged) and
only replaces how a request's arguments are found: the dependency tree is flattened at start-up
into steps in FastAPI's own order (sub-dependencies first, each called once per request), each
path or query parameter is validated by the field FastAPI built for it (the same pydantic
validator, so the same values and the same `RequestValidationError`, loc included), and the
route's `Response` is returned as it is. Guarantees:
- a route the plan cannot represent exactly (a body, header, cookie or sequence parameter, a
  generator or sync dependency, security scopes, `use_cache=False`, a route that does not
  return a `Response`) keeps FastAPI's own handler; so does every request while
  `app.dependency_overrides` is non-empty (tests' fakes are resolved the standard way);
- every dependency still runs for every request (auth, role checks, paging, cursor MACs):
  nothing is cached across requests here.
"""

from __future__ import annotations

import copy
import inspect
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import params
from fastapi import routing as fastapi_routing
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_typed_return_annotation
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

Handler = Callable[[Request], Awaitable[Response]]
_SEQUENCES = (list, tuple, set, frozenset, typing.Sequence, typing.AbstractSet)
_IMMUTABLE = frozenset({type(None), bool, int, float, str})  # defaults shared as they are (FastAPI copies each)


class _NotLean(Exception):
    """The route uses a feature the plan does not represent: FastAPI's own handler serves it."""


@dataclass(frozen=True)
class _Param:
    name: str
    alias: str
    loc: tuple[str, str]
    field: Any  # FastAPI's ModelField: its `validate` is the route's own validator
    from_path: bool

    def read(self, request: Request, values: dict[str, Any], errors: list[Any]) -> None:
        source = request.path_params if self.from_path else request.query_params
        raw = source.get(self.alias)
        if raw is None:
            if self.field.field_info.is_required():
                errors.append({"type": "missing", "loc": self.loc, "msg": "Field required", "input": None})
                return
            default = self.field.default
            values[self.name] = default if type(default) in _IMMUTABLE else copy.deepcopy(default)
            if not self.field.field_info.validate_default:
                return
            raw = values[self.name]
        value, problems = self.field.validate(raw, values, loc=self.loc)
        if problems:
            errors.extend(problems)
        else:
            values[self.name] = value


@dataclass(frozen=True)
class _Step:
    """One dependency (or the endpoint): what it is called with, where its result goes."""

    call: Callable[..., Awaitable[Any]]
    name: str | None
    needs: tuple[tuple[str | None, Callable[..., Any]], ...]  # (argument or None, the sub-dependency's call)
    parameters: tuple[_Param, ...]
    request_name: str | None


def _is_sequence(annotation: Any) -> bool:
    origins = {typing.get_origin(arg) or arg for arg in (annotation, *typing.get_args(annotation))}
    return any(isinstance(o, type) and issubclass(o, _SEQUENCES) and not issubclass(o, str | bytes) for o in origins)


def _param(field: Any) -> _Param:
    info = field.field_info
    if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel) or _is_sequence(info.annotation):
        raise _NotLean(f"parameter {field.name}")
    if info.validation_alias not in (None, field.alias):
        raise _NotLean(f"alias of {field.name}")
    return _Param(field.name, field.alias, (info.in_.value, field.alias), field, isinstance(info, params.Path))


def _is_async(call: Any) -> bool:
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(getattr(call, "__call__", None))


def _steps(dependant: Dependant, plan: list[_Step], seen: set[int]) -> None:
    """Depth-first, sub-dependencies before their dependant, each call once (FastAPI's order and cache)."""
    if (dependant.header_params or dependant.cookie_params or dependant.body_params or dependant.response_param_name
            or dependant.background_tasks_param_name or dependant.websocket_param_name
            or dependant.security_scopes_param_name
            or not dependant.use_cache or getattr(dependant, "concurrency", None) is not None
            or getattr(dependant, "own_oauth_scopes", None)
            or not _is_async(dependant.call)):
        raise _NotLean(f"dependency {dependant.call!r}")
    for sub in dependant.dependencies:
        if id(sub.call) not in seen:
            _steps(sub, plan, seen)
    seen.add(id(dependant.call))
    plan.append(_Step(dependant.call, dependant.name,  # type: ignore[arg-type]
                      tuple((sub.name, sub.call) for sub in dependant.dependencies),  # type: ignore[misc]
                      tuple(map(_param, [*dependant.path_params, *dependant.query_params])),
                      dependant.request_param_name or dependant.http_connection_param_name))


def compile_plan(dependant: Dependant) -> list[_Step]:
    """The steps that solve `dependant` (the endpoint last); `_NotLean` when they cannot be exact."""
    returns = get_typed_return_annotation(dependant.call)  # type: ignore[arg-type]
    if not (isinstance(returns, type) and issubclass(returns, Response)):
        raise _NotLean("the endpoint does not return a Response")
    plan: list[_Step] = []
    _steps(dependant, plan, set())
    return plan


async def run_plan(plan: list[_Step], request: Request) -> Response:
    """Each step's arguments from the request and earlier results; the endpoint's response."""
    results: dict[int, Any] = {}
    errors: list[Any] = []
    failed: set[int] = set()
    for step in plan:
        values = {name: results.get(id(call)) for name, call in step.needs if name is not None}
        before = len(errors)
        for parameter in step.parameters:
            parameter.read(request, values, errors)
        if len(errors) > before or any(id(call) in failed for _, call in step.needs):
            failed.add(id(step.call))  # like FastAPI: a dependant whose inputs failed is not called,
            continue  # the others still are (their refusals win), and every error is reported
        if step.request_name:
            values[step.request_name] = request
        results[id(step.call)] = await step.call(**values)
    if errors:
        raise RequestValidationError(errors)
    return results[id(plan[-1].call)]


class LeanRoute(APIRoute):
    """An `APIRoute` whose requests are solved by a compiled plan when it is exact (module docstring)."""

    def get_route_handler(self) -> Handler:
        standard = super().get_route_handler()
        route: Any = _effective(self)  # an included route: FastAPI builds its handler under its context
        if self.body_field is not None or not set(self.methods or ()) <= {"GET", "HEAD"}:
            return standard
        try:
            plan = compile_plan(route.dependant)
        except _NotLean:
            return standard
        overrides = route.dependency_overrides_provider

        async def lean(request: Request) -> Response:
            if overrides is not None and getattr(overrides, "dependency_overrides", None):
                return await standard(request)
            return await run_plan(plan, request)
        return lean


def _effective(route: APIRoute) -> Any:
    """The inclusion context FastAPI is building this route's handler for (its dependencies and
    overrides provider), or the route itself when it is not included through another router."""
    context_var = getattr(fastapi_routing, "_effective_route_context_var", None)
    context = context_var.get() if context_var is not None else None
    return context if context is not None and getattr(context, "original_route", None) is route else route
