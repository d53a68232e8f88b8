"""The query API against the real stack, over orders ingested through Kafka.

One data set per module: sample multichannel traffic is published, ingested by the
real worker, and served by the real API process. Expectations come from merging
the clean traffic independently (`expected_orders`).
"""

from __future__ import annotations

import asyncio
import io
from urllib.parse import quote
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import httpx
import polars as pl
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings as hyp_settings
from hypothesis import strategies as st

from adapters.engine_settings import connect_async_engine
from adapters.search_engine import Feature, SearchEngine
from index_templates import IndexNames
from sample_traffic import expected_orders, generate
from order_domain.model import STATUS_RANK, Order, OrderStatus
from orderrepo.bootstrap import build_worker, prepare_storage
from settings import Settings
from query_api.auth import Caller, Role, issue_token
from query_api.engine_reader import EngineOrderReader
from query_api.read_port import OrderFilter, OrderReader, PageRequest
from tests.fakes.order_reader import FakeOrderReader
from tests.integration.api_server import running_api
from tests.integration.pipeline_harness import isolated_settings, publish, remove_everything
from tests.servers import skip_unless_built_with

SECRET = "integration-secret-integration-secret-0123"


@dataclass(frozen=True)
class DataSet:
    base: str
    orders: dict[str, Order]
    csr: dict[str, str]
    analyst: dict[str, str]
    settings: Settings

    def get(self, path: str, token: dict[str, str] | None = None, **params: object) -> httpx.Response:
        return httpx.get(f"{self.base}{path}", headers=token if token is not None else self.csr,
                         params=params, timeout=30)


def bearer(role: Role, keys: tuple[str, ...] = ()) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, subject='t', role=role, customer_keys=keys)}"}


@pytest.fixture(scope="module")
def dataset(settings: Settings, engine: SearchEngine) -> Iterator[DataSet]:
    scoped = isolated_settings(settings, "tapi" + str(abs(hash(__file__)) % 10**8))
    remove_everything(scoped, engine)
    prepare_storage(scoped, engine)
    messages = list(generate(orders=400, seed=3))
    publish(scoped, messages)
    build_worker(scoped, engine).run(idle_exit_s=4.0)
    engine.refresh(f"{scoped.index_prefix}-*")
    try:
        with running_api(scoped, SECRET) as base:
            yield DataSet(base, expected_orders(messages), bearer(Role.CSR), bearer(Role.ANALYST), scoped)
    finally:
        remove_everything(scoped, engine)


def _unique_references(orders: dict[str, Order]) -> dict[str, str]:
    counts = Counter(ref.value.lower() for order in orders.values() for ref in order.references)
    counts.update(s.tracking_number.lower() for o in orders.values() for s in o.shipments if s.tracking_number)
    found = {}
    for order in orders.values():
        values = [ref.value for ref in order.references] + [s.tracking_number for s in order.shipments
                                                           if s.tracking_number]
        found.update({value: order.order_id for value in values if counts[value.lower()] == 1})
    return found


def test_cross_channel_journeys_are_found_from_each_of_their_references(dataset: DataSet) -> None:
    unique = _unique_references(dataset.orders)
    journeys = [o for o in dataset.orders.values() if len(o.channels_seen) > 1]
    assert journeys, "the sample traffic must contain cross-channel journeys"
    for order in journeys[:10]:
        references = [value for value, owner in unique.items() if owner == order.order_id]
        assert len(references) >= 2
        for reference in references + [order.order_id]:
            answer = dataset.get(f"/orders/{quote(reference, safe='')}")
            assert answer.status_code == 200, (reference, answer.text)
            body = answer.json()
            assert body["order_id"] == order.order_id
            assert body["status"] == order.status.value and body["indexed_at"]
            assert len(body["returns"]) == len(order.returns)


