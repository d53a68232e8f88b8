"""The identity graph on the real servers: orders ingested through Kafka by the real worker,
histories read through the real API process, unlinks made with the CLI.

One customer in three hops (an anonymous card purchase; an order that ties the card to a
loyalty id; one that ties the loyalty id to an e-mail), published newest first, beside a
stranger whose card ends in the same four digits. Then: a wrong link is undone and history
follows at once; a full rebuild from Kafka does not bring the link back; an erasure takes
the customer's unlinks with its orders.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from adapters.search_engine import Feature, SearchEngine
from order_domain.identity import identity_keys
from order_domain.model import Channel, CustomerIdentity
from orderrepo import cli_identity
from orderrepo.bootstrap import build_worker, rebuild_projection
from orderrepo.cli import app as cli
from query_api.audit import list_audit
from query_api.auth import Role, issue_token
from query_api.pseudonyms import key_from_settings
from retention.config import build_mover
from retention.erasure import Eraser
from retention.identity_links import IdentityLinks
from sample_traffic import TrafficMessage
from settings import Settings
from tests.integration.api_server import running_api
from tests.integration.pipeline_harness import publish

SECRET = "identity-secret-identity-secret-0123456"
[CARD] = identity_keys(CustomerIdentity(card_token="tok_4b1d9c"))
LOYALTY, ANA, BOB = "loyalty:L-77", "email:ana@example.com", "email:bob@example.com"


def change(order_id: str, day: int, **customer: str) -> TrafficMessage:
    event = {"event_id": f"{order_id}-created", "order_id": order_id, "channel": "call_center", "source": "cc",
             "kind": "created", "occurred_at": f"2026-03-0{day}T10:00:00Z", "placed_at": f"2026-03-0{day}T10:00:00Z",
             "customer": customer, "currency": "USD",
             "lines": [{"line_id": "1", "sku": "TEE", "quantity": 1, "unit_price": "10.00"}],
             "payments": [{"payment_id": "p1", "method": "card", "brand": "Visa", "last4": "1111",
                           "captured": "10.00"}]}
    return TrafficMessage(Channel.CALL_CENTER, order_id.encode(), orjson.dumps(event), "identity")


JOURNEY = [  # published newest first: the graph does not care in which order orders arrive
    change("cc-ana-3", 3, loyalty_id="L-77", email="ana@example.com", name="Ana Lima"),
    change("cc-ana-2", 2, card_token="tok_4b1d9c", loyalty_id="L-77"),
    change("cc-ana-1", 1, card_token="tok_4b1d9c"),
    change("cc-bob-1", 4, email="bob@example.com", name="Bob Stone"),  # his card also ends in 1111
]


@dataclass(frozen=True)
class Stack:
    settings: Settings
    base: str

    def history(self, key: str) -> dict[str, dict]:
        token = issue_token(SECRET, subject="agent", role=Role.CSR)
        answer = httpx.get(f"{self.base}/customers/{quote(key)}/orders", params={"size": 50},
                           headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert answer.status_code == 200, answer.text
        return {item["order_id"]: item for item in answer.json()["items"]}


@pytest.fixture(scope="module")
def stack(settings: Settings, engine: SearchEngine) -> Iterator[Stack]:
    from orderrepo.bootstrap import prepare_storage
    from tests.integration.pipeline_harness import isolated_settings, remove_everything

    scoped = isolated_settings(settings, "tidg" + str(abs(hash(__file__)) % 10**8))
    remove_everything(scoped, engine)
    prepare_storage(scoped, engine)
    publish(scoped, JOURNEY)
    build_worker(scoped, engine).run(idle_exit_s=4.0)
    engine.refresh(f"{scoped.index_prefix}-*")
    try:
        with running_api(scoped, SECRET) as base:
            yield Stack(scoped, base)
    finally:
        remove_everything(scoped, engine)


def run_cli(stack: Stack, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(cli_identity, "get_settings", lambda: stack.settings)
    result = CliRunner().invoke(cli, ["identity", *args], env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_three_hops_are_one_history_from_any_of_the_keys(stack: Stack) -> None:
    for key in (CARD, LOYALTY, ANA):
        assert set(stack.history(key)) == {"cc-ana-1", "cc-ana-2", "cc-ana-3"}, key
    assert set(stack.history(BOB)) == {"cc-bob-1"}  # the same last four digits join nothing
    orders = stack.history(CARD)  # each order keeps its own contact details: nothing is copied across
    assert orders["cc-ana-1"]["customer"]["email"] is None and orders["cc-ana-1"]["customer"]["name"] is None
    assert (orders["cc-ana-3"]["customer"]["email"], orders["cc-ana-3"]["customer"]["name"]) == (
        "ana@example.com", "Ana Lima")


def test_show_prints_the_component_as_json_and_as_a_table(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run_cli(stack, monkeypatch, "show", LOYALTY, "--json", "--by", "agent-5")
    assert code == 0
    shown = orjson.loads(out)
    assert shown["keys"] == sorted([CARD, LOYALTY, ANA]) and shown["truncated"] is False
    assert shown["links"] == sorted([sorted([CARD, LOYALTY]), sorted([ANA, LOYALTY])])
    assert shown["orders"] == {CARD: 2, LOYALTY: 2, ANA: 1} and shown["unlinked"] == []
    code, table, _ = run_cli(stack, monkeypatch, "show", BOB)
    assert code == 0 and "customer of email:bob@example.com: 1 key(s)" in table and BOB in table


def test_an_unlink_of_keys_still_joined_elsewhere_names_the_chain(stack: Stack,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run_cli(stack, monkeypatch, "unlink", CARD, ANA, "--by", "agent-6")
    assert code == 3 and f"{CARD} - {LOYALTY} - {ANA}" in " ".join(err.split())
    assert run_cli(stack, monkeypatch, "relink", CARD, ANA, "--by", "agent-6")[0] == 0
    assert run_cli(stack, monkeypatch, "relink", CARD, ANA)[0] == 1  # nothing left to withdraw


def test_unlink_splits_history_at_once_and_a_rebuild_from_kafka_keeps_it_split(
        stack: Stack, engine: SearchEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run_cli(stack, monkeypatch, "unlink", CARD, LOYALTY, "--reason", "shared card", "--by", "agent-7")
    assert code == 0, err
    split = {CARD: {"cc-ana-1", "cc-ana-2"}, LOYALTY: {"cc-ana-2", "cc-ana-3"}, ANA: {"cc-ana-2", "cc-ana-3"}}
    assert {key: set(stack.history(key)) for key in split} == split  # cc-ana-2 carries both keys
    audited = list_audit(engine, stack.settings.index_prefix, limit=10,
                         customers=(key_from_settings(stack.settings).pseudonym(CARD),))
    assert ("agent-7", "orderrepo identity unlink") in [(row["who"], row["route"]) for row in audited]
    report = rebuild_projection(stack.settings, engine)  # every topic replayed into new index versions
    assert report.records == len(JOURNEY) and report.new != report.old
    engine.refresh(f"{stack.settings.index_prefix}-*")
    assert {key: set(stack.history(key)) for key in split} == split


@pytest.mark.engine_features(Feature.BY_QUERY, Feature.SCRIPTS)  # the eraser's _delete_by_query, the mover
def test_erasure_takes_the_customers_unlinks_with_their_orders(stack: Stack, engine: SearchEngine) -> None:
    links = IdentityLinks(engine, stack.settings.index_prefix)
    links.unlink(CARD, LOYALTY, by="agent-7", reason="shared card", at=datetime.now(UTC))  # as before: idempotent
    unlinks = links.sources.unlinks
    assert engine.count(unlinks) == 1
    report = Eraser(build_mover(stack.settings, engine)).erase(ANA)
    assert (report.counts["orders"], report.counts["identity_keys"], report.counts["identity_unlinks"]) == (2, 2, 1)
    assert engine.count(unlinks) == 0
    engine.refresh(f"{stack.settings.index_prefix}-*")
    assert set(stack.history(CARD)) == {"cc-ana-1"} and stack.history(ANA) == {}
