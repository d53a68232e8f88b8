"""Strict token validation: both modes, with keys generated here and a JWKS served on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from query_api.auth import (
    Caller, InvalidToken, Role, TokenPolicy, TokenVerifier, build_verifier, issue_token, verify_token,
)
from query_api.jwks import JwksKeys
from settings import Settings, StackSettings

SECRET = "unit-test-secret-0123456789abcdef0123456789"
ISSUER, AUDIENCE = "https://idp.example.test", "orderrepo-api"
SHARED = TokenPolicy(issuer="orderrepo", audience=AUDIENCE, max_lifetime_s=3600, leeway_s=0)
OIDC = TokenPolicy(issuer=ISSUER, audience=AUDIENCE, max_lifetime_s=3600, leeway_s=0)
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def public_jwk(private: Any, kid: str, **extra: str) -> dict[str, Any]:
    algorithm = jwt.algorithms.RSAAlgorithm if isinstance(private, rsa.RSAPrivateKey) else jwt.algorithms.ECAlgorithm
    return {**algorithm.to_jwk(private.public_key(), as_dict=True), "kid": kid, "use": "sig", **extra}


class JwksServer:
    """A JWKS endpoint on 127.0.0.1 whose key set the test changes; counts the GETs."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                outer.hits += 1
                body = json.dumps({"keys": outer.keys}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def jwks_server() -> Iterator[JwksServer]:
    server = JwksServer()
    yield server
    server.server.shutdown()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def oidc(jwks_server: JwksServer, clock: Clock) -> tuple[TokenVerifier, JwksKeys]:
    jwks_server.keys = [public_jwk(RSA_KEY, "rsa-1"), public_jwk(EC_KEY, "ec-1")]
    keys = JwksKeys(jwks_server.url, cache_s=600, min_refresh_s=30, clock=clock)
    return TokenVerifier(secret=SECRET, shared=SHARED, jwks=keys, oidc=OIDC), keys


def claims(*, iat_in: int = 0, exp_in: int = 600, **overrides: Any) -> dict[str, Any]:
    """Valid claims with `overrides` (None removes a claim); times relative to now, in seconds."""
    now = int(time.time())
    base = {"sub": "agent-7", "role": "csr", "iss": ISSUER, "aud": AUDIENCE, "iat": now + iat_in, "exp": now + exp_in}
    return {key: value for key, value in {**base, **overrides}.items() if value is not None}


def signed(private: Any, kid: str, algorithm: str, **overrides: Any) -> str:
    return jwt.encode(claims(**overrides), private, algorithm=algorithm, headers={"kid": kid})


def hand_made(header: dict[str, Any], payload: dict[str, Any], key: bytes) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    unsigned = f"{part(header)}.{part(payload)}"
    signature = base64.urlsafe_b64encode(hmac.new(key, unsigned.encode(), hashlib.sha256).digest()).rstrip(b"=")
    return f"{unsigned}.{signature.decode()}"


async def test_rs256_and_es256_tokens_from_the_jwks_are_accepted(oidc: tuple[TokenVerifier, JwksKeys]) -> None:
    verifier, keys = oidc
    rsa_caller = await verifier.verify(signed(RSA_KEY, "rsa-1", "RS256"))
    ec_caller = await verifier.verify(signed(EC_KEY, "ec-1", "ES256", role="storefront",
                                             customer_keys=["email:ana@example.com"], sub="shopper-1"))
    assert rsa_caller == Caller(subject="agent-7", role=Role.CSR)
    assert ec_caller == Caller(subject="shopper-1", role=Role.STOREFRONT, customer_keys=("email:ana@example.com",))
    assert keys.fetches == 1  # one fetch served both keys


async def test_shared_secret_tokens_still_verify_beside_oidc(oidc: tuple[TokenVerifier, JwksKeys]) -> None:
    verifier, _ = oidc
    token = issue_token(SECRET, subject="cli", role=Role.ADMIN, issuer="orderrepo", audience=AUDIENCE,
                        ttl=timedelta(minutes=10))
    assert await verifier.verify(token) == Caller(subject="cli", role=Role.ADMIN)


@pytest.mark.parametrize("missing", ["exp", "iat", "sub", "iss", "aud"])
async def test_each_registered_claim_is_required(oidc: tuple[TokenVerifier, JwksKeys], missing: str) -> None:
    with pytest.raises(InvalidToken, match=missing):
        await oidc[0].verify(signed(RSA_KEY, "rsa-1", "RS256", **{missing: None}))


@pytest.mark.parametrize(("overrides", "reason"), [
    ({"iss": "https://evil.example"}, "issuer"),
    ({"aud": "another-api"}, "(?i)audience"),
    ({"exp_in": -60}, "expired"),
    ({"iat_in": 300, "exp_in": 900}, "future|iat|not yet"),
    ({"exp_in": 3601}, "lifetime exceeds 3600"),
])
async def test_wrong_issuer_audience_times_and_lifetime_are_refused(
    oidc: tuple[TokenVerifier, JwksKeys], overrides: dict[str, Any], reason: str
) -> None:
    with pytest.raises(InvalidToken, match=reason):
        await oidc[0].verify(signed(RSA_KEY, "rsa-1", "RS256", **overrides))


async def test_the_longest_allowed_lifetime_is_accepted(oidc: tuple[TokenVerifier, JwksKeys]) -> None:
    assert (await oidc[0].verify(signed(RSA_KEY, "rsa-1", "RS256", exp_in=3600))).role is Role.CSR


@pytest.mark.parametrize(("overrides", "claim"), [
    ({"role": "storefront", "customer_keys": "email:ana@example.com"}, "customer_keys"),
    ({"role": "storefront", "customer_keys": ["email:ana@example.com", 42]}, "customer_keys.1"),
    ({"role": "root"}, "role"),
    ({"role": ["csr"]}, "role"),
    ({"sub": 42}, "(?i)sub"),
    ({"sub": ""}, "sub"),
    ({"exp": "4102444800"}, "exp|Expiration"),
    ({"role": "storefront", "customer_keys": []}, "bound to no customer"),
])
async def test_claim_types_are_checked_not_coerced(
    oidc: tuple[TokenVerifier, JwksKeys], overrides: dict[str, Any], claim: str
) -> None:
    with pytest.raises(InvalidToken, match=claim):
        await oidc[0].verify(signed(RSA_KEY, "rsa-1", "RS256", **overrides))


async def test_alg_none_is_refused(oidc: tuple[TokenVerifier, JwksKeys]) -> None:
    token = jwt.encode(claims(), None, algorithm="none", headers={"kid": "rsa-1"})
    with pytest.raises(InvalidToken, match="'none' not accepted"):
        await oidc[0].verify(token)


async def test_hs256_signed_with_the_public_key_is_refused(oidc: tuple[TokenVerifier, JwksKeys]) -> None:
    pem = RSA_KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    token = hand_made({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}, claims(iss="orderrepo"), pem)
    with pytest.raises(InvalidToken, match="Signature verification failed"):
        await oidc[0].verify(token)
    without_secret = TokenVerifier(secret=None, shared=SHARED, jwks=oidc[1], oidc=OIDC)
    with pytest.raises(InvalidToken, match="'HS256' not accepted"):
        await without_secret.verify(token)


async def test_a_key_is_usable_only_under_its_own_algorithm(oidc: tuple[TokenVerifier, JwksKeys],
                                                            jwks_server: JwksServer, clock: Clock) -> None:
    verifier, _ = oidc
    with pytest.raises(InvalidToken, match="not usable with ES256"):  # an ES256 header naming the RSA key
        await verifier.verify(hand_made({"alg": "ES256", "kid": "rsa-1"}, claims(), b"x"))
    jwks_server.keys = [public_jwk(EC_KEY, "ec-labelled-rs", alg="RS256"), public_jwk(RSA_KEY, "enc", use="enc")]
    clock.now += 31
    for kid, algorithm, private in (("ec-labelled-rs", "ES256", EC_KEY), ("enc", "RS256", RSA_KEY)):
        with pytest.raises(InvalidToken, match="unknown signing key"):
            await verifier.verify(signed(private, kid, algorithm))


async def test_unknown_kid_refetches_at_most_once_per_interval(
    oidc: tuple[TokenVerifier, JwksKeys], jwks_server: JwksServer, clock: Clock
) -> None:
    verifier, keys = oidc
    await verifier.verify(signed(RSA_KEY, "rsa-1", "RS256"))
    rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks_server.keys = [public_jwk(rotated, "rsa-2")]
    for _ in range(5):  # forged kids inside the interval: no fetch at all
        with pytest.raises(InvalidToken, match="unknown signing key"):
            await verifier.verify(signed(RSA_KEY, "forged", "RS256"))
    assert keys.fetches == 1
    clock.now += 30
    assert (await verifier.verify(signed(rotated, "rsa-2", "RS256"))).subject == "agent-7"
    assert keys.fetches == 2  # the provider's rotation was picked up by one refetch
    with pytest.raises(InvalidToken, match="unknown signing key"):  # its retired key is gone
        await verifier.verify(signed(RSA_KEY, "rsa-1", "RS256", sub="other"))


async def test_keys_are_refetched_when_the_cache_ages(oidc: tuple[TokenVerifier, JwksKeys], clock: Clock) -> None:
    verifier, keys = oidc
    await verifier.verify(signed(RSA_KEY, "rsa-1", "RS256"))
    clock.now += 599
    await verifier.verify(signed(RSA_KEY, "rsa-1", "RS256", sub="b"))
    assert keys.fetches == 1
    clock.now += 1
    await verifier.verify(signed(RSA_KEY, "rsa-1", "RS256", sub="c"))
    assert keys.fetches == 2


async def test_a_provider_that_is_away_means_401_not_a_crash(clock: Clock) -> None:
    keys = JwksKeys("http://127.0.0.1:9/jwks.json", cache_s=600, min_refresh_s=30, clock=clock)
    verifier = TokenVerifier(secret=None, shared=SHARED, jwks=keys, oidc=OIDC)
    with pytest.raises(InvalidToken, match="unknown signing key"):
        await verifier.verify(signed(RSA_KEY, "rsa-1", "RS256"))
    assert keys.fetches == 1


async def test_build_verifier_reads_the_settings(tmp_path: Path, jwks_server: JwksServer) -> None:
    jwks_server.keys = [public_jwk(EC_KEY, "ec-1")]
    settings = Settings(api_token_secret=SECRET, api_token_issuer="shop", api_token_audience="shop-api",
                        api_oidc_issuer=ISSUER, api_oidc_audience="oidc-api", api_oidc_jwks_url=jwks_server.url,
                        stack=StackSettings(home=tmp_path))
    verifier = build_verifier(settings)
    shared = issue_token(SECRET, subject="cli", role=Role.CSR, issuer="shop", audience="shop-api")
    assert (await verifier.verify(shared)).subject == "cli"
    assert (await verifier.verify(signed(EC_KEY, "ec-1", "ES256", aud="oidc-api"))).subject == "agent-7"
    with pytest.raises(InvalidToken, match="(?i)audience"):  # a default-audience CLI token is not for this API
        await verifier.verify(issue_token(SECRET, subject="cli", role=Role.CSR, issuer="shop"))


def test_legacy_verify_token_uses_the_default_issuer_and_audience() -> None:
    token = issue_token(SECRET, subject="u1", role=Role.ANALYST)
    assert verify_token(SECRET, token) == Caller(subject="u1", role=Role.ANALYST)
    stranger = jwt.encode(claims(iss="orderrepo", aud="elsewhere"), SECRET, algorithm="HS256")
    with pytest.raises(InvalidToken, match="(?i)audience"):
        verify_token(SECRET, stranger)


@pytest.mark.parametrize("url", ["http://idp.example.test/jwks.json", "ftp://127.0.0.1/jwks.json", "jwks.json"])
def test_keys_come_only_over_https_or_loopback(url: str) -> None:
    with pytest.raises(ValueError, match="https"):
        JwksKeys(url)
    assert JwksKeys("https://idp.example.test/jwks.json").url.startswith("https://")


def test_production_refuses_development_secrets_and_short_ones(tmp_path: Path) -> None:
    production = {"env": "production", "stack": StackSettings(home=tmp_path)}
    with pytest.raises(ValueError, match="ORDERREPO_API_TOKEN_SECRET must be set"):
        build_verifier(Settings(**production))
    with pytest.raises(ValueError, match="at least 32 characters"):
        Settings(api_token_secret="short", **production)
    assert list(tmp_path.iterdir()) == []  # no development secret was written
    assert build_verifier(Settings(api_token_secret=SECRET, **production)).verify_shared(
        issue_token(SECRET, subject="ok", role=Role.CSR)).subject == "ok"


async def test_oidc_only_deployments_accept_no_shared_secret_tokens(tmp_path: Path, jwks_server: JwksServer) -> None:
    jwks_server.keys = [public_jwk(RSA_KEY, "rsa-1")]
    verifier = build_verifier(Settings(api_oidc_issuer=ISSUER, api_oidc_jwks_url=jwks_server.url,
                                       env="production", stack=StackSettings(home=tmp_path)))
    assert (await verifier.verify(signed(RSA_KEY, "rsa-1", "RS256"))).subject == "agent-7"
    dev_secret_token = issue_token("any-secret-any-secret-any-secret-0", subject="x", role=Role.ADMIN)
    with pytest.raises(InvalidToken, match="'HS256' not accepted"):
        await verifier.verify(dev_secret_token)
