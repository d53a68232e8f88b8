"""Caller identity from a signed bearer token (JWT), checked strictly.

Two token modes, each with its own keys and its own pinned algorithm:
- shared secret (demo, `orderrepo token`): HS256 under ORDERREPO_API_TOKEN_SECRET. Without it a
  random development secret is created once in the stack home (mode 0600).
- OpenID Connect (production): RS256 or ES256 under the provider's keys, read from its JWKS URL
  (query_api/jwks.py), cached, refetched on an unknown `kid` at most once per interval.
A token's header names its algorithm; HS256 is checked only with the shared secret and RS256/ES256
only with a JWKS key of the matching type, so `none`, HS/RS confusion and a key used under another
algorithm are all refused.

Guarantees of every accepted token: `exp`, `iat`, `sub`, `iss` and `aud` present and right;
exp - iat within the configured lifetime; `role` one of the roles; `customer_keys` a list of
strings (a string is refused, never split into characters); a storefront token names at least one
customer key. Claims: `sub` (who), `role`, `customer_keys` (the identity keys a storefront token
may read; every storefront read is filtered by them inside the engine query).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import jwt
import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from query_api.jwks import JwksKeys, KeysUnavailable
from settings import Settings

ALGORITHM = "HS256"  # the shared-secret mode's one algorithm
PUBLIC_KEY_ALGORITHMS = ("RS256", "ES256")
DEFAULT_ISSUER = "orderrepo"
DEFAULT_AUDIENCE = "orderrepo-api"
_REQUIRED = ["exp", "iat", "sub", "iss", "aud"]
_CACHE_SIZE = 8192


class Role(StrEnum):
    STOREFRONT = "storefront"
    CSR = "csr"
    ANALYST = "analyst"
    ADMIN = "admin"


class Caller(BaseModel):
    model_config = ConfigDict(frozen=True)  # one instance is shared by every request with the same token

    subject: str
    role: Annotated[Role, Field(strict=False)]  # strict would want a Role instance; JSON has its value
    customer_keys: tuple[str, ...] = ()


class InvalidToken(ValueError):
    """Answered 401: the message says what was wrong, never echoes the token."""


class _Claims(BaseModel):
    """The claims we read, with their exact JSON types (strict: no coercion of any kind)."""

    model_config = ConfigDict(extra="ignore", strict=True)

    sub: Annotated[StrictStr, Field(min_length=1, max_length=256)]
    role: Annotated[Role, Field(strict=False)]  # strict would want a Role instance; JSON has its value
    customer_keys: Annotated[list[Annotated[StrictStr, Field(min_length=3, max_length=200)]],
                             Field(max_length=64)] = []
    iat: StrictInt
    exp: StrictInt


@dataclass(frozen=True)
class TokenPolicy:
    """What one token mode requires beyond a good signature."""

    issuer: str
    audience: str
    max_lifetime_s: int = 86_400
    leeway_s: int = 30


def resolve_secret(configured: str | None, state_home: Path, *, name: str = "dev-token-secret") -> str:
    """The configured secret, or a random one kept in the stack home (created once, mode 0600)."""
    if configured:
        return configured
    path = state_home / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def issue_token(secret: str, *, subject: str, role: Role, customer_keys: tuple[str, ...] = (),
                ttl: timedelta = timedelta(hours=8), issuer: str = DEFAULT_ISSUER,
                audience: str = DEFAULT_AUDIENCE) -> str:
    """A shared-secret (HS256) token, for the CLI, the demo and tests."""
    if role is Role.STOREFRONT and not customer_keys:
        raise ValueError("a storefront token must be bound to at least one customer key")
    now = datetime.now(UTC)
    claims = {"sub": subject, "role": role.value, "customer_keys": list(customer_keys), "iss": issuer,
              "aud": audience, "iat": int(now.timestamp()), "exp": int((now + ttl).timestamp())}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def caller_from_claims(claims: dict[str, Any], policy: TokenPolicy) -> tuple[Caller, float]:
    """Type-checks the claims a signature check let through; returns the caller and its expiry."""
    try:
        parsed = _Claims.model_validate(claims)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidToken(f"invalid token: claim {where}: {first['msg']}") from None
    if parsed.exp - parsed.iat > policy.max_lifetime_s:
        raise InvalidToken(f"invalid token: lifetime exceeds {policy.max_lifetime_s} s")
    if parsed.iat > time.time() + policy.leeway_s:
        raise InvalidToken("invalid token: issued in the future")
    if parsed.role is Role.STOREFRONT and not parsed.customer_keys:
        raise InvalidToken("invalid token: storefront token bound to no customer")
    caller = Caller(subject=parsed.sub, role=parsed.role, customer_keys=tuple(parsed.customer_keys))
    return caller, float(parsed.exp)


def decode_claims(token: str, key: Any, algorithm: str, policy: TokenPolicy) -> dict[str, Any]:
    """Signature, algorithm and the registered claims (exp, iat, nbf, iss, aud) in one pass."""
    try:
        return jwt.decode(token, key, algorithms=[algorithm], issuer=policy.issuer, audience=policy.audience,
                          leeway=policy.leeway_s, options={"require": _REQUIRED, "verify_iat": True})
    except jwt.PyJWTError as error:
        raise InvalidToken(f"invalid token: {error}") from None


class TokenVerifier:
    """Verifies bearer tokens of the configured modes; remembers good ones until they expire
    (the signature check was the largest cost of an API request's dependencies)."""

    def __init__(self, *, secret: str | None, shared: TokenPolicy, jwks: JwksKeys | None = None,
                 oidc: TokenPolicy | None = None) -> None:
        if jwks is not None and oidc is None:
            raise ValueError("OIDC keys need an OIDC policy (issuer and audience)")
        if secret is None and jwks is None:
            raise ValueError("no token mode configured: set a shared secret or a JWKS URL")
        self._secret, self._shared, self._jwks, self._oidc = secret, shared, jwks, oidc
        self._cache: OrderedDict[str, tuple[Caller, float]] = OrderedDict()

    async def verify(self, token: str) -> Caller:
        cached = self._cache.get(token)
        if cached is None:
            cached = self._remember(token, await self._check(token))
        return self._unexpired(token, cached)

    def verify_shared(self, token: str) -> Caller:
        """Synchronous, shared-secret tokens only (no key fetching involved)."""
        cached = self._cache.get(token)
        if cached is None:
            algorithm = _header(token).get("alg")
            if algorithm != ALGORITHM or self._secret is None:
                raise InvalidToken(f"invalid token: algorithm {algorithm!r} not accepted here")
            cached = self._remember(token, self._checked(token, self._secret, ALGORITHM, self._shared))
        return self._unexpired(token, cached)

    def _remember(self, token: str, verified: tuple[Caller, float]) -> tuple[Caller, float]:
        self._cache[token] = verified
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return verified

    def _unexpired(self, token: str, cached: tuple[Caller, float]) -> Caller:
        """`exp` is strict (the leeway only forgives an issuer clock running ahead: iat, nbf)."""
        caller, expires_at = cached
        if time.time() >= expires_at:
            self._cache.pop(token, None)
            raise InvalidToken("invalid token: Signature has expired")
        return caller

    @staticmethod
    def _checked(token: str, key: Any, algorithm: str, policy: TokenPolicy) -> tuple[Caller, float]:
        return caller_from_claims(decode_claims(token, key, algorithm, policy), policy)

    async def _check(self, token: str) -> tuple[Caller, float]:
        if self._secret is not None and (claims := shared_claims_fast(token, self._secret, self._shared)) is not None:
            return caller_from_claims(claims, self._shared)
        header = _header(token)
        algorithm = header.get("alg")
        if algorithm == ALGORITHM and self._secret is not None:
            return self._checked(token, self._secret, ALGORITHM, self._shared)
        if algorithm in PUBLIC_KEY_ALGORITHMS and self._jwks is not None and self._oidc is not None:
            kid = header.get("kid")
            if not isinstance(kid, str) or not kid:
                raise InvalidToken("invalid token: no key id (kid) in the header")
            try:
                key = await self._jwks.key(kid, algorithm)
            except KeysUnavailable as error:
                raise InvalidToken(f"invalid token: {error}") from None
            return self._checked(token, key, algorithm, self._oidc)
        raise InvalidToken(f"invalid token: algorithm {algorithm!r} not accepted")


_PLAIN_HEADERS = ({"alg": ALGORITHM, "typ": "JWT"}, {"alg": ALGORITHM})


def _segment(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def shared_claims_fast(token: str, secret: str, policy: TokenPolicy) -> dict[str, Any] | None:
    """The claims of a plain shared-secret token that the full check (`decode_claims`) accepts, in a
    fraction of its time (a new shopper's token on every request made it a large part of a read);
    None for anything else, which then takes the full check and gets its exact answer. Stricter than
    the full check, never looser: a header of exactly `alg` HS256 (and `typ` JWT), a good signature,
    the required claims with integer times, `iat` not ahead of our clock, `exp` still ahead, the
    issuer and the audience as plain strings equal to the policy's, and no `nbf` or `jti` to judge."""
    try:
        header, payload, signature = token.split(".")
        expected = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _segment(signature)) or orjson.loads(_segment(header)) \
                not in _PLAIN_HEADERS:
            return None
        claims = orjson.loads(_segment(payload))
    except (ValueError, orjson.JSONDecodeError):  # binascii.Error is a ValueError
        return None
    now = time.time()
    if not (isinstance(claims, dict) and all(type(claims.get(name)) is int for name in ("iat", "exp"))
            and claims["iat"] <= now < claims["exp"] and claims.get("iss") == policy.issuer
            and claims.get("aud") == policy.audience and type(claims.get("sub")) is str
            and "nbf" not in claims and "jti" not in claims):
        return None
    return claims


def _header(token: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise InvalidToken(f"invalid token: {error}") from None
    return header


def build_verifier(settings: Settings, *, jwks: JwksKeys | None = None) -> TokenVerifier:
    """The verifier the API uses. OIDC mode when a JWKS URL is configured; shared-secret mode when a
    secret is configured, or, with no OIDC and development secrets allowed, with the local one."""
    shared = TokenPolicy(issuer=settings.api_token_issuer, audience=settings.api_token_audience,
                         max_lifetime_s=settings.api_token_max_lifetime_s, leeway_s=settings.api_token_leeway_s)
    oidc = None
    if settings.api_oidc_jwks_url:
        if not settings.api_oidc_issuer:
            raise ValueError("ORDERREPO_API_OIDC_ISSUER must be set with ORDERREPO_API_OIDC_JWKS_URL")
        oidc = TokenPolicy(issuer=settings.api_oidc_issuer,
                           audience=settings.api_oidc_audience or settings.api_token_audience,
                           max_lifetime_s=settings.api_token_max_lifetime_s, leeway_s=settings.api_token_leeway_s)
        jwks = jwks or JwksKeys(settings.api_oidc_jwks_url, cache_s=settings.api_jwks_cache_s,
                                min_refresh_s=settings.api_jwks_min_refresh_s)
    secret = settings.api_token_secret
    if secret is None and oidc is None:
        secret = development_secret(settings, "dev-token-secret", variable="ORDERREPO_API_TOKEN_SECRET")
    return TokenVerifier(secret=secret, shared=shared, jwks=jwks if oidc else None, oidc=oidc)


def development_secret(settings: Settings, name: str, *, variable: str) -> str:
    """The local random secret, unless the deployment refuses development secrets."""
    if settings.env == "production":
        raise ValueError(f"{variable} must be set (ORDERREPO_ENV=production refuses development secrets)")
    return resolve_secret(None, settings.stack.home, name=name)


_DEFAULT_POLICY = TokenPolicy(issuer=DEFAULT_ISSUER, audience=DEFAULT_AUDIENCE)
_by_secret: dict[str, TokenVerifier] = {}


def verify_token(secret: str, token: str) -> Caller:
    """A shared-secret token under the default issuer, audience and lifetime (CLI, tests, bench);
    the API itself verifies through `build_verifier(settings)`."""
    verifier = _by_secret.get(secret)
    if verifier is None:
        verifier = _by_secret.setdefault(secret, TokenVerifier(secret=secret, shared=_DEFAULT_POLICY))
    return verifier.verify_shared(token)
