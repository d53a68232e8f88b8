"""The timeline and as-of answers are functions of the event *set*: property tests, pure.

Two sources of event sets: hypothesis-built canonical events (every field, many
ties on occurred_at and source_version) and decoded sample journeys of all six
channels (Shopify, Amazon SP-API, POSLog, canonical app / call center / B2B),
including the link events one order's events make for another. Each set is
shuffled and partly duplicated. Budget: TIMELINE_EXAMPLES scales the counts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from order_domain.merge import merge_all
from order_domain.model import Channel, ChangeKind, OrderChange
from order_domain.status_rules import contradicts
from order_domain.timeline import as_of, entries, event_set, timeline, with_links
from tests.strategies import changes, unique_event_ids
from tests.unit.timeline_kit import channels_covered, examples, journeys

JOURNEY_IDS = st.sampled_from(sorted(journeys()))


@st.composite
def arrivals(draw: st.DrawFn, events: list[OrderChange]) -> list[OrderChange]:
    """The same events in another arrival order, some of them more than once."""
    return draw(st.permutations(events + draw(st.lists(st.sampled_from(events), max_size=len(events)))))


def instants(events: list[OrderChange]) -> list[datetime]:
    """Every event instant, a moment between each two, and one before the first and after the last."""
    times = sorted({event.occurred_at for event in events})
    between = [a + (b - a) / 2 for a, b in zip(times, times[1:], strict=False)]
    return [times[0] - timedelta(seconds=1), *times, *between, times[-1] + timedelta(days=1)]


def assert_set_function(events: list[OrderChange], arrived: list[OrderChange]) -> None:
    expected = entries(events)
    assert entries(arrived) == expected  # entry for entry: ids, statuses, changes, significance, digest
    current = merge_all(None, arrived)
    assert expected[-1].status_after == current.status  # the timeline never contradicts the document
    assert expected[0].significant and expected[0].status_before is None
    assert [e.key for e in expected] == sorted(e.key for e in expected)
    for at in instants(events):
        answer = as_of(arrived, at)
        reference = [event for event in events if event.occurred_at <= at]
        if not reference:
            assert answer is None
            continue
        assert answer is not None and answer.to_document() == merge_all(None, reference).to_document()
        assert answer.status.value == [e for e in expected if e.occurred_at <= at][-1].status_after
        assert not contradicts(answer.status, [line.status for line in answer.lines])


@settings(max_examples=examples(1200))
@given(order_id=JOURNEY_IDS, data=st.data())
def test_journeys_of_every_channel_give_one_timeline_in_any_arrival_order(order_id: str, data: st.DataObject) -> None:
    events = list(journeys()[order_id])
    assert_set_function(events, data.draw(arrivals(events)))


ORDER_EVENTS = st.lists(changes(), min_size=1, max_size=10).map(unique_event_ids).map(
    lambda events: [event for event in events if event.kind is not ChangeKind.HEARTBEAT]).filter(bool)


@settings(max_examples=examples(300))
@given(events=ORDER_EVENTS, data=st.data())
def test_generated_events_give_one_timeline_in_any_arrival_order(
    events: list[OrderChange], data: st.DataObject
) -> None:
    assert_set_function(events, data.draw(arrivals(events)))


def test_the_journeys_cover_every_channel_and_both_kinds_of_link() -> None:
    assert channels_covered() == set(Channel)
    kinds = {link["relation"] for events in journeys().values() for event in events
             for link in event.model_dump(mode="json")["linked_orders"]}
    assert kinds == {"replaced_by", "exchange_for"}


def test_a_link_shows_on_both_orders() -> None:
    replacement = next(event for events in journeys().values() for event in events if event.original_order_id)
    original = replacement.original_order_id
    assert original is not None
    on_original = [entry for entry in timeline(journeys()[original]) if entry.kind == "linked"]
    assert [entry.changes["linked_orders"][0]["order_id"] for entry in on_original][-1] == replacement.order_id
    on_replacement = timeline(journeys()[replacement.order_id])
    assert any("exchange_link" in entry.categories for entry in on_replacement)


def test_a_conflicting_resend_of_an_event_id_is_settled_by_content_not_arrival() -> None:
    first, *_ = journeys()[sorted(journeys())[0]]
    other = first.model_copy(update={"actor": "someone-else"})
    assert event_set([first, other]) == event_set([other, first])
    assert len(event_set([first, other, first])) == 1


def test_link_events_are_derived_once_per_target_and_deterministically() -> None:
    replacement = next(event for events in journeys().values() for event in events if event.original_order_id)
    expanded, source_of = with_links([replacement, replacement])
    links = [event for event in expanded if event.order_id == replacement.original_order_id]
    assert len(links) == 2 and links[0] == links[1] and source_of == {links[0].event_id: replacement.event_id}
