"""The running API over orders in hot, warm and cold (real OpenSearch, real Parquet, real mover):
every read answers the same whatever the tier, says which tier served it, pages one sequence
across tiers, and an order read from cold often enough, or a warm one read busy_reads times,
comes back to hot."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from adapters.engine_settings import engine_config
from adapters.search_engine import AsyncSearchEngine, Feature, SearchEngine
from order_domain.identity import identity_keys
from order_domain.tier_policy import Tier
from query_api.auth import Role, issue_token
from query_api.tier_wiring import open_tier_services
from retention.mover import Mover
from settings import Settings
from tests.integration.api_server import running_api
from tests.integration.tiering_support import Clock, T0, census, ingest, make_mover, order_changes, order_id, place

pytestmark = pytest.mark.engine_features(Feature.SCRIPTS, Feature.BY_QUERY)  # mover: guarded steps, cleanup

SECRET = "tiered-api-secret-tiered-api-secret-0123"
N, CUSTOMERS = 60, 5
SHAPE = {"customers": CUSTOMERS, "months": 2}


def bearer(role: Role, keys: tuple[str, ...] = ()) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, subject='t', role=role, customer_keys=keys)}"}


def truth() -> dict[str, dict[str, Any]]:
    """Each order's customer keys and placed date, from the generated events (not from the store)."""
    first = {n: next(order_changes(n, **SHAPE)) for n in range(N)}  # type: ignore[arg-type]
    return {order_id(n): {"keys": identity_keys(c.customer), "placed": c.placed_at} for n, c in first.items()}


def history_of(key: str) -> list[str]:
    orders = [(o["placed"], i) for i, o in truth().items() if key in o["keys"]]
    return [i for _, i in sorted(orders, key=lambda item: (-item[0].timestamp(), item[1]))]


