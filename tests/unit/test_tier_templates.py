"""The tiering templates: valid, versioned, strict, and mapping every field tiering writes."""

from __future__ import annotations

from typing import Any

from index_templates import load_template
from order_domain.tier_policy import Tier
from retention.locator import new_entry, order_fields, sync_action
from retention.storage import TierNames

DOCUMENT = {
    "order_id": "o1", "status": "completed", "placed_at": "2025-03-02T10:00:00+00:00",
    "updated_at": "2025-03-05T10:00:00+00:00", "indexed_at": "2025-03-05T10:00:01+00:00",
    "identity_keys": ["customer:c1", "email:a@b.com"],
    "references": [{"kind": "web_order_number", "value": "#W1"}], "customer": {"email": "a@b.com"},
}


def _properties(name: str) -> dict[str, Any]:
    mappings = load_template(f"component/{name}@mappings.json", "p")["template"]["mappings"]
    assert mappings["dynamic"] == "strict"
    return mappings["properties"]


def test_every_template_is_versioned_and_composes_known_components() -> None:
    expected = {
        "order-locator": (["p-order-locator-v*"], ["p-tier-catalog@settings", "p-order-locator@mappings"], 1),
        "tombstones": (["p-tombstones-v*"], ["p-tier-catalog@settings", "p-tombstones@mappings"], 1),
        "orders-warm": (["p-orders-warm-*"], ["p-orders-warm@mappings", "p-tier-warm@settings"], 3),
        "order-events-warm": (["p-order-events-warm-*"], ["p-order-events-warm@mappings", "p-tier-warm@settings"], 2),
    }
    for name, (patterns, components, version) in expected.items():
        template = load_template(f"{name}.json", "p")
        assert (template["index_patterns"], template["composed_of"], template["version"]) == (
            patterns, components, version)
    for component in ("tier-catalog@settings", "order-locator@mappings", "tombstones@mappings", "tier-warm@settings",
                      "order-events-warm@mappings"):
        assert load_template(f"component/{component}.json", "p")["version"] == 1
    assert load_template("component/orders-warm@mappings.json", "p")["version"] == 2


def test_warm_months_never_match_the_hot_version_pattern_and_join_their_alias() -> None:
    names = TierNames("p")
    assert not names.warm_index("orders", "2025.03").startswith("p-orders-v")
    assert load_template("orders-warm.json", "p")["template"]["aliases"] == {"p-orders-warm": {}}
    warm = load_template("component/tier-warm@settings.json", "p")["template"]["settings"]
    assert warm["codec"] == "best_compression"


def _fields(properties: dict[str, Any], prefix: str = "") -> set[str]:
    """Every field path a mapping indexes, subfields included ("search.text.partial")."""
    paths: set[str] = set()
    for name, spec in properties.items():
        path = f"{prefix}{name}"
        paths.add(path)
        paths |= {f"{path}.{sub}" for sub in spec.get("fields", {})}
        paths |= _fields(spec.get("properties", {}), f"{path}.")
    return paths


ANSWER_ONLY = ("customer", "shipping_address", "lines", "payments", "returns", "linked_orders")


def test_the_warm_mapping_is_the_hot_one_without_n_grams_or_answer_only_indexes() -> None:
    hot, warm = _fields(_properties("orders")), _fields(_properties("orders-warm"))
    unindexed = {f for f in hot if f.split(".")[0] in ANSWER_ONLY and "." in f} | {"shipments.lines.line_id",
                                                                                  "shipments.lines.quantity"}
    assert hot - warm == {"customer.name.partial", "search.text.partial", "search.phones.partial"} | unindexed
    assert warm <= hot  # every field a hot query names exists in warm, or matches nothing there
    properties = _properties("orders-warm")
    assert all(properties[name] == {"type": "object", "enabled": False} for name in ANSWER_ONLY)
    shipments = properties["shipments"]
    assert shipments["type"] == "nested" and shipments["properties"]["tracking_number"]["normalizer"] == "lower"
    searched = {f for f, spec in shipments["properties"].items() if spec.get("index", True) and spec.get("enabled", True)}
    assert searched == {"tracking_number"}  # the one shipment field a reference lookup names
    settings = load_template("component/orders-warm@mappings.json", "p")["template"]
    assert "edge_ngram" not in str(settings["settings"]) and "ngram" not in str(settings["settings"])
    assert settings["mappings"]["_source"] == {"excludes": ["search"]}
    assert settings["mappings"]["properties"]["search"]["properties"]["text"]["index_options"] == "freqs"


def test_the_warm_timeline_mapping_indexes_only_what_timeline_reads_search_or_sort_on() -> None:
    hot, warm = _properties("order-events"), _properties("order-events-warm")
    assert set(hot) == set(warm) and all(warm[f]["type"] == hot[f]["type"] for f in hot)
    searched = {f for f, spec in warm.items() if spec.get("index", True) and spec.get("enabled", True)}
    sortable = {f for f, spec in warm.items() if spec.get("doc_values", True) and spec.get("enabled", True)}
    assert searched == {"order_id", "significant", "channel", "store_id", "occurred_at"}
    assert sortable == searched | {"entry_id", "event_id", "source_version"}
    # every field a timeline query filters or sorts on (query_api.queries) stays usable on warm
    assert {"order_id", "significant", "occurred_at", "channel", "store_id"} <= searched
    assert {"occurred_at", "source_version", "event_id", "entry_id"} <= sortable


def test_the_locator_mapping_covers_every_entry_field() -> None:
    mapped = _properties("order-locator")
    entry = new_entry(DOCUMENT, tier=Tier.HOT, location="p-orders")
    assert set(entry) <= set(mapped)
    assert set(mapped["pending"]["properties"]) == {"phase", "from_tier", "from_location", "to_tier", "to_location",
                                                    "to_row_group", "started_at"}


def test_order_fields_come_from_the_document() -> None:
    fields = order_fields(DOCUMENT)
    assert fields["created_month"] == "2025.03" and fields["closed"] is True
    assert fields["last_changed"] == "2025-03-05T10:00:00+00:00"
    assert fields["customer_keys"] == ["customer:c1", "email:a@b.com"]
    assert {"#w1", "w1", "o1", "a@b.com"} <= {ref.lower() for ref in fields["refs"]}


def test_the_sync_action_creates_a_hot_entry_and_leaves_other_tiers_alone() -> None:
    action = sync_action(DOCUMENT, TierNames("p"))
    assert action["_index"] == "p-order-locator" and action["upsert"]["tier"] == "hot"
    assert "ctx.op = 'none'" in action["script"]["source"]
    assert "tier" not in action["script"]["params"]["fields"]


def test_the_tombstone_mapping_covers_what_tombstones_write() -> None:
    assert set(_properties("tombstones")) == {"kind", "order_id", "key_hash", "reason", "at", "counts"}
