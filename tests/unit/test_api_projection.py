"""The views' whitelist projections answer exactly what validating with the response models answered.

The oracle below is the former view code, which validated each answer with the pydantic response
models (`OrderOut`, `TimelineEntryOut`, ...); the projections must equal its JSON form for any stored
document, with unknown fields added at every level, and for every role.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from order_domain.model import (
    AwareDatetime,
    Channel,
    FulfillmentType,
    LineStatus,
    LinkRelation,
    OrderStatus,
    ReferenceKind,
)
from order_domain.significance import TIMELINE_RULES
from query_api.auth import Caller, Role
from query_api.projection import _instant_converter, instant, projection
from query_api.pseudonyms import pseudonym
from query_api.read_port import StoredOrder, Tier, TimelineHits
from query_api.schemas import (
    AddressOut,
    CustomerOut,
    FieldChange,
    OrderOut,
    PaymentSummary,
    Timeline,
    TimelineEntryOut,
)
from query_api.views import order_view, timeline_view
from tests.strategies import money, optional, small_ids

ROLES = [Caller(subject="s", role=Role.STOREFRONT, customer_keys=("email:a@x.com",)),
         Caller(subject="c", role=Role.CSR), Caller(subject="a", role=Role.ADMIN),
         Caller(subject="n", role=Role.ANALYST)]
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))])
SECRET_KEYS = ("card_token", "pan", "cvv")  # never declared by a response model


# ---- the oracle: the former views, validating with the response models -------------------------

def _amount(payments: list[dict[str, Any]], field: str) -> Decimal:
    return sum((Decimal(str(p[field])) for p in payments if p.get(field) is not None), Decimal(0))


def _summary(payments: list[dict[str, Any]]) -> PaymentSummary | None:
    if not payments:
        return None
    captured, refunded = _amount(payments, "captured"), _amount(payments, "refunded")
    return PaymentSummary(methods=sorted({p["method"] for p in payments if p.get("method")}),
                          cards=[f"{p.get('brand') or 'card'} •••• {p['last4']}"
                                 for p in payments if p.get("last4")],
                          authorized=_amount(payments, "authorized"), captured=captured, refunded=refunded,
                          net=captured - refunded)


def oracle_order(stored: StoredOrder, caller: Caller) -> dict[str, Any]:
    document = stored.document
    fields = {key: value for key, value in document.items() if key in OrderOut.model_fields}
    if caller.role is Role.ANALYST:
        fields.pop("shipping_address", None)
        fields.pop("payments", None)
        keys = document.get("identity_keys") or []
        customer = CustomerOut(pseudonym=pseudonym(keys[0]) if keys else None)
    else:
        fields["payment"] = _summary(document.get("payments") or [])
        known = document.get("customer") or {}
        customer = CustomerOut(**{f: known.get(f) for f in ("customer_id", "name", "email", "phone", "loyalty_id")})
    view = OrderOut.model_validate({**fields, "customer": customer, "tier": stored.tier})
    return view.model_dump(mode="json")


def oracle_change(path: str, value: Any, caller: Caller) -> FieldChange:
    change = FieldChange(path=path, category=TIMELINE_RULES.get(path, "other"))
    if caller.role is Role.ANALYST and path in {"identity_keys", "shipping_address"}:
        if path == "identity_keys":
            change.values = [pseudonym(str(key)) for key in value or []]
        return change
    if path.endswith("[]"):
        change.added = [str(item) for item in (value or {}).get("added", [])]
    elif "[]." in path:
        change.items = {str(k): v if v is None or isinstance(v, str | int | float) else str(v)
                        for k, v in (value or {}).items()}
    elif path == "shipping_address":
        change.address = AddressOut.model_validate(value) if value else None
    elif isinstance(value, list):
        change.values = [str(item) for item in value]
    else:
        change.value = value if value is None or isinstance(value, str | int | float) else str(value)
    return change


def oracle_timeline(hits: TimelineHits, caller: Caller) -> dict[str, Any]:
    entries = [TimelineEntryOut.model_validate({
        **{key: value for key, value in entry.items() if key in TimelineEntryOut.model_fields},
        "changes": [oracle_change(path, value, caller) for path, value in sorted((entry.get("changes") or {}).items())],
    }) for entry in hits.entries]
    return Timeline(order_id=hits.order_id, entries=entries, tier=hits.tier).model_dump(mode="json")


# ---- stored documents: the stored form plus unknown fields at every level ---------------------

json_values = (st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=4)
               | st.lists(st.integers(0, 3), max_size=2))
extras = st.dictionaries(st.sampled_from(["x_new", "internal", "score", *SECRET_KEYS]), json_values, max_size=3)


def instants(*, zones: st.SearchStrategy = ZONES) -> st.SearchStrategy[str]:
    """Instants as stored (`+00:00`), as pydantic writes them (`Z`), with other offsets and microseconds."""
    moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=zones)
    return st.builds(lambda moment, z: moment.isoformat().replace("+00:00", "Z" if z else "+00:00"), moments,
                     st.booleans())


@st.composite
def node(draw: st.DrawFn, fields: dict[str, st.SearchStrategy], *, forbid_extras: bool = False) -> dict[str, Any]:
    """A stored object: some of its declared fields, plus unknown ones. `forbid_extras`: the model refuses
    unknown fields, so the projection gets them and the oracle does not (under the key `__extras`)."""
    present = draw(st.lists(st.sampled_from(sorted(fields)), unique=True)) if fields else []
    body = {name: draw(fields[name]) for name in present}
    unknown = draw(extras)
    return {**body, "__extras": unknown} if forbid_extras else {**body, **unknown}


def money_text() -> st.SearchStrategy[str]:
    return money.map(str)


@st.composite
def stored_orders(draw: st.DrawFn) -> dict[str, Any]:
    address = node({"name": optional(st.just("Ana")), "line1": optional(st.just("1 Main St")),
                    "city": optional(st.just("Lyon")), "country": optional(st.just("FR"))})
    line = node({"sku": optional(st.just("SKU-1")), "quantity": optional(st.integers(0, 5)),
                 "unit_price": optional(money_text()), "status": optional(st.sampled_from(LineStatus)),
                 "fulfillment_type": optional(st.sampled_from(FulfillmentType))}).map(lambda d: {"line_id": "1", **d})
    shipment_line = node({"quantity": st.integers(0, 3)}, forbid_extras=True).map(
        lambda d: {"line_id": "1", "quantity": 1, **d})
    shipment = node({"carrier": optional(st.just("UPS")), "line_ids": optional(st.lists(small_ids, max_size=2)),
                     "lines": optional(st.lists(shipment_line, max_size=2)), "shipped_at": optional(instants()),
                     "delivered_at": optional(instants())}).map(lambda d: {"shipment_id": "1", **d})
    payment = node({"method": optional(st.just("card")), "brand": optional(st.just("visa")),
                    "last4": optional(st.just("4242")), "authorized": optional(money_text()),
                    "captured": optional(money_text()), "refunded": optional(money_text())}
                   ).map(lambda d: {"payment_id": "1", **d})
    reference = node({"kind": st.sampled_from(ReferenceKind), "value": st.just("#1")}).filter(lambda d: len(
        {"kind", "value"} & d.keys()) == 2)
    link = node({"return_id": optional(small_ids)}, forbid_extras=True).map(
        lambda d: {"order_id": "o-9", "relation": LinkRelation.REPLACED_BY.value, **d})
    fields = {
        "channel": optional(st.sampled_from(Channel)), "channels_seen": st.lists(st.sampled_from(Channel), max_size=2),
        "status": st.sampled_from(OrderStatus), "placed_at": optional(instants()), "updated_at": optional(instants()),
        "indexed_at": optional(instants()), "currency": optional(st.just("EUR")),
        "references": st.lists(reference, max_size=2),
        "customer": node({"email": optional(st.just("a@x.com")), "name": optional(st.just("Ana")),
                          "card_token": st.just("tok_1")}),
        "identity_keys": st.lists(st.sampled_from(["email:a@x.com", "phone:+1555"]), max_size=2),
        "shipping_address": optional(address), "lines": st.lists(line, max_size=2),
        "shipments": st.lists(shipment, max_size=2), "payments": st.lists(payment, max_size=2),
        "totals": node({"total": optional(money_text()), "tax": optional(money_text())}),
        "linked_orders": st.lists(link, max_size=1), "original_order_id": optional(st.just("o-8")),
    }
    return {"order_id": "o-1", **draw(node(fields))}


def without_forbidden_extras(value: Any) -> Any:
    """What the oracle may be given: the unknown fields of models that refuse them removed."""
    if isinstance(value, dict):
        return {k: without_forbidden_extras(v) for k, v in value.items() if k != "__extras"}
    return [without_forbidden_extras(v) for v in value] if isinstance(value, list) else value


def with_every_extra(value: Any) -> Any:
    """What is stored: the unknown fields of models that refuse them in place."""
    if isinstance(value, dict):
        body = {k: with_every_extra(v) for k, v in value.items() if k != "__extras"}
        return {**body, **value.get("__extras", {})}
    return [with_every_extra(v) for v in value] if isinstance(value, list) else value


def keys_anywhere(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_anywhere(v)}
    return {k for v in value for k in keys_anywhere(v)} if isinstance(value, list) else set()


def as_json(answer: dict[str, Any]) -> dict[str, Any]:
    return orjson.loads(orjson.dumps(answer))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(document=stored_orders(), tier=st.sampled_from(Tier), role=st.sampled_from(ROLES))
def test_order_views_equal_what_the_response_models_answered(document: dict, tier: Tier, role: Caller) -> None:
    answer = as_json(order_view(StoredOrder(with_every_extra(document), tier), role))
    assert answer == oracle_order(StoredOrder(without_forbidden_extras(document), tier), role)
    assert not keys_anywhere(answer) & {*SECRET_KEYS, "x_new", "internal", "score", "identity_keys", "stamps"}
    if role.role is Role.ANALYST:
        assert answer["shipping_address"] is None and answer["payments"] == [] and answer["payment"] is None
        assert {k for k, v in answer["customer"].items() if v is not None} <= {"pseudonym"}


@st.composite
def timeline_entries(draw: st.DrawFn) -> dict[str, Any]:
    address = node({"line1": optional(st.just("1 Main St")), "city": optional(st.just("Lyon"))})
    changes = st.fixed_dictionaries({}, optional={
        "status": st.sampled_from(OrderStatus), "lines[]": st.fixed_dictionaries({"added": st.lists(small_ids)}),
        "lines[].status": st.dictionaries(small_ids, optional(st.sampled_from(LineStatus))),
        "shipping_address": optional(address), "identity_keys": st.lists(st.just("email:a@x.com"), max_size=2),
        "original_order_id": optional(st.just("o-8")), "unknown_path": json_values,
    })
    fields = {"actor": optional(st.just("csr:1")), "status_before": optional(st.sampled_from(OrderStatus)),
              "status_after": optional(st.sampled_from(OrderStatus)), "store_id": optional(st.just("s-1")),
              "changes": changes}
    required = {"entry_id": "e1", "order_id": "o-1", "occurred_at": draw(instants()), "channel": "web",
                "source": "shopify", "kind": "updated", "categories": ["status_transition"]}
    return {**required, **draw(node(fields))}


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(entries=st.lists(timeline_entries(), max_size=3), tier=st.sampled_from(Tier), role=st.sampled_from(ROLES))
def test_timeline_views_equal_what_the_response_models_answered(entries: list, tier: Tier, role: Caller) -> None:
    stored = TimelineHits(order_id="o-1", entries=[with_every_extra(e) for e in entries], tier=tier)
    answer = as_json(timeline_view(stored, role))
    oracle = oracle_timeline(TimelineHits(order_id="o-1", entries=[without_forbidden_extras(e) for e in entries],
                                          tier=tier), role)
    assert answer == oracle
    assert not keys_anywhere(answer) & {*SECRET_KEYS, "x_new", "internal", "score", "event", "significant"}


def test_a_missing_required_field_fails_the_answer_as_validation_did() -> None:
    with pytest.raises(KeyError, match="OrderOut.order_id"):
        order_view(StoredOrder({"status": "pending"}, Tier.HOT), ROLES[1])


def test_a_stored_top_level_payment_never_reaches_an_analyst() -> None:
    """Stricter than the former view: a stored `payment` field is never copied, the view computes it."""
    stored = StoredOrder({"order_id": "o-1", "payment": {"cards": ["visa •••• 4242"]}}, Tier.HOT)
    assert order_view(stored, ROLES[3])["payment"] is None


def test_projections_are_compiled_once_per_model_and_hidden_set() -> None:
    assert projection(AddressOut) is projection(AddressOut)
    assert projection(OrderOut, frozenset({"tier"})) is not projection(OrderOut)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(document=stored_orders(), tier=st.sampled_from(Tier), role=st.sampled_from(ROLES))
def test_order_view_bytes_equal_the_response_models_bytes(document: dict, tier: Tier, role: Caller) -> None:
    """Byte for byte, key order included: the role views write what validating with the models wrote."""
    answer = orjson.dumps(order_view(StoredOrder(with_every_extra(document), tier), role))
    assert answer == orjson.dumps(oracle_order(StoredOrder(without_forbidden_extras(document), tier), role))


@settings(max_examples=500)
@given(moment=st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=ZONES),
       written=st.sampled_from(["isoformat", "z", "microseconds", "milliseconds"]), utc=st.booleans())
def test_instants_written_without_parsing_equal_the_parsed_ones(moment: datetime, written: str, utc: bool) -> None:
    """The slice that answers canonical UTC text equals parsing and writing it (any other text is parsed)."""
    text = {"isoformat": moment.isoformat(), "z": moment.isoformat().replace("+00:00", "Z"),
            "microseconds": moment.isoformat(timespec="microseconds"),
            "milliseconds": moment.isoformat(timespec="milliseconds")}[written]
    convert = _instant_converter(utc)
    assert convert(text) == instant(datetime.fromisoformat(text), utc=utc)
    model = TypeAdapter(AwareDatetime if utc else datetime)
    assert convert(text) == model.dump_python(model.validate_python(text), mode="json")
