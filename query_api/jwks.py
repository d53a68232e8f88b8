"""Signing keys of an OpenID Connect provider, from its JWKS URL (adapter: one HTTP GET now and then).

Guarantees: keys are fetched once and kept for `cache_s`; a token naming an unknown `kid` (the
provider rotated its keys) triggers a refetch, but at most one fetch per `min_refresh_s` whatever
the traffic, so forged `kid`s cannot turn the API into a flood against the provider. Concurrent
requests share one fetch. A failed fetch keeps the keys already known. Each key is usable only
under the one algorithm its type allows (RSA: RS256; EC P-256: ES256) and, when the JWK states
an `alg`, only under that one; keys marked for encryption (`use: enc`) are ignored. The URL
must be https (plain http is accepted on loopback only, for tests and local providers).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt

from settings.log_setup import get_logger

log = get_logger(__name__)

Fetcher = Callable[[str], Awaitable[dict[str, Any]]]
_ALGORITHM_OF = {("RSA", None): "RS256", ("EC", "P-256"): "ES256"}
_MAX_JWKS_BYTES = 256 * 1024
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class KeysUnavailable(Exception):
    """No usable key for the token's `kid` and algorithm (unknown, wrong type, or provider away)."""


async def fetch_jwks(url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=5.0, follow_redirects=False) as client:
        response = await client.get(url, headers={"accept": "application/json"})
        response.raise_for_status()
        if len(response.content) > _MAX_JWKS_BYTES:
            raise ValueError(f"JWKS larger than {_MAX_JWKS_BYTES} bytes")
        return response.json()


def usable_keys(document: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """kid -> (the one algorithm allowed, public key) for every signing key we can use."""
    keys: dict[str, tuple[str, Any]] = {}
    for jwk in document.get("keys") or []:
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str) or jwk.get("use", "sig") != "sig":
            continue
        algorithm = _ALGORITHM_OF.get((jwk.get("kty"), jwk.get("crv")))
        if algorithm is None or jwk.get("alg", algorithm) != algorithm:
            log.info("jwks key skipped", kid=jwk["kid"], kty=jwk.get("kty"), alg=jwk.get("alg"))
            continue
        try:
            keys[jwk["kid"]] = (algorithm, jwt.PyJWK(jwk, algorithm=algorithm).key)
        except jwt.PyJWTError as error:
            log.warning("jwks key unreadable", kid=jwk["kid"], error=str(error))
    return keys


class JwksKeys:
    """The provider's current keys, cached; see the module docstring for the refresh rules."""

    def __init__(self, url: str, *, cache_s: float = 3600.0, min_refresh_s: float = 30.0,
                 fetch: Fetcher = fetch_jwks, clock: Callable[[], float] = time.monotonic) -> None:
        parts = urlsplit(url)
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOOPBACK):
            raise ValueError(f"the JWKS URL must use https (plain http only on loopback): {url}")
        self.url = url
        self._cache_s, self._min_refresh_s = cache_s, min_refresh_s
        self._fetch, self._clock = fetch, clock
        self._keys: dict[str, tuple[str, Any]] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._tried_at: float | None = None  # last attempt, successful or not
        self._lock = asyncio.Lock()
        self.fetches = 0  # attempts made, for metrics and tests

    async def key(self, kid: str, algorithm: str) -> Any:
        """The public key for `kid`, if it exists and is allowed under `algorithm`."""
        if self._fetched_at is None or self._clock() - self._fetched_at >= self._cache_s or kid not in self._keys:
            await self._refresh()
        found = self._keys.get(kid)
        if found is None:
            raise KeysUnavailable(f"unknown signing key {kid[:64]!r}")
        allowed, key = found
        if allowed != algorithm:
            raise KeysUnavailable(f"key {kid[:64]!r} is not usable with {algorithm}")
        return key

    async def _refresh(self) -> None:
        async with self._lock:
            if self._tried_at is not None and self._clock() - self._tried_at < self._min_refresh_s:
                return  # fetched a moment ago (perhaps by the request we waited for)
            self._tried_at = self._clock()
            self.fetches += 1
            try:
                document = await self._fetch(self.url)
                keys = usable_keys(document if isinstance(document, dict) else {})
            except (httpx.HTTPError, ValueError) as error:
                log.warning("jwks fetch failed; keeping the keys known", url=self.url, error=str(error)[:200])
                return
            self._keys, self._fetched_at = keys, self._clock()
            log.info("jwks fetched", url=self.url, keys=len(keys))
