"""Write planning and the timeline rules: pure, no servers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from order_domain.merge import merge_all, state_of
from order_domain.model import (
    Channel,
    ChangeKind,
    CustomerIdentity,
    OrderChange,
    OrderLine,
    OrderStatus,
    Shipment,
)
from order_domain.significance import TIMELINE_RULES, timeline_entry, timeline_entry_id
from ingest.planner import StoredOrder, history_needed, order_document, order_from_document, plan_writes

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def change(event_id: str, minute: int, kind: ChangeKind = ChangeKind.UPDATED, **fields: object) -> OrderChange:
    return OrderChange(event_id=event_id, order_id="web-1", channel=Channel.WEB, source="test", kind=kind,
                       occurred_at=T0 + timedelta(minutes=minute), **fields)


CREATED = change("e1", 0, ChangeKind.CREATED, status=OrderStatus.CONFIRMED, placed_at=T0,
                 lines=(OrderLine(line_id="1", sku="SKU-1", quantity=2),),
                 customer=CustomerIdentity(email="Ana@Example.com", phone="(555) 010-2030"))


def test_new_order_is_created_with_a_create_guard_and_a_creation_entry() -> None:
    plan = plan_writes([CREATED], {})
    assert [(w.order_id, w.guard, w.event_ids) for w in plan.orders] == [("web-1", None, ("e1",))]
    assert [e.categories for e in plan.timeline] == [("line_change", "order_created", "status_transition")]


def test_existing_order_is_written_with_the_seq_no_it_was_merged_from() -> None:
    held = StoredOrder(merge_all(None, [CREATED]), seq_no=7, primary_term=2)
    shipped = change("e2", 30, ChangeKind.FULFILLMENT, status=OrderStatus.SHIPPED,
                     shipments=(Shipment(shipment_id="s1", carrier="UPS", tracking_number="1Z9"),))
    plan = plan_writes([shipped], {"web-1": held})
    assert plan.orders[0].guard == (7, 2)
    assert plan.timeline[0].categories == ("shipment", "status_transition")
    assert plan.timeline[0].entry_id == timeline_entry_id("web-1", "e2")


def test_a_duplicate_changes_nothing_and_is_not_written() -> None:
    held = StoredOrder(merge_all(None, [CREATED]), seq_no=1, primary_term=1,
                       event_entries=(timeline_entry_id("web-1", "e1"),))
    plan = plan_writes([CREATED, CREATED], {"web-1": held})
    assert plan.orders == [] and plan.entries == [] and plan.unchanged == [CREATED, CREATED]


def test_an_event_that_changes_nothing_is_still_kept_but_not_shown() -> None:
    held = StoredOrder(merge_all(None, [CREATED]), seq_no=1, primary_term=1,
                       event_entries=(timeline_entry_id("web-1", "e1"),))
    again = change("e2", 5, status=OrderStatus.CONFIRMED)
    plan = plan_writes([again], {"web-1": held})
    assert [(e.event_id, e.significant, e.status_before, e.status_after) for e in plan.entries] == [
        ("e2", False, "confirmed", "confirmed")]
    assert plan.timeline == [] and plan.orders[0].event_entries == tuple(sorted(
        {timeline_entry_id("web-1", "e1"), timeline_entry_id("web-1", "e2")}))


def test_only_orders_with_a_late_event_need_their_history() -> None:
    log = (timeline_entry_id("web-1", "e1"),)
    held = StoredOrder(merge_all(None, [CREATED]), seq_no=1, primary_term=1, event_entries=log)
    assert history_needed([change("e2", 5)], {"web-1": held}) == {}
    assert history_needed([change("e0", 0)], {"web-1": held}) == {"web-1": log}  # same instant: order unknown
    assert history_needed([CREATED], {"web-1": held}) == {}  # a replay needs nothing


def test_heartbeats_are_noise() -> None:
    plan = plan_writes([change("hb", 5, ChangeKind.HEARTBEAT)], {})
    assert plan.orders == [] and len(plan.noise) == 1


def test_a_repeated_identical_update_with_a_new_id_makes_no_timeline_entry() -> None:
    same_again = CREATED.model_copy(update={"event_id": "e1-resent", "kind": ChangeKind.UPDATED,
                                            "occurred_at": T0 + timedelta(minutes=1)})
    before = merge_all(None, [CREATED])
    after = merge_all(before, [same_again])
    assert after != before  # the stamps move on (needed for order-independence) ...
    assert timeline_entry(state_of(before), state_of(after), same_again) is None  # ... nothing that matters did


def test_stored_documents_round_trip_through_the_projection() -> None:
    order = merge_all(None, [CREATED])
    document = order_document(state_of(order), T0)
    assert document["search"]["phones"] == ["15550102030", "5550102030"]
    assert "web-1" in document["search"]["refs"]
    assert order_from_document(document) == order


def test_every_rule_names_a_field_of_the_order_model() -> None:
    from order_domain.model import Order

    for path in TIMELINE_RULES:
        assert path.split("[]")[0] in Order.model_fields, path