def test_answers_leave_out_stored_only_fields_but_none_they_answer_with(dataset: DataSet) -> None:
    """Queries exclude the merge stamps and search projection at the engine: every answered
    field must still arrive complete, compared with the independently merged order."""
    order = max(dataset.orders.values(), key=lambda o: (len(o.lines), len(o.shipments), len(o.status_history)))
    body = dataset.get(f"/orders/{order.order_id}").json()
    assert not {"stamps", "search", "facts"} & set(body)
    assert sorted((line["line_id"], line["sku"], line["quantity"]) for line in body["lines"]) == sorted(
        (line.line_id, line.sku, line.quantity) for line in order.lines)
    assert sorted(s["shipment_id"] for s in body["shipments"]) == sorted(s.shipment_id for s in order.shipments)
    assert sorted(r["value"] for r in body["references"]) == sorted(r.value for r in order.references)
    assert body["customer"].get("email") == order.customer.email
    entries = dataset.get(f"/orders/{order.order_id}/timeline").json()["entries"]
    assert entries and all("event" not in entry and entry["categories"] for entry in entries)
    page = dataset.get(f"/customers/{_heaviest_customer(dataset.orders)}/orders", size=5).json()
    assert page["items"] and all(item["lines"] and "stamps" not in item for item in page["items"])


def _heaviest_customer(orders: dict[str, Order]) -> str:
    counts = Counter(key for order in orders.values() for key in order.identity_keys if key.startswith("email:"))
    return counts.most_common(1)[0][0]


def _linked_orders(orders: dict[str, Order], key: str) -> set[str]:
    """The orders of `key`'s customer: keys joined by any order, through any number of orders."""
    keys: set[str] = {key}
    while grown := {k for o in orders.values() if keys & set(o.identity_keys) for k in o.identity_keys} - keys:
        keys |= grown
    return {o.order_id for o in orders.values() if keys & set(o.identity_keys)}


def test_customer_history_pages_newest_first_through_every_linked_order(dataset: DataSet) -> None:
    key = _heaviest_customer(dataset.orders)
    seen: list[dict] = []
    cursor = None
    while True:
        params = {"size": 3, **({"cursor": cursor} if cursor else {})}
        page = dataset.get(f"/customers/{key}/orders", **params).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    ids = [item["order_id"] for item in seen]
    assert len(ids) == len(set(ids)) and set(ids) == _linked_orders(dataset.orders, key)
    placed = [item["placed_at"] for item in seen if item.get("placed_at")]
    assert placed == sorted(placed, reverse=True)


def test_storefront_reads_its_own_history(dataset: DataSet) -> None:
    key = _heaviest_customer(dataset.orders)
    mine = dataset.get(f"/customers/{key}/orders", bearer(Role.STOREFRONT, (key,)), size=50).json()
    assert {i["order_id"] for i in mine["items"]} == {
        o.order_id for o in dataset.orders.values() if key in o.identity_keys}


@hyp_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_storefront_token_never_returns_another_customers_order(dataset: DataSet, data: st.DataObject) -> None:
    orders = sorted(dataset.orders.values(), key=lambda o: o.order_id)
    owners = sorted({k for o in orders for k in o.identity_keys})
    key = data.draw(st.sampled_from(owners))
    target = data.draw(st.sampled_from(orders))
    reference = data.draw(st.sampled_from([target.order_id, *[r.value for r in target.references]]))
    token = bearer(Role.STOREFRONT, (key,))
    answer = dataset.get(f"/orders/{quote(reference, safe='')}", token)
    if answer.status_code == 200:
        assert key in dataset.orders[answer.json()["order_id"]].identity_keys
    elif answer.status_code == 300:  # several of this customer's own orders carry the reference
        assert all(key in dataset.orders[m["order_id"]].identity_keys for m in answer.json()["matches"])
    else:
        assert answer.status_code == 404
    other = data.draw(st.sampled_from(owners))
    history = dataset.get(f"/customers/{other}/orders", token)
    if other != key:
        assert history.status_code == 403


def _carriers(orders: dict[str, Order], reference: str) -> set[str]:
    """Orders a reference lookup must find: reference values (case-insensitive, with or without a
    leading '#') and tracking numbers; computed here independently of the API."""
    bare = reference.lower().lstrip("#")
    return {o.order_id for o in orders.values()
            if any(r.value.lower().lstrip("#") == bare for r in o.references)
            or any((s.tracking_number or "").lower() == reference.lower() for s in o.shipments)}


