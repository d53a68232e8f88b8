"""Caller identity from a signed bearer token (JWT, HS256).

Claims: `role` ∈ storefront | csr | analyst | admin; `sub` (who); for storefront
tokens `customer_keys`: the identity keys (e.g. "customer:shopify-42",
"email:ana@example.com") the token may read. Every storefront read is filtered
by those keys in the engine query itself, so no reference, however guessed, can
return another customer's order.

The signing secret comes from ORDERREPO_API_TOKEN_SECRET. Without it, a random
development secret is created once in the stack home (mode 0600) so `orderrepo
token` and the local API agree; production deployments must set the variable.
"""

from __future__ import annotations

import os
import secrets
import time
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

import jwt
from pydantic import BaseModel, ConfigDict

ALGORITHM = "HS256"


class Role(StrEnum):
    STOREFRONT = "storefront"
    CSR = "csr"
    ANALYST = "analyst"
    ADMIN = "admin"


class Caller(BaseModel):
    model_config = ConfigDict(frozen=True)  # one instance is shared by every request with the same token

    subject: str
    role: Role
    customer_keys: tuple[str, ...] = ()


class InvalidToken(ValueError):
    pass


def resolve_secret(configured: str | None, state_home: Path) -> str:
    if configured:
        return configured
    path = state_home / "dev-token-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def issue_token(secret: str, *, subject: str, role: Role, customer_keys: tuple[str, ...] = (),
                ttl: timedelta = timedelta(hours=8)) -> str:
    if role is Role.STOREFRONT and not customer_keys:
        raise ValueError("a storefront token must be bound to at least one customer key")
    now = datetime.now(UTC)
    claims = {"sub": subject, "role": role.value, "customer_keys": list(customer_keys),
              "iat": int(now.timestamp()), "exp": int((now + ttl).timestamp())}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: str) -> Caller:
    """Checked once per distinct token, then served from a cache until it expires:
    the signature check was the largest cost of an API request's dependencies."""
    caller, expires_at = _verified(secret, token)
    if time.time() >= expires_at:
        raise InvalidToken("invalid token: Signature has expired")
    return caller


@lru_cache(maxsize=8192)  # expired entries are refused above and age out of the cache
def _verified(secret: str, token: str) -> tuple[Caller, float]:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "role"]})
        caller = Caller(subject=str(claims["sub"]), role=Role(claims["role"]),
                        customer_keys=tuple(str(k) for k in claims.get("customer_keys") or ()))
        expires_at = float(claims["exp"])
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise InvalidToken(f"invalid token: {error}") from error
    if caller.role is Role.STOREFRONT and not caller.customer_keys:
        raise InvalidToken("invalid token: storefront token bound to no customer")
    return caller, expires_at
