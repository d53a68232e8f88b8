"""Cold-tier questions asked of the locator: reference semantics, isolation and filters."""

from __future__ import annotations

from datetime import UTC, datetime

from order_domain.model import Channel, OrderStatus
from query_api.auth import Caller, Role
from query_api.cold_tier import admitted, carries_reference, facet_counts, history_query, reference_query
from query_api.read_port import OrderFilter, PageRequest, StoredOrder, Tier

SHOPPER = Caller(subject="s", role=Role.STOREFRONT, customer_keys=("email:ana@example.com",))
CSR = Caller(subject="c", role=Role.CSR)
ORDER = {"order_id": "web-1", "channel": "web", "status": "shipped", "store_id": "s1",
         "identity_keys": ["email:ana@example.com"], "references": [{"kind": "web_order_number", "value": "#1042"}],
         "shipments": [{"tracking_number": "1Z999AA1"}], "lines": [{"sku": "SKU-9"}]}


def test_a_reference_is_an_order_id_a_reference_or_a_tracking_number_never_a_sku_or_email() -> None:
    for reference in ("web-1", "#1042", "1042", "1z999aa1", "1Z999AA1"):
        assert carries_reference(ORDER, reference), reference
    for other in ("WEB-1", "SKU-9", "ana@example.com", "104"):
        assert not carries_reference(ORDER, other), other


def test_storefront_isolation_is_in_the_locator_query_and_checked_again_on_the_document() -> None:
    body = history_query(["email:ana@example.com"], SHOPPER, filters=OrderFilter(), page=PageRequest(5))
    assert {"terms": {"customer_keys": ["email:ana@example.com"]}} in body["query"]["bool"]["filter"]
    assert {"term": {"tier": "cold"}} in body["query"]["bool"]["filter"]
    stranger = Caller(subject="x", role=Role.STOREFRONT, customer_keys=("email:bob@example.com",))
    assert admitted(ORDER, SHOPPER, OrderFilter()) and not admitted(ORDER, stranger, OrderFilter())
    assert {"terms": {"customer_keys": ["email:bob@example.com"]}} in reference_query(
        "#1042", stranger)["query"]["bool"]["filter"]
    assert len(reference_query("#1042", CSR)["query"]["bool"]["filter"]) == 1  # staff: cold only


def test_filters_the_locator_holds_go_into_the_query_the_others_apply_to_documents() -> None:
    filters = OrderFilter(channel=Channel.STORE, status=OrderStatus.SHIPPED,
                          placed_from=datetime(2025, 1, 1, tzinfo=UTC))
    body = history_query(["k"], CSR, filters=filters, page=PageRequest(5, ["1", "a"]))
    assert body["search_after"] == ["1", "a"] and body["size"] == 5
    assert {"term": {"status": "shipped"}} in body["query"]["bool"]["filter"]
    assert {"range": {"placed_at": {"gte": "2025-01-01T00:00:00+00:00"}}} in body["query"]["bool"]["filter"]
    assert not any("channel" in str(clause) for clause in body["query"]["bool"]["filter"])
    assert not admitted(ORDER, CSR, filters) and admitted(ORDER, CSR, OrderFilter(channel=Channel.WEB))


def test_cold_hits_count_in_the_search_facets() -> None:
    counts = facet_counts([StoredOrder(ORDER, Tier.COLD), StoredOrder({**ORDER, "channel": "store"}, Tier.COLD)])
    assert counts == {"channel": {"web": 1, "store": 1}, "status": {"shipped": 2}, "store": {"s1": 2}}
