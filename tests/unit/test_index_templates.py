"""The templates are valid JSON and the strict mappings cover every field we write."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from index_templates import FAMILIES, load_template
from ingest.planner import order_document
from ingest.writer import _timeline_document
from order_domain.merge import merge_all, state_of
from order_domain.model import OrderStatus
from order_domain.significance import timeline_entry
from tests.strategies import changes

from hypothesis import given, settings
from hypothesis import strategies as st


def _mapped_paths(properties: dict[str, Any], prefix: str = "") -> set[str]:
    paths = set()
    for name, spec in properties.items():
        paths.add(prefix + name)
        if "properties" in spec:
            paths |= _mapped_paths(spec["properties"], f"{prefix}{name}.")
    return paths


def _document_paths(document: Any, prefix: str = "") -> set[str]:
    if isinstance(document, list):
        return set().union(*(_document_paths(item, prefix) for item in document)) if document else set()
    if not isinstance(document, dict):
        return set()
    paths = set()
    for name, value in document.items():
        paths.add(prefix + name)
        paths |= _document_paths(value, f"{prefix}{name}.")
    return paths


def _mapping(family: str) -> dict[str, Any]:
    return load_template(f"component/{family}@mappings.json", "p")["template"]["mappings"]


def test_templates_load_and_compose_their_components() -> None:
    for family in FAMILIES:
        template = load_template(f"{family}.json", "p")
        assert template["index_patterns"] == [f"p-{family}-v*"]
        assert template["composed_of"] == [f"p-{family}@settings", f"p-{family}@mappings"]
        assert _mapping(family)["dynamic"] == "strict"


def test_status_history_maps_every_status() -> None:
    mapped = _mapping("orders")["properties"]["status_history"]["properties"]
    assert set(mapped) == {status.value for status in OrderStatus}


@settings(max_examples=60, deadline=None)
@given(events=st.lists(changes(), min_size=1, max_size=6))
def test_every_written_field_is_mapped(events: list) -> None:
    mapped_orders = _mapped_paths(_mapping("orders")["properties"])
    mapped_events = _mapped_paths(_mapping("order-events")["properties"])
    order = merge_all(None, events)
    document = order_document(state_of(order), datetime.now(UTC))
    unmapped = {p for p in _document_paths(document) if not p.startswith("stamps.")} - mapped_orders
    assert unmapped == set()
    entry = timeline_entry(None, state_of(order), events[0])
    if entry is not None:
        timeline_paths = {p for p in _document_paths(_timeline_document(entry, datetime.now(UTC)))
                          if not p.startswith(("changes.", "event."))}
        assert timeline_paths - mapped_events == set()