def test_a_reference_shared_by_several_orders_answers_300_with_every_match(dataset: DataSet) -> None:
    shared = sorted({r.value for o in dataset.orders.values() for r in o.references
                     if len(_carriers(dataset.orders, r.value)) > 1 and r.value not in dataset.orders})
    assert len(shared) >= 3, "the sample traffic reuses POS receipt numbers across orders"
    for reference in shared[:5]:
        answer = dataset.get(f"/orders/{quote(reference, safe='')}")
        assert answer.status_code == 300, (reference, answer.text)
        matches = answer.json()["matches"]
        assert {m["order_id"] for m in matches} == _carriers(dataset.orders, reference)
        for match in matches:
            order = dataset.orders[match["order_id"]]
            assert match["channel"] == (order.channel.value if order.channel else None) and match["tier"] == "hot"
            assert match["placed_at"] is None or datetime.fromisoformat(match["placed_at"]) == order.placed_at
        placed = [m["placed_at"] for m in matches if m["placed_at"]]
        assert placed == sorted(placed, reverse=True)


def test_a_reference_lookup_matches_reference_fields_only(dataset: DataSet) -> None:
    references = {r.value.lower().lstrip("#") for o in dataset.orders.values() for r in o.references}
    order = next(o for o in dataset.orders.values() if o.customer.email and o.lines and o.lines[0].sku
                 and o.lines[0].sku.lower() not in references)
    for not_a_reference in (order.lines[0].sku, order.customer.email):
        assert dataset.get(f"/orders/{quote(not_a_reference, safe='')}").status_code == 404, not_a_reference
    found = dataset.get("/search", q=order.lines[0].sku, size=100).json()["items"]
    assert order.order_id in {item["order_id"] for item in found}  # free-text search still covers SKUs


def test_the_order_shows_address_and_masked_payment_per_role(dataset: DataSet) -> None:
    order = next(o for o in dataset.orders.values() if o.shipping_address and any(p.last4 for p in o.payments))
    staff = dataset.get(f"/orders/{order.order_id}").json()
    assert staff["shipping_address"]["city"] == order.shipping_address.city
    cards = [f"{p.brand or 'card'} •••• {p.last4}" for p in order.payments if p.last4]
    assert staff["payment"]["cards"] == cards
    assert Decimal(staff["payment"]["refunded"]) == sum((p.refunded or Decimal(0) for p in order.payments), Decimal(0))
    owner = bearer(Role.STOREFRONT, (order.identity_keys[0],))
    assert dataset.get(f"/orders/{order.order_id}", owner).json()["payment"] == staff["payment"]
    analyst = dataset.get(f"/orders/{order.order_id}", dataset.analyst).json()
    assert analyst["shipping_address"] is None and analyst["payment"] is None and analyst["payments"] == []


async def _every_page(reader: OrderReader, key: str, caller: Caller) -> list[str]:
    ids: list[str] = []
    page = PageRequest(size=4)
    while True:
        hits = await reader.customer_history(key, caller, filters=OrderFilter(), page=page)
        ids += [item.document["order_id"] for item in hits.items]
        if hits.next_after is None:
            return ids
        page = PageRequest(size=4, after=hits.next_after)


async def _same_answers(dataset: DataSet, engine: SearchEngine) -> None:
    names = IndexNames(dataset.settings.index_prefix)
    documents = [hit["_source"] for hit in engine.search(names.orders, {"size": 1000})["hits"]["hits"]]
    real = EngineOrderReader(await connect_async_engine(dataset.settings), names)
    fake, csr = FakeOrderReader(documents, export_page=97), Caller(subject="t", role=Role.CSR)
    try:
        for reference in sorted({r.value for o in dataset.orders.values() for r in o.references})[::7]:
            found = [await reader.find_by_reference(reference, csr) for reader in (real, fake)]
            assert [[o.document["order_id"] for o in hits] for hits in found] == [
                [o.document["order_id"] for o in found[1]]] * 2, reference
        key = _heaviest_customer(dataset.orders)
        histories = [await _every_page(reader, key, csr) for reader in (real, fake)]
        assert histories[0] == histories[1] and len(histories[0]) == len(_linked_orders(dataset.orders, key))
        assert await real.rates(OrderFilter()) == await fake.rates(OrderFilter())
        journeys = [sorted(await reader.journeys(OrderFilter()), key=repr) for reader in (real, fake)]
        assert journeys[0] == journeys[1]
        exported = [[d["order_id"] async for page in r.export_orders(OrderFilter(channel="store"), limit=None)
                     for d in page] for r in (real, fake)]
        assert exported[0] == exported[1] and len(exported[0]) == sum(
            1 for o in dataset.orders.values() if o.channel and o.channel.value == "store")
    finally:
        await real.engine.close()


