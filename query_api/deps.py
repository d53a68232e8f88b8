"""Dependencies: the engine, index names, settings and the calling role arrive through these.

All are `async def` although none awaits: FastAPI runs a plain `def` dependency in its
thread pool, and those thread hops were a measurable part of every request's overhead.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from adapters.search_engine import AsyncSearchEngine
from index_templates import IndexNames
from settings import Settings
from query_api.auth import Caller, Role, verify_token

_bearer = HTTPBearer(auto_error=False, description="JWT from `orderrepo token --role <role>`")


async def get_engine(request: Request) -> AsyncSearchEngine:
    return request.app.state.engine


async def get_names(request: Request) -> IndexNames:
    return request.app.state.names


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    if credentials is None:
        raise HTTPException(401, "missing bearer token (Authorization: Bearer <token>)")
    return verify_token(request.app.state.token_secret, credentials.credentials)


def require(*roles: Role):  # type: ignore[no-untyped-def]
    async def check(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
        if caller.role not in roles:
            raise HTTPException(403, f"role {caller.role.value} may not call this; needs one of "
                                     f"{', '.join(r.value for r in roles)}")
        return caller
    return check


EngineDep = Annotated[AsyncSearchEngine, Depends(get_engine)]
NamesDep = Annotated[IndexNames, Depends(get_names)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
CallerDep = Annotated[Caller, Depends(get_caller)]
ReaderDep = Annotated[Caller, Depends(require(Role.STOREFRONT, Role.CSR, Role.ANALYST, Role.ADMIN))]
StaffDep = Annotated[Caller, Depends(require(Role.CSR, Role.ADMIN))]
AnalystDep = Annotated[Caller, Depends(require(Role.ANALYST, Role.ADMIN))]
