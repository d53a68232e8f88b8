"""Tokens, cursors and query building of the API: pure, no servers."""

from __future__ import annotations

import base64
import time
from datetime import timedelta

import orjson

import pytest
from hypothesis import given
from hypothesis import strategies as st

from query_api import auth
from query_api.auth import Caller, InvalidToken, Role, issue_token, verify_token
from query_api.params import BadCursor, cursor_key, decode_cursor, encode_cursor
from query_api.queries import STORED_ONLY_FIELDS, history_query, reference_query, search_query
from query_api.read_port import OrderFilter, PageRequest, StoredOrder, Tier
from query_api.views import order_view

FIRST_PAGE = {"filters": OrderFilter(), "page": PageRequest(size=5)}

SECRET = "unit-test-secret-0123456789abcdef0123456789"


def test_tokens_round_trip_and_carry_the_customer_binding() -> None:
    token = issue_token(SECRET, subject="u1", role=Role.STOREFRONT, customer_keys=("email:a@x.com",))
    assert verify_token(SECRET, token) == Caller(subject="u1", role=Role.STOREFRONT, customer_keys=("email:a@x.com",))


@pytest.mark.parametrize("token", ["", "abc", "a.b.c"])
def test_garbage_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        verify_token(SECRET, token)


def test_expired_and_foreign_tokens_are_refused() -> None:
    expired = issue_token(SECRET, subject="u", role=Role.CSR, ttl=timedelta(seconds=-5))
    foreign = issue_token("another-secret-another-secret-another-secret", subject="u", role=Role.ADMIN)
    for token in (expired, foreign):
        with pytest.raises(InvalidToken):
            verify_token(SECRET, token)


def test_a_cached_token_is_refused_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    token = issue_token(SECRET, subject="u", role=Role.CSR, ttl=timedelta(minutes=5))
    assert verify_token(SECRET, token).role is Role.CSR  # now cached
    later = time.time() + 301
    monkeypatch.setattr(auth.time, "time", lambda: later)
    with pytest.raises(InvalidToken, match="expired"):
        verify_token(SECRET, token)


def test_storefront_queries_always_carry_the_customer_filter() -> None:
    caller = Caller(subject="u", role=Role.STOREFRONT, customer_keys=("email:a@x.com",))
    body = reference_query("web-1", caller)
    assert {"terms": {"identity_keys": ["email:a@x.com"]}} in body["query"]["bool"]["filter"]
    history = history_query(["email:b@x.com"], caller, **FIRST_PAGE)
    assert {"terms": {"identity_keys": ["email:a@x.com"]}} in history["query"]["bool"]["filter"]


KEY, SCOPE = cursor_key(SECRET), '["/customers/{customer_key}/orders",[["customer_key","email:a@x.com"]],[]]'
SORT_VALUES = st.lists(st.one_of(st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False, allow_infinity=False),
                                 st.text(max_size=20), st.none()), min_size=1, max_size=4)


@given(SORT_VALUES)
def test_cursors_round_trip_within_their_query_only(values: list) -> None:
    cursor = encode_cursor(values, key=KEY, scope=SCOPE)
    assert cursor is not None and decode_cursor(cursor, key=KEY, scope=SCOPE) == values
    with pytest.raises(BadCursor, match="not issued for this query"):
        decode_cursor(cursor, key=KEY, scope=SCOPE.replace("a@x.com", "b@x.com"))
    with pytest.raises(BadCursor, match="not issued for this query"):
        decode_cursor(cursor, key=cursor_key("another-secret-0123456789abcdef0123456"), scope=SCOPE)


@given(SORT_VALUES, SORT_VALUES)
def test_a_cursor_with_other_sort_values_and_the_old_mac_is_refused(values: list, forged: list) -> None:
    mac = orjson.loads(base64.urlsafe_b64decode(encode_cursor(values, key=KEY, scope=SCOPE) + "==="))[1]
    tampered = base64.urlsafe_b64encode(orjson.dumps([forged, mac])).decode()
    if orjson.dumps(forged) == orjson.dumps(values):  # the same bytes (0 and 0.0 are not)
        assert decode_cursor(tampered, key=KEY, scope=SCOPE) == values
    else:
        with pytest.raises(BadCursor):
            decode_cursor(tampered, key=KEY, scope=SCOPE)


@given(st.text(max_size=100))
def test_any_cursor_text_decodes_or_raises_bad_cursor(text: str) -> None:
    with pytest.raises(BadCursor):  # a forged MAC matches with probability 2**-128
        decode_cursor(text, key=KEY, scope=SCOPE)


def test_analysts_see_pseudonyms_not_identity() -> None:
    source = {"order_id": "o1", "customer": {"email": "a@x.com", "name": "Ana"}, "identity_keys": ["email:a@x.com"],
              "shipping_address": {"line1": "1 Main St"}, "stamps": {}}
    view = order_view(StoredOrder(source, Tier.HOT), Caller(subject="a", role=Role.ANALYST))
    assert view["customer"]["pseudonym"].startswith("p1_") and view["customer"]["email"] is None
    assert view["shipping_address"] is None and "stamps" not in view


@pytest.mark.parametrize("body", [
    reference_query("web-1", Caller(subject="c", role=Role.CSR)),
    history_query(["email:a@x.com"], Caller(subject="c", role=Role.CSR), **FIRST_PAGE),
    search_query("ana", Caller(subject="c", role=Role.CSR), **FIRST_PAGE),
], ids=["reference", "history", "search"])
def test_order_answers_exclude_only_the_stored_only_fields(body: dict) -> None:
    excluded = set(body["_source"]["excludes"])
    assert excluded == set(STORED_ONLY_FIELDS)
    assert not excluded & {"order_id", "lines", "customer", "identity_keys", "shipments", "status"}


def test_search_facets_come_with_the_first_page_only() -> None:
    csr = Caller(subject="c", role=Role.CSR)
    first = search_query("ana", csr, filters=OrderFilter(), page=PageRequest(size=5))
    later = search_query("ana", csr, filters=OrderFilter(), page=PageRequest(size=5, after=[3.2, "web-1"]))
    assert set(first["aggs"]) == {"channel", "status", "store"}
    assert "aggs" not in later and later["search_after"] == [3.2, "web-1"]
    assert later["query"] == first["query"] and later["sort"] == first["sort"]


def test_search_tolerates_typos_after_the_first_letter_only() -> None:
    body = search_query("adyeemi", Caller(subject="c", role=Role.CSR), **FIRST_PAGE)
    fuzzy = [c["match"]["search.text"] for c in body["query"]["bool"]["should"] if "search.text" in c.get("match", {})]
    assert fuzzy == [{"query": "adyeemi", "fuzziness": "AUTO", "prefix_length": 1, "operator": "and", "boost": 3}]