def test_the_fake_reader_answers_like_the_engine_reader(dataset: DataSet, engine: SearchEngine) -> None:
    """The in-memory reader the unit tests use gives the engine reader's answers on the same orders."""
    asyncio.run(_same_answers(dataset, engine))


def test_csr_search_ranks_exact_references_first_and_tolerates_typos_and_phone_formats(dataset: DataSet) -> None:
    unique = _unique_references(dataset.orders)
    reference, owner = next(iter(unique.items()))
    assert dataset.get("/search", q=reference).json()["items"][0]["order_id"] == owner
    named = next(o for o in dataset.orders.values() if o.customer.name and o.customer.phone and
                 len(o.customer.name.split()[-1]) > 5)
    surname = named.customer.name.split()[-1]
    typo = surname[:2] + surname[3] + surname[2] + surname[4:]
    found = dataset.get("/search", q=typo, size=100).json()
    assert named.order_id in {i["order_id"] for i in found["items"]}
    assert set(found["facets"]) == {"channel", "status", "store"}
    digits = "".join(ch for ch in named.customer.phone if ch.isdigit())[-10:]
    hits = dataset.get("/search", q=f"({digits[:3]}) {digits[3:6]}-{digits[6:]}", size=100).json()["items"]
    assert named.order_id in {i["order_id"] for i in hits}


def test_csr_search_finds_a_phone_by_its_last_seven_digits(dataset: DataSet, engine: SearchEngine) -> None:
    skip_unless_built_with(engine, Feature.ANALYSIS)  # the digits n-gram field needs the ngram filter
    named = next(o for o in dataset.orders.values() if o.customer.name and o.customer.phone and
                 len(o.customer.name.split()[-1]) > 5)
    suffix = "".join(ch for ch in named.customer.phone if ch.isdigit())[-7:]
    hits = dataset.get("/search", q=suffix, size=100).json()["items"]
    assert named.order_id in {i["order_id"] for i in hits}, suffix


def test_timeline_is_in_time_order_and_as_of_replays_it(dataset: DataSet) -> None:
    order = max(dataset.orders.values(), key=lambda o: len(o.status_history))
    timeline = dataset.get(f"/orders/{order.order_id}/timeline").json()["entries"]
    times = [entry["occurred_at"] for entry in timeline]
    assert times == sorted(times) and "order_created" in timeline[0]["categories"]
    first = datetime.fromisoformat(times[0])
    early = dataset.get(f"/orders/{order.order_id}/as-of", at=(first + timedelta(seconds=1)).isoformat()).json()
    assert STATUS_RANK[OrderStatus(early["status"])] <= STATUS_RANK[order.status]
    before = dataset.get(f"/orders/{order.order_id}/as-of", at=(first - timedelta(days=1)).isoformat())
    assert before.status_code == 404


