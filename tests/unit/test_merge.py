"""The merge converges: any order, any duplication, same document."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from order_domain.merge import apply_change, document_of, initial_state, merge, merge_all, order_of
from order_domain.model import Channel, ChangeKind, LineStatus, Order, OrderChange, OrderLine, OrderStatus
from order_domain.status_rules import contradicts, order_status, reported_status, status_from_lines
from tests.strategies import BASE_TIME, changes, unique_event_ids


@settings(max_examples=200, deadline=None)
@given(events=st.lists(changes(), min_size=1, max_size=12).map(unique_event_ids), data=st.data())
def test_shuffled_and_duplicated_streams_converge(events: list[OrderChange], data: st.DataObject) -> None:
    duplicated = events + data.draw(st.lists(st.sampled_from(events), max_size=10))
    shuffled = data.draw(st.permutations(duplicated))
    assert merge_all(None, shuffled).to_document() == merge_all(None, events).to_document()


@settings(max_examples=100, deadline=None)
@given(events=st.lists(changes(), min_size=1, max_size=8).map(unique_event_ids))
def test_merge_is_idempotent(events: list[OrderChange]) -> None:
    once = merge_all(None, events)
    assert merge_all(once, events).to_document() == once.to_document()


@settings(max_examples=150, deadline=None)
@given(events=st.lists(changes(), min_size=1, max_size=8).map(unique_event_ids))
def test_the_fast_document_form_is_the_validated_one(events: list[OrderChange]) -> None:
    """The write path skips validation (`document_of`); after JSON it must equal the model's own dump."""
    state = initial_state(events[0].order_id)
    for event in events:
        state = apply_change(state, event)
    fast = orjson.loads(orjson.dumps(document_of(state), default=str))
    assert Order.model_validate(fast) == order_of(state)
    assert Order.model_validate(fast).to_document() == order_of(state).to_document()


def _change(event_id: str, minute: int, **fields: object) -> OrderChange:
    return OrderChange(event_id=event_id, order_id="o-1", channel=Channel.WEB, source="test",
                       kind=ChangeKind.UPDATED, occurred_at=BASE_TIME + timedelta(minutes=minute), **fields)


def test_status_never_goes_back_down_the_lifecycle() -> None:
    shipped = _change("e2", 10, status=OrderStatus.SHIPPED)
    confirmed_late = _change("e1", 20, status=OrderStatus.CONFIRMED)
    assert merge_all(None, [shipped, confirmed_late]).status is OrderStatus.SHIPPED


def test_line_fields_are_last_writer_wins_by_occurred_at() -> None:
    early = _change("e9", 1, lines=(OrderLine(line_id="1", sku="A", quantity=1),))
    late = _change("e1", 5, lines=(OrderLine(line_id="1", quantity=3),))
    for stream in ([early, late], [late, early]):
        line = merge_all(None, stream).lines[0]
        assert (line.sku, line.quantity) == ("A", 3)


def test_origin_channel_is_first_writer_wins() -> None:
    created = _change("a", 0, placed_at=BASE_TIME)
    returned_in_store = _change("b", -60).model_copy(update={"channel": Channel.STORE})
    order = merge_all(None, [returned_in_store, created])
    assert order.channel is Channel.WEB and order.channels_seen == [Channel.STORE, Channel.WEB]


def test_a_change_for_another_order_is_refused() -> None:
    order = merge(None, _change("a", 0))
    with pytest.raises(ValueError, match="applied to order"):
        merge(order, _change("b", 1).model_copy(update={"order_id": "o-2"}))


# --- the order status never contradicts its lines (order_domain.status_rules) ---------------

L = LineStatus


@pytest.mark.parametrize(("lines", "implied"), [
    ([], None),
    ([None, None], None),
    ([L.OPEN, L.OPEN], None),
    ([L.OPEN, L.ALLOCATED], OrderStatus.IN_PROGRESS),
    ([L.OPEN, L.SHIPPED], OrderStatus.PARTIALLY_SHIPPED),
    ([L.SHIPPED, L.SHIPPED, L.CANCELLED], OrderStatus.SHIPPED),
    ([L.SHIPPED, L.DELIVERED], OrderStatus.SHIPPED),
    ([L.DELIVERED, L.PICKED_UP], OrderStatus.DELIVERED),
    ([L.PICKED_UP, None], OrderStatus.COMPLETED),
    ([L.RETURNED, L.DELIVERED], OrderStatus.PARTIALLY_RETURNED),
    ([L.RETURNED, L.CANCELLED], OrderStatus.RETURNED),
    ([L.CANCELLED, L.CANCELLED], OrderStatus.CANCELLED),
])
def test_what_the_lines_imply(lines: list[LineStatus | None], implied: OrderStatus | None) -> None:
    assert status_from_lines(lines) is implied


def _line(line_id: str, status: LineStatus) -> OrderLine:
    return OrderLine(line_id=line_id, status=status)


def test_no_pending_order_with_a_shipped_line() -> None:
    created = _change("e1", 0, status=OrderStatus.PENDING, lines=(_line("1", L.OPEN), _line("2", L.OPEN)))
    shipped_line = _change("e2", 5, lines=(_line("1", L.SHIPPED),))
    for stream in ([created, shipped_line], [shipped_line, created]):
        order = merge_all(None, stream)
        assert order.status is OrderStatus.PARTIALLY_SHIPPED and order.status_history == {
            OrderStatus.PENDING: created.occurred_at}


def test_a_reported_status_ahead_of_the_lines_stands() -> None:
    delivered = _change("e1", 0, status=OrderStatus.DELIVERED, lines=(_line("1", L.OPEN),))
    assert merge_all(None, [delivered]).status is OrderStatus.DELIVERED


def test_a_cancellation_does_not_cancel_lines_that_went_out() -> None:
    shipped = _change("e1", 0, lines=(_line("1", L.SHIPPED), _line("2", L.OPEN)))
    cancelled = _change("e2", 5, status=OrderStatus.CANCELLED, lines=(_line("2", L.CANCELLED),))
    assert merge_all(None, [cancelled, shipped]).status is OrderStatus.SHIPPED
    assert merge_all(None, [cancelled]).status is OrderStatus.CANCELLED


@settings(max_examples=150, deadline=None)
@given(events=st.lists(changes(), min_size=1, max_size=10))
def test_the_merged_status_never_contradicts_the_lines(events: list[OrderChange]) -> None:
    order = merge_all(None, events)
    assert not contradicts(order.status, [line.status for line in order.lines])
    assert order.status is order_status(reported_status(order.status_history), [line.status for line in order.lines])
