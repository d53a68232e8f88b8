"""Analysts never see direct identifiers: every endpoint an analyst token reaches, every field of
every answer (JSON walked to its leaves, Parquet exports read back cell by cell), over sample
traffic ingested by the real worker and served by the real API process.

The endpoints come from the API's OpenAPI document, so a new endpoint is walked without a change
here. The personal values come from the decoded source messages (`expected_orders`): every
customer's email, phone (compared as digit runs of 7 or more, so any formatting is caught), name,
customer id, loyalty id, card token, masked card, identity key, address lines and postal code.
The same values (and the tokens) must not appear in the API's own output either.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import polars as pl

from order_domain.model import Order, OrderStatus
from query_api.auth import Role
from tests.integration.api_server import running_api
from tests.integration.test_query_api import SECRET, DataSet, bearer, dataset  # noqa: F401 - shared data set
from tests.log_capture import personal_values_in
from tests.openapi_walk import Operation, operations

_DIGIT_RUN = re.compile(r"\d{7,}")
_PHONE_FORMATTING = re.compile(r"(?<=\d)[\s().+-]+(?=\d)")
MIN_LENGTH = 4  # shorter values (a two-letter name) would match anywhere


@dataclass
class PersonalData:
    """Every personal value of the source data, in the shapes a leak could take."""

    texts: set[str] = field(default_factory=set)  # found inside any value, case-insensitive
    exact: set[str] = field(default_factory=set)  # postal codes: only a whole value is a leak
    phones: set[str] = field(default_factory=set)  # digits only, with and without the country code
    places: set[tuple[str, str]] = field(default_factory=set)  # (postal code, city)

    @classmethod
    def of(cls, orders: dict[str, Order]) -> PersonalData:
        found = cls()
        for order in orders.values():
            who = order.customer
            found.texts |= {v for v in (who.email, who.name, who.customer_id, who.loyalty_id, who.card_token) if v}
            found.texts |= {key for key in order.identity_keys}
            found.phones |= {digits[-10:] for digits in ["".join(filter(str.isdigit, who.phone or ""))] if digits}
            found.texts |= {f"•••• {p.last4}" for p in order.payments if p.last4}
            address = order.shipping_address
            if address:
                found.texts |= {v for v in (address.name, address.line1, address.line2) if v}
                if address.postal_code:
                    found.exact.add(address.postal_code)
                    found.places.add((address.postal_code, address.city or ""))
        found.texts = {text.lower() for text in found.texts if len(text) >= MIN_LENGTH}
        found.phones = {phone for phone in found.phones if len(phone) >= 7}
        return found

    def leaks_in(self, value: str) -> list[str]:
        lowered = value.lower()
        leaks = [text for text in self.texts if text in lowered]
        if value in self.exact:
            leaks.append(value)
        runs = _DIGIT_RUN.findall(_PHONE_FORMATTING.sub("", value))
        leaks += [run for run in runs if any(run in phone or phone in run for phone in self.phones)]
        return leaks


@dataclass
class Walk:
    personal: PersonalData
    fields: set[tuple[str, str]] = field(default_factory=set)  # (endpoint, field path) checked
    values: int = 0
    leaks: list[str] = field(default_factory=list)

    def check(self, endpoint: str, path: str, value: Any) -> None:
        self.fields.add((endpoint, path))
        self.values += 1
        if isinstance(value, str):
            self.leaks += [f"{endpoint} {path} = {value!r} ({leak})" for leak in self.personal.leaks_in(value)]

    def walk(self, endpoint: str, node: Any, path: str = "") -> None:
        if isinstance(node, dict):
            strings = {v for v in node.values() if isinstance(v, str)}
            self.leaks += [f"{endpoint} {path} holds {place}" for place in self.personal.places
                           if set(place) <= strings]
            for key, value in node.items():
                self.walk(endpoint, value, f"{path}.{key}")
        elif isinstance(node, list):
            for item in node:
                self.walk(endpoint, item, f"{path}[]")
        else:
            self.check(endpoint, path or ".", node)

    def parquet(self, endpoint: str, content: bytes) -> int:
        frame = pl.read_parquet(io.BytesIO(content))
        for column in frame.columns:
            for cell in frame[column].to_list():
                self.walk(endpoint, cell if not isinstance(cell, list) else list(cell), f".{column}")
        return frame.height


def _orders_to_read(orders: dict[str, Order]) -> Iterator[str]:
    """Every order, by its global id and by each reference (so 300 answers are walked too)."""
    for order in sorted(orders.values(), key=lambda o: o.order_id):
        yield order.order_id
        yield from sorted({r.value for r in order.references})[:1]


def _requests(op: Operation, data: DataSet) -> Iterator[tuple[str, dict[str, str]]]:
    """The requests walked for one operation: every order for order routes, every status at a few
    instants for orders-in-state (every page), the operation's example otherwise."""
    if "{reference}" in op.template:
        at = max(o.updated_at or o.placed_at for o in data.orders.values() if o.placed_at).isoformat()
        for reference in _orders_to_read(data.orders):
            path = op.template.replace("{reference}", quote(reference, safe=""))
            yield path, ({"at": at} if "at" in op.query else {})
    elif op.template == "/analytics/orders-in-state":
        instants = sorted(o.placed_at for o in data.orders.values() if o.placed_at)
        for status in OrderStatus:
            for at in (instants[len(instants) // 2], instants[-1]):
                yield op.path, {**op.query, "status": status.value, "at": at.isoformat(), "size": "100"}
    else:
        yield op.path, op.query


def test_no_answer_to_an_analyst_carries_personal_data(dataset: DataSet) -> None:  # noqa: F811
    personal = PersonalData.of(dataset.orders)
    assert len(personal.texts) > 500 and len(personal.phones) > 100 and len(personal.exact) > 50
    spec = dataset.get("/openapi.json", {}).json()
    values = {"reference": next(iter(dataset.orders)), "customer_key": "email:someone@example.com", "q": "a",
              "status": "confirmed", "at": "2026-01-01T00:00:00Z"}
    walk, reached, refused, answers = Walk(personal), [], [], 0
    for op in operations(spec, values):
        for path, params in _requests(op, dataset):
            cursor: str | None = None
            while True:
                answer = dataset.get(path, dataset.analyst, **params, **({"cursor": cursor} if cursor else {}))
                if answer.status_code == 403:
                    refused.append(op.template)
                    break
                assert answer.status_code in (200, 300, 404), (path, answer.status_code, answer.text)
                answers += 1
                if op.binary:
                    assert walk.parquet(op.template, answer.content) > 0, op.template
                    break
                walk.walk(op.template, answer.json())
                cursor = answer.json().get("next_cursor") if answer.status_code == 200 else None
                if not cursor:
                    break
            if op.template in refused:
                break
        else:
            reached.append(op.template)
    assert walk.leaks == [], "\n".join(walk.leaks[:40])
    assert sorted(set(refused)) == ["/customers/{customer_key}/orders", "/search"]
    assert len(reached) == 10
    endpoints = {endpoint for endpoint, _ in walk.fields}
    assert endpoints == set(reached)
    print(f"\nPII walk: {len(reached)} analyst endpoints, {answers} answers, {len(walk.fields)} "
          f"(endpoint, field) pairs, {walk.values} values checked against {len(personal.texts)} texts, "
          f"{len(personal.phones)} phones, {len(personal.exact)} postal codes; refused: {sorted(set(refused))}")


def _personal_strings(orders: dict[str, Order]) -> set[str]:
    """Every personal value as the source wrote it, plus phones as bare digits."""
    values: set[str] = set()
    for order in orders.values():
        who, address = order.customer, order.shipping_address
        values |= {v for v in (who.email, who.name, who.phone, who.loyalty_id, who.card_token) if v}
        values |= {"".join(filter(str.isdigit, who.phone))[-10:]} if who.phone else set()
        values |= set(order.identity_keys)
        if address:
            values |= {v for v in (address.name, address.line1, address.line2) if v}
    return values


def test_the_api_logs_no_personal_data_and_no_token(dataset: DataSet, tmp_path: Path) -> None:  # noqa: F811
    """A second API process over the same data, at INFO, with requests from every role that put
    emails, phones and names in paths and queries; its whole output is grepped afterwards."""
    named = next(o for o in dataset.orders.values() if o.customer.email and o.customer.phone and o.customer.name)
    email_key = next(k for k in named.identity_keys if k.startswith("email:"))
    tokens = {"csr": bearer(Role.CSR), "analyst": bearer(Role.ANALYST), "admin": bearer(Role.ADMIN),
              "storefront": bearer(Role.STOREFRONT, (email_key,))}
    output = tmp_path / "api.log"
    with running_api(dataset.settings, SECRET, env={"ORDERREPO_LOG_LEVEL": "INFO"}, output=output) as base:
        for token in [*tokens.values(), {}, {"Authorization": f"Bearer {named.customer.email}"}]:
            for path, params in ((f"/customers/{email_key}/orders", {}), (f"/orders/{named.customer.email}", {}),
                                 (f"/orders/{named.order_id}/timeline", {}), ("/search", {"q": named.customer.email}),
                                 ("/search", {"q": named.customer.phone}), ("/search", {"q": named.customer.name}),
                                 ("/analytics/rates", {"store_id": email_key}), (f"/nowhere/{email_key}", {}),
                                 (f"/customers/{email_key}/orders", {"cursor": named.customer.email})):
                httpx.get(f"{base}{path}", params=params, headers=token, timeout=30)
    text = output.read_text()
    assert text.count("route=") >= 9 * 6 or text.count('"route"') >= 9 * 6, text[-2000:]  # access lines written
    secrets = [value.split()[-1] for value in tokens.values() for value in value.values()]
    assert personal_values_in(text, _personal_strings(dataset.orders) | set(secrets)) == []
