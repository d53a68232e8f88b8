"""The write path serialises each event once: pydantic writes its JSON text (`TimelineEntry.event_json`)
and the event document carries that text pre-encoded. The stored bytes must be exactly the ones the
dict form (`TimelineEntry.event`, what the cold tier and every reader derive from) encodes to, for
every channel's events, or a replay across an upgrade would store different documents."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from adapters.engine.dialects import orjson_default
from order_domain.model import Channel, ChangeKind, OrderChange
from order_domain.stored_forms import event_document
from order_domain.timeline import entries
from tests.unit.timeline_kit import channels_covered, journeys

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _encoded(document: dict[str, object]) -> bytes:
    return orjson.dumps(document, default=orjson_default)  # the engine adapter's encoder


def test_the_event_text_is_the_bytes_of_its_dict_form_on_every_channel() -> None:
    assert channels_covered() == set(Channel)
    described = [entry for events in journeys().values() for entry in entries(events)]
    assert len(described) > 1000
    for entry in described:
        assert entry.event_json() == _encoded(entry.event), entry.event_id
        pre_encoded = event_document(entry, NOW, event=orjson.Fragment(entry.event_json()))
        assert _encoded(pre_encoded) == _encoded(event_document(entry, NOW)), entry.event_id


def test_the_event_form_leaves_out_empty_and_default_fields() -> None:
    change = OrderChange(event_id="e-1", order_id="o-1", channel=Channel.WEB, source="shopify",
                         kind=ChangeKind.CREATED, occurred_at=datetime(2026, 3, 1, 10, tzinfo=UTC))
    (entry,) = entries([change])
    assert entry.event == {"event_id": "e-1", "order_id": "o-1", "channel": "web", "source": "shopify",
                           "kind": "created", "occurred_at": "2026-03-01T10:00:00Z"}
    assert entry.event_json() == (b'{"event_id":"e-1","order_id":"o-1","channel":"web","source":"shopify",'
                                  b'"kind":"created","occurred_at":"2026-03-01T10:00:00Z"}')
