"""Analyst pseudonyms: keyed HMAC-SHA256 with a version prefix; rotation changes every one."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from query_api import pseudonyms
from query_api.auth import Caller, Role
from query_api.pseudonyms import PseudonymKey, configure_pseudonyms, key_from_settings, pseudonym
from query_api.read_port import StoredOrder, Tier
from query_api.views import order_view
from settings import Settings, StackSettings

KEY = "email:ana@example.com"


@pytest.fixture(autouse=True)
def restore_process_key() -> Iterator[None]:
    saved = list(pseudonyms._configured)
    yield
    pseudonyms._configured[:] = saved


def settings_with(home: Path, **values: object) -> Settings:
    return Settings(stack=StackSettings(home=home), **values)


def test_a_pseudonym_is_the_versioned_hmac_of_the_key(tmp_path: Path) -> None:
    key = key_from_settings(settings_with(tmp_path, api_pseudonym_secret="s3cret-" * 6, api_pseudonym_key_version=3))
    expected = hmac.new(("s3cret-" * 6).encode(), KEY.encode(), hashlib.sha256).hexdigest()[:32]
    assert key.pseudonym(KEY) == f"p3_{expected}"
    assert key.pseudonym(KEY) == key.pseudonym(KEY)  # stable: analysts can count and join per customer
    assert key.pseudonym(KEY) != key.pseudonym("email:bob@example.com")


def test_without_the_secret_a_dictionary_reverses_nothing() -> None:
    stored = PseudonymKey(secret=b"the-real-secret-kept-by-the-api", version=1).pseudonym(KEY)
    unkeyed = {hashlib.sha256(KEY.encode()).hexdigest()[:n] for n in (16, 32)}
    guessed = {PseudonymKey(secret=guess, version=1).pseudonym(KEY) for guess in (b"", b"secret", b"orderrepo")}
    assert stored[3:] not in unkeyed and stored not in guessed


def test_rotation_changes_every_pseudonym_and_its_prefix(tmp_path: Path) -> None:
    before = key_from_settings(settings_with(tmp_path, api_pseudonym_secret="a" * 40, api_pseudonym_key_version=1))
    after = key_from_settings(settings_with(tmp_path, api_pseudonym_secret="b" * 40, api_pseudonym_key_version=2))
    customers = [f"email:c{i}@example.com" for i in range(200)]
    old, new = {before.pseudonym(c) for c in customers}, {after.pseudonym(c) for c in customers}
    assert len(old) == len(new) == 200 and old.isdisjoint(new)
    assert all(re.fullmatch(r"p1_[0-9a-f]{32}", p) for p in old) and all(p.startswith("p2_") for p in new)


def test_without_a_configured_secret_a_private_development_secret_is_kept(tmp_path: Path) -> None:
    first = key_from_settings(settings_with(tmp_path))
    second = key_from_settings(settings_with(tmp_path))
    assert first == second and len(first.secret) >= 32
    assert (tmp_path / "dev-pseudonym-secret").stat().st_mode & 0o777 == 0o600


def test_configure_sets_the_key_the_analyst_views_use(tmp_path: Path) -> None:
    configure_pseudonyms(settings_with(tmp_path, api_pseudonym_secret="c" * 40, api_pseudonym_key_version=7))
    expected = PseudonymKey(secret=b"c" * 40, version=7).pseudonym(KEY)
    source = {"order_id": "o1", "identity_keys": [KEY], "customer": {"email": "ana@example.com"}}
    assert pseudonym(KEY) == expected
    view = order_view(StoredOrder(source, Tier.HOT), Caller(subject="a", role=Role.ANALYST))
    assert view["customer"]["pseudonym"] == expected
    assert {field: value for field, value in view["customer"].items() if value is not None} == {"pseudonym": expected}


def test_production_refuses_a_development_pseudonym_secret(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ORDERREPO_API_PSEUDONYM_SECRET must be set"):
        key_from_settings(settings_with(tmp_path, env="production"))