def test_orders_in_a_state_at_an_instant(dataset: DataSet) -> None:
    status = OrderStatus.CONFIRMED
    times = sorted(o.status_history[status] for o in dataset.orders.values() if status in o.status_history)
    at = times[len(times) // 2]

    def in_state(order: Order) -> bool:
        reached = {s for s, t in order.status_history.items() if t <= at}
        return bool(reached) and max(reached, key=STATUS_RANK.__getitem__) is status

    expected = {o.order_id for o in dataset.orders.values() if in_state(o)}
    answer = dataset.get("/analytics/orders-in-state", dataset.analyst, status=status.value, at=at.isoformat(),
                         size=100).json()
    assert answer["total"] == len(expected)
    assert {i["order_id"] for i in answer["items"]} <= expected


def test_analytics_aggregates_add_up(dataset: DataSet) -> None:
    sales = dataset.get("/analytics/sales", dataset.analyst, interval="month").json()["rows"]
    placed = sum(1 for o in dataset.orders.values() if o.placed_at)
    assert sum(row["orders"] for row in sales) == placed == 414  # the seeded traffic's orders, all placed
    rates = dataset.get("/analytics/rates", dataset.analyst).json()["by_channel"]
    assert sum(r["orders"] for r in rates.values()) == sum(1 for o in dataset.orders.values() if o.channel)
    cancelled = sum(1 for o in dataset.orders.values() if o.status is OrderStatus.CANCELLED and o.channel)
    assert sum(r["cancelled"] for r in rates.values()) == cancelled
    journeys = dataset.get("/analytics/cross-channel-journeys", dataset.analyst).json()["journeys"]
    assert any(j["bought_on"] == "web" and j["returned_on"] == "store" for j in journeys)
    expected_journeys = Counter((o.channel.value, back) for o in dataset.orders.values() if o.channel
                                for back in sorted({r.channel.value for r in o.returns if r.channel}))
    assert {(j["bought_on"], j["returned_on"]): j["orders"] for j in journeys} == expected_journeys
    times = dataset.get("/analytics/fulfillment-times", dataset.analyst).json()["by_fulfillment_type"]
    assert times and all(v["p50"] <= v["p99"] for v in times.values())


def test_parquet_export_streams_every_matching_order_pseudonymised(dataset: DataSet) -> None:
    answer = dataset.get("/export/orders.parquet", dataset.analyst, channel="web")
    assert answer.status_code == 200
    frame = pl.read_parquet(io.BytesIO(answer.content))
    expected = {o.order_id for o in dataset.orders.values() if o.channel and o.channel.value == "web"}
    assert set(frame["order_id"].to_list()) == expected
    assert frame["customer"].str.contains(r"^p1_[0-9a-f]{32}$").all()  # keyed pseudonyms (query_api/pseudonyms.py)
    timeline = pl.read_parquet(io.BytesIO(dataset.get("/export/timeline.parquet", dataset.analyst).content))
    assert timeline.height > len(dataset.orders) and timeline["entry_id"].n_unique() == timeline.height
    assert dataset.get("/export/orders.parquet", dataset.csr).status_code == 403


@pytest.mark.parametrize(("path", "params", "status"), [
    ("/orders/nope-does-not-exist", {}, 404),
    ("/search", {"q": "x" * 201}, 422),
    ("/search", {"q": "   "}, 400),
    ("/search", {"q": "a", "size": 0}, 422),
    ("/search", {"q": "a", "size": 5000}, 422),
    ("/search", {"q": "a", "size": 500}, 400),
    ("/search", {"q": "a", "cursor": "!!not-a-cursor!!"}, 400),
    ("/search", {"q": "\" OR 1=1 -- {\"query\": {\"match_all\": {}}} \\u0000"}, 200),
    ("/customers/email:a@b.c/orders", {"placed_from": "yesterday"}, 422),
    ("/customers/not-a-key/orders", {}, 422),
    ("/analytics/orders-in-state", {"status": "teleported", "at": "2026-01-01T00:00:00Z"}, 422),
])
def test_bad_input_gets_a_clear_4xx(dataset: DataSet, path: str, params: dict, status: int) -> None:
    token = dataset.analyst if path.startswith("/analytics") else dataset.csr
    answer = dataset.get(path, token, **params)
    assert answer.status_code == status, answer.text
    if status >= 400:
        assert set(answer.json()) == {"error", "detail"}


def test_missing_or_bad_tokens_are_401(dataset: DataSet) -> None:
    assert dataset.get("/search", {}, q="a").status_code == 401
    assert dataset.get("/search", {"Authorization": "Bearer junk"}, q="a").status_code == 401


def test_no_generated_input_makes_the_api_fail_with_a_server_error(dataset: DataSet) -> None:
    """schemathesis generates requests for every operation of the published OpenAPI spec."""
    schema = schemathesis.openapi.from_url(f"{dataset.base}/openapi.json")
    server_errors: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12

    for operation in operations:
        token = dataset.analyst if operation.path.startswith(("/analytics", "/export")) else dataset.csr

        @hyp_settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck),
                      phases=[Phase.explicit, Phase.generate])
        @given(case=operation.as_strategy())
        def exercise(case) -> None:  # type: ignore[no-untyped-def]
            try:
                response = case.call(headers=token, timeout=20)
            except requests.Timeout:
                server_errors.append(f"{case.method} {case.formatted_path} {case.query} -> no answer in 20s")
                return
            if response.status_code >= 500:
                server_errors.append(f"{case.method} {case.formatted_path} {case.query} -> {response.status_code}")

        exercise()
    assert server_errors == []
