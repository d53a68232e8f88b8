"""Dependencies: the reader, the engine (readiness only), settings and the calling role arrive
through these `Annotated` aliases; tests replace `get_reader` with a fake via
`app.dependency_overrides`.

Analysts never query by customer key: a token of role analyst naming one (`email:`, `phone:`,
`loyalty:`, `customer:`, `card:`) in any path or query parameter is refused with 403 before any
read, and the customer history route is not theirs. Pseudonyms are keyed HMACs (not reversible,
not computable at ingest, where the secret is absent), so there is no pseudonym -> key lookup
either: per-customer analysis groups by the pseudonyms the answers and exports carry.

All are `async def` although none awaits: FastAPI runs a plain `def` dependency in its
thread pool, and those thread hops were a measurable part of every request's overhead.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from adapters.search_engine import AsyncSearchEngine
from settings import Settings
from query_api.auth import Caller, Role
from query_api.read_port import OrderReader

_bearer = HTTPBearer(auto_error=False, description="JWT from `orderrepo token --role <role>`")


async def get_engine(request: Request) -> AsyncSearchEngine:
    return request.app.state.engine


async def get_reader(request: Request) -> OrderReader:
    return request.app.state.reader


async def app_settings(request: Request) -> Settings:
    """The settings this app was created with (not the process-wide `settings.get_settings`)."""
    return request.app.state.settings


async def get_caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    return await verified_caller(request, credentials)


async def verified_caller(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Caller:
    """The caller a bearer token names (401 without one; `InvalidToken`, also 401, for a bad one)."""
    if credentials is None:
        raise HTTPException(401, "missing bearer token (Authorization: Bearer <token>)")
    return await request.app.state.token_verifier.verify(credentials.credentials)


# the kinds of identity key (order_domain's identity keys, plus card fingerprints)
RAW_KEY = re.compile(r"(?i)(?:^|[^a-z])(?:email|phone|loyalty|customer|card):")
RAW_KEY_REFUSAL = ("analysts may not query by customer key (email:, phone:, loyalty:, customer:, card:); "
                   "per-customer analysis uses pseudonyms: `customer.pseudonym` in answers and the `customer` "
                   "column of /export/orders.parquet")


def carries_raw_key(request: Request) -> bool:
    """Whether any path or query parameter value names a customer key."""
    values = [*request.path_params.values(), *(v for _, v in request.query_params.multi_items())]
    return any(RAW_KEY.search(str(value)) for value in values)


def require(*roles: Role) -> Callable[..., Awaitable[Caller]]:
    # the token is read here, not through `get_caller`: one dependency less to solve per request
    async def check(request: Request,
                    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Caller:
        caller = await verified_caller(request, credentials)
        if caller.role is Role.ANALYST and carries_raw_key(request):
            raise HTTPException(403, RAW_KEY_REFUSAL)
        if caller.role not in roles:
            raise HTTPException(403, f"role {caller.role.value} may not call this; needs one of "
                                     f"{', '.join(r.value for r in roles)}")
        return caller
    return check


CallerDep = Annotated[Caller, Depends(get_caller)]  # any valid token; routes check the role themselves
EngineDep = Annotated[AsyncSearchEngine, Depends(get_engine)]
ReaderDep = Annotated[OrderReader, Depends(get_reader)]
SettingsDep = Annotated[Settings, Depends(app_settings)]
AnyCaller = Annotated[Caller, Depends(require(Role.STOREFRONT, Role.CSR, Role.ANALYST, Role.ADMIN))]
HistoryCaller = Annotated[Caller, Depends(require(Role.STOREFRONT, Role.CSR, Role.ADMIN))]  # keyed by identity
StaffCaller = Annotated[Caller, Depends(require(Role.CSR, Role.ADMIN))]
AnalystCaller = Annotated[Caller, Depends(require(Role.ANALYST, Role.ADMIN))]
AnalyticsCaller = Annotated[Caller, Depends(require(Role.ANALYST, Role.CSR, Role.ADMIN))]