@pytest.fixture
def tiered(isolated: Settings, engine: SearchEngine, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> tuple[Settings, Mover]:
    """Orders ingested to hot; the API started from this test will read cold parts where the mover writes them."""
    ingest(engine, isolated.index_prefix, range(N), **SHAPE)  # type: ignore[arg-type]
    monkeypatch.setenv("ORDERREPO_TIER_COLD_PATH", str(tmp_path / "cold"))
    monkeypatch.setenv("ORDERREPO_TIER_READ_FLUSH_S", "0.2")
    monkeypatch.setenv("ORDERREPO_TIER_REHYDRATE_AFTER_COLD_READS", "1000")
    monkeypatch.setenv("ORDERREPO_TIER_BUSY_READS", "1000")  # orders stay where a test put them, however often read
    mover = make_mover(engine, isolated.index_prefix, str(tmp_path / "cold" / isolated.index_prefix),
                       clock=Clock(T0))
    return isolated, mover


@pytest.fixture
def api(tiered: tuple[Settings, Mover]) -> Iterator[str]:
    with running_api(tiered[0], SECRET) as base:
        yield base


def get(base: str, path: str, token: dict[str, str], **params: object) -> dict[str, Any]:
    answer = httpx.get(f"{base}{path}", headers=token, params=params, timeout=30)
    assert answer.status_code == 200, (path, answer.status_code, answer.text)
    return answer.json()


def without_tier(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "tier"}


def every_page(base: str, path: str, token: dict[str, str], size: int) -> list[dict[str, Any]]:
    items, cursor = [], None
    for _ in range(200):
        page = get(base, path, token, size=size, **({"cursor": cursor} if cursor else {}))
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("paging did not end")


def answers(base: str, order: str, key: str) -> dict[str, dict[str, Any]]:
    """Everything the API says about `order`, by role and endpoint."""
    roles = {"storefront": bearer(Role.STOREFRONT, (key,)), "csr": bearer(Role.CSR), "analyst": bearer(Role.ANALYST)}
    seen: dict[str, dict[str, Any]] = {}
    for role, token in roles.items():
        seen[f"{role} by reference"] = get(base, f"/orders/{quote('#W7')}", token)
        if role == "analyst":  # analysts never query by customer key (403, README "Security")
            continue
        history = every_page(base, f"/customers/{quote(key, safe='')}/orders", token, 100)
        seen[f"{role} history"] = next(item for item in history if item["order_id"] == order)
    seen["timeline"] = get(base, f"/orders/{order}/timeline", roles["csr"])
    placed = truth()[order]["placed"]
    seen["as-of"] = get(base, f"/orders/{order}/as-of", roles["csr"], at=(placed.replace(microsecond=0)).isoformat()
                        .replace("+00:00", "Z"))
    return seen


def test_every_read_answers_the_same_from_hot_warm_and_cold_and_says_which(
    tiered: tuple[Settings, Mover], api: str,
) -> None:
    _, mover = tiered
    order, key = order_id(7), truth()[order_id(7)]["keys"][0]
    by_tier = {}
    for tier in (Tier.HOT, Tier.WARM, Tier.COLD):
        place(mover, {order: tier})
        by_tier[tier] = answers(api, order, key)
        assert {name: body["tier"] for name, body in by_tier[tier].items()} == dict.fromkeys(by_tier[tier], str(tier))
    assert by_tier[Tier.HOT]["csr by reference"]["order_id"] == order
    assert [e["kind"] for e in by_tier[Tier.COLD]["timeline"]["entries"]] == ["created", "fulfillment",
                                                                              "status_changed"]
    assert by_tier[Tier.HOT]["as-of"]["status"] == "confirmed"
    analyst = by_tier[Tier.COLD]["analyst by reference"]["customer"]
    assert analyst["email"] is None and analyst["name"] is None and analyst["pseudonym"].startswith("p1_")
    for name, hot in by_tier[Tier.HOT].items():
        assert without_tier(by_tier[Tier.WARM][name]) == without_tier(hot), name
        assert without_tier(by_tier[Tier.COLD][name]) == without_tier(hot), name
    stranger = bearer(Role.STOREFRONT, ("email:nobody@example.com",))
    assert httpx.get(f"{api}/orders/{order}", headers=stranger, timeout=30).status_code == 404


@pytest.mark.parametrize("size", [1, 2, 5])
def test_the_history_cursor_pages_hot_warm_and_cold_as_one_sequence(
    tiered: tuple[Settings, Mover], api: str, size: int,
) -> None:
    _, mover = tiered
    key = max((f"customer:cust-{c}" for c in range(CUSTOMERS)), key=lambda k: len(history_of(k)))
    expected = history_of(key)
    assert len(expected) >= 8
    cycle = (Tier.COLD, Tier.HOT, Tier.WARM)
    place(mover, {order: cycle[i % 3] for i, order in enumerate(expected)} | {
        order: Tier.COLD for order in truth() if order not in expected})
    for role, token in (("csr", bearer(Role.CSR)), ("storefront", bearer(Role.STOREFRONT, (key,)))):
        items = every_page(api, f"/customers/{quote(key, safe='')}/orders", token, size)
        assert [item["order_id"] for item in items] == expected, role
        assert [item["tier"] for item in items] == [str(cycle[i % 3]) for i in range(len(expected))], role
    total = get(api, f"/customers/{quote(key, safe='')}/orders", bearer(Role.CSR), size=1)["total"]
    assert total == len(expected)


def test_search_covers_hot_and_warm_and_cold_only_when_asked(tiered: tuple[Settings, Mover], api: str) -> None:
    _, mover = tiered
    place(mover, {order_id(3): Tier.COLD, order_id(4): Tier.WARM})
    csr = bearer(Role.CSR)
    assert [i["tier"] for i in get(api, "/search", csr, q="#W4")["items"]][:1] == ["warm"]
    assert order_id(3) not in [i["order_id"] for i in get(api, "/search", csr, q="#W3")["items"]]
    found = get(api, "/search", csr, q="#W3", include_cold="true")
    assert (found["items"][0]["order_id"], found["items"][0]["tier"]) == (order_id(3), "cold")
    assert [i["order_id"] for i in found["items"]].count(order_id(3)) == 1


def test_partial_names_and_phones_find_warm_orders_without_n_gram_fields(
    tiered: tuple[Settings, Mover], api: str,
) -> None:
    """Warm indices have the lean mapping: prefixes and partial phones are matched at query time."""
    _, mover = tiered
    place(mover, {order_id(n): Tier.WARM for n in range(N)})
    csr = bearer(Role.CSR)
    customer_3 = {i for i, o in truth().items() if "phone:+15550100003" in o["keys"]}
    assert customer_3
    by_prefix = get(api, "/search", csr, q="Shopp", size=100)
    assert by_prefix["total"] == N and {i["tier"] for i in by_prefix["items"]} == {"warm"}
    by_digits = get(api, "/search", csr, q="010 0003", size=100)  # the middle of +1 555 0100003
    assert {i["order_id"] for i in by_digits["items"]} == customer_3
    mapping = mover.engine.request("GET", f"/{mover.names.warm_alias('orders')}/_mapping")
    for index in mapping.values():
        assert "fields" not in index["mappings"]["properties"]["search"]["properties"]["text"]


def test_the_operator_view_counts_orders_and_bytes_per_tier(tiered: tuple[Settings, Mover], api: str) -> None:
    _, mover = tiered
    place(mover, {order_id(3): Tier.COLD, order_id(4): Tier.WARM, order_id(5): Tier.COLD})
    rows = {row["tier"]: row for row in get(api, "/console/api/ops", bearer(Role.ADMIN))["tiers"]}
    assert {tier: row["orders"] for tier, row in rows.items()} == {"hot": N - 3, "warm": 1, "cold": 2}
    assert rows["hot"]["timeline_entries"] == 3 * (N - 3)
    assert all(row["order_bytes"] > 0 for row in rows.values())
    cold_parts = mover.copies.cold.parts()
    assert rows["cold"]["order_bytes"] == sum(mover.copies.cold.size_of(part) for part in cold_parts)


@pytest.mark.parametrize(("tier", "setting", "counter", "copies_before_the_pass", "final_counts"), [
    pytest.param(Tier.COLD, "ORDERREPO_TIER_REHYDRATE_AFTER_COLD_READS", "cold_reads", (1, 1),
                 {"read_count": 3, "cold_reads": 0}, id="cold: read more than 2 times"),
    pytest.param(Tier.WARM, "ORDERREPO_TIER_BUSY_READS", "recent_reads", (1, 0),
                 {"read_count": 3, "recent_reads": 3}, id="warm: read 3 times in the read window"),
])
def test_an_order_read_often_enough_through_the_api_comes_back_to_hot(
    tiered: tuple[Settings, Mover], engine: SearchEngine, monkeypatch: pytest.MonkeyPatch, tier: Tier,
    setting: str, counter: str, copies_before_the_pass: tuple[int, int], final_counts: dict[str, int],
) -> None:
    """The API's recorder hands the order to the mover's move once its reads reach the threshold (2 reads
    stay where they are, the third moves it); the next read comes from hot. A warm move deletes the warm
    copy at once; a cold flip leaves the row in its Parquet part, named by nobody, for the pass to drop."""
    settings, mover = tiered
    monkeypatch.setenv(setting, "2" if tier is Tier.COLD else "3")
    order = order_id(9)
    place(mover, {order: tier})
    csr = bearer(Role.CSR)
    with running_api(settings, SECRET) as base:
        for _ in range(2):
            assert get(base, f"/orders/{quote('#W9')}", csr)["tier"] == tier.value
        entry = _wait_for(engine, mover, order, lambda e: e.get(counter) == 2)
        assert entry["tier"] == tier.value  # read twice: not enough yet
        assert get(base, f"/orders/{order}", csr)["tier"] == tier.value
        entry = _wait_for(engine, mover, order, lambda e: e["tier"] == "hot" and e.get("pending") is None)
        assert get(base, f"/orders/{order}", csr)["tier"] == "hot"
    assert {name: entry[name] for name in final_counts} == final_counts
    seen = census(engine, mover)
    assert (seen["copies"]["hot"][order], seen["copies"][tier.value][order]) == copies_before_the_pass
    mover.finish()
    seen = census(engine, mover)
    assert (seen["copies"]["hot"][order], seen["copies"][tier.value][order]) == (1, 0)


def _wait_for(engine: SearchEngine, mover: Mover, order: str, done: Any, timeout_s: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        entry = engine.get(mover.names.locator, order)["_source"]  # type: ignore[index]
        if done(entry):
            return entry
        time.sleep(0.1)
    raise AssertionError(f"locator entry of {order} never reached the expected state: {entry}")


async def test_the_api_start_opens_the_newest_cold_parts_in_the_background(
    tiered: tuple[Settings, Mover], tmp_path: Path,
) -> None:
    """The API's tier services open the cold parts' footers at start (without holding up the
    start), so the first cold lookup after a restart reads its row group from an open part."""
    settings, mover = tiered
    place(mover, {order_id(n): Tier.COLD for n in range(0, N, 3)})  # two creation months: two parts at least
    parts = sorted(mover.copies.cold.parts(), reverse=True)
    assert len(parts) >= 2
    scoped = settings.model_copy(update={"tier": settings.tier.model_copy(update={"cold_path": str(tmp_path / "cold")})})
    engine = await AsyncSearchEngine.connect(engine_config(scoped))
    services = await open_tier_services(scoped, engine)
    try:
        assert services.warm_up is not None
        assert await services.warm_up == parts  # newest month first; all of them fit the part cache
        assert list(services.cold._parts) == parts
        entry = (await engine.search(mover.names.locator, {"query": {"term": {"order_id": order_id(3)}}}))
        cold = entry["hits"]["hits"][0]["_source"]
        opened = services.cold._parts[cold["location"]]
        answer = await services.reader.cold.tiers.by_reference(order_id(3))
        assert answer is not None and (answer.order_id, answer.tier) == (order_id(3), Tier.COLD)
        assert services.cold._parts[cold["location"]] is opened
    finally:
        await services.close()
        await engine.close()
