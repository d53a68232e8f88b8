"""The merge shares what an event did not change, and nothing reads that sharing as meaning.

`apply_change` keeps an untouched collection, an unchanged reference list, channel list or
identity-key list, and every item a patch did not write, as the *same objects* as in the state
before; `changed_paths` skips a collection, and an item, that is still the same object. These
tests prove the shortcuts change no answer: each entry equals the entry computed from deep
copies of both states (where nothing is shared, so every value is compared), on generated
events and on the decoded journeys of every channel; and a repeated fact never grows a list.
"""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from order_domain.merge import apply_change, empty_state, initial_state
from order_domain.model import OrderChange
from order_domain.significance import changed_paths, event_entry
from order_domain.timeline import event_set
from tests.strategies import changes, unique_event_ids
from tests.unit.timeline_kit import journeys


def _folded_entries(events: list[OrderChange]) -> list[tuple[object, object]]:
    """(entry from the shared states, entry from deep copies of them), per event, in event-time order."""
    pairs, state = [], None
    for event in event_set(events):
        after = apply_change(state if state is not None else initial_state(event.order_id), event)
        pairs.append((event_entry(state, after, event), event_entry(copy.deepcopy(state), copy.deepcopy(after), event)))
        state = after
    return pairs


@settings(max_examples=150, deadline=None)
@given(events=st.lists(changes(), min_size=1, max_size=10).map(unique_event_ids))
def test_entries_do_not_depend_on_shared_objects(events: list[OrderChange]) -> None:
    for shared, copied in _folded_entries(events):
        assert shared == copied


def test_journey_entries_do_not_depend_on_shared_objects() -> None:
    checked = 0
    for events in journeys().values():  # one order's events each
        for shared, copied in _folded_entries(list(events)):
            assert shared == copied
            checked += 1
    assert checked >= 400


@settings(max_examples=100, deadline=None)
@given(event=changes())
def test_a_repeated_fact_keeps_the_lists(event: OrderChange) -> None:
    """The same event again (another id, later stamp) adds no reference, channel or identity key:
    the lists are the very objects of the state before, and the diff reports none of them."""
    once = apply_change(initial_state(event.order_id), event)
    again = event.model_copy(update={"event_id": event.event_id + "-again", "source_version": None,
                                     "occurred_at": event.occurred_at.replace(year=event.occurred_at.year + 1)})
    twice = apply_change(once, again)
    for field in ("references", "channels_seen", "identity_keys", "linked_orders"):
        assert twice[field] is once[field]
    assert not {"identity_keys", "linked_orders"} & set(changed_paths(once, twice))


def test_the_shared_empty_state_is_never_changed() -> None:
    before = copy.deepcopy(empty_state())
    for events in journeys().values():
        for event in events:
            apply_change(initial_state(event.order_id), event)
            event_entry(None, apply_change(initial_state(event.order_id), event), event)
    assert empty_state() == before
