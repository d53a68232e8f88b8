"""The shared-secret fast path accepts only what the full check accepts, with the same claims, and
leaves every other token to the full check (whose answer, and error text, is then the one given)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from query_api.auth import ALGORITHM, InvalidToken, TokenPolicy, TokenVerifier, decode_claims, shared_claims_fast

SECRET = "fast-path-secret-0123456789abcdef0123456789"
POLICY = TokenPolicy(issuer="orderrepo", audience="orderrepo-api", max_lifetime_s=3600, leeway_s=30)


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"sub": "shopper:1", "role": "storefront", "customer_keys": ["email:a@x.com"], "iss": POLICY.issuer,
            "aud": POLICY.audience, "iat": now - 5, "exp": now + 600}
    base.update(changes)
    return {name: value for name, value in base.items() if value is not None}


def token(payload: dict[str, Any], *, secret: str = SECRET, headers: dict[str, Any] | None = None) -> str:
    return jwt.encode(payload, secret, algorithm=ALGORITHM, headers=headers)


def test_a_plain_token_takes_the_fast_path_with_the_full_checks_claims() -> None:
    plain = token(claims())
    assert shared_claims_fast(plain, SECRET, POLICY) == decode_claims(plain, SECRET, ALGORITHM, POLICY)


ODD: list[Callable[[], str]] = [  # built when the test runs: times are relative to its clock
    lambda: token(claims(), secret="another-secret-0123456789abcdef0123456789"),  # forged
    lambda: token(claims(), headers={"kid": "k1"}),  # a header field the fast path does not judge
    lambda: token(claims(aud=[POLICY.audience, "other"])),  # the full check accepts a list; the fast path leaves it
    lambda: token(claims(nbf=int(time.time()) - 1)),
    lambda: token(claims(jti="j-1")),
    lambda: token(claims(iat=int(time.time()) + 10)),  # within the leeway: the full check's call
    lambda: token(claims(exp=int(time.time()) - 1)),
    lambda: token(claims(iat=float(int(time.time())))),
    lambda: token(claims(iss="someone-else")),
    lambda: token(claims(sub=None)),
    lambda: "not.a.token", lambda: "a.b", lambda: "",
]


@pytest.mark.parametrize("odd", ODD)
def test_anything_else_is_left_to_the_full_check(odd: Callable[[], str]) -> None:
    assert shared_claims_fast(odd(), SECRET, POLICY) is None


@pytest.mark.asyncio
async def test_refusals_keep_the_full_checks_words() -> None:
    verifier = TokenVerifier(secret=SECRET, shared=POLICY)
    expired = token(claims(iat=int(time.time()) - 120, exp=int(time.time()) - 60))
    with pytest.raises(InvalidToken, match="^invalid token: Signature has expired$"):
        await verifier.verify(expired)
    with pytest.raises(InvalidToken, match="^invalid token: Invalid issuer$"):
        await verifier.verify(token(claims(iss="someone-else")))
    assert (await verifier.verify(token(claims()))).subject == "shopper:1"
