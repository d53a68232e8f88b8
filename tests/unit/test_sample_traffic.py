"""The sample traffic generator: adapters accept it, it is reproducible, realistic in mix, and faults are honest."""

from __future__ import annotations

import random
import statistics
from collections import Counter
from functools import lru_cache

import pytest

from ingest.decoders import ChannelDecodeError, decode
from ingest.publish import publish_traffic
from tests.fakes.dead_letter_sink import RecordingSink
from sample_traffic import TrafficMessage, expected_orders, generate, inject_faults
from ingest.topics import CHANNEL_FORMATS, TopicMap
from order_domain.model import ChangeKind, Channel, OrderChange

JOURNEYS = {"bopis", "ship_to_home", "call_center_return_replacement", "store_ship_to_home", "marketplace", "b2b",
            "bought_online_returned_in_store", "cancelled", "exchange", "store_sale"}
MIX = {Channel.WEB: 0.35, Channel.APP: 0.15, Channel.STORE: 0.25, Channel.MARKETPLACE: 0.12,
       Channel.CALL_CENTER: 0.08, Channel.B2B: 0.05}


@lru_cache(maxsize=None)
def traffic(orders: int, seed: int) -> tuple[TrafficMessage, ...]:
    return tuple(generate(orders=orders, seed=seed))


@lru_cache(maxsize=None)
def decoded(orders: int, seed: int) -> tuple[tuple[TrafficMessage, tuple[OrderChange, ...]], ...]:
    return tuple((m, tuple(decode(CHANNEL_FORMATS[m.channel], m.value))) for m in traffic(orders, seed))


def created_by_order(orders: int, seed: int) -> dict[str, tuple[Channel, str]]:
    """order id -> (origin channel, journey) for every order that has a creating event."""
    return {change.order_id: (change.channel, message.journey) for message, changes in decoded(orders, seed)
            for change in changes if change.kind is ChangeKind.CREATED}


@pytest.mark.parametrize("seed", [1, 2])
def test_every_message_decodes_and_is_keyed_by_an_order_it_speaks_about(seed: int) -> None:
    for message, changes in decoded(300, seed):
        assert changes, message
        assert message.key.decode() in {change.order_id for change in changes}
        assert message.journey in JOURNEYS


def test_same_seed_same_bytes_and_different_seed_differs() -> None:
    assert tuple(generate(orders=300, seed=1)) == traffic(300, 1)
    assert [m.value for m in traffic(300, 1)] != [m.value for m in traffic(300, 2)]


@pytest.mark.parametrize("orders", [0, 1, 2, 7, 300])
def test_exactly_the_requested_number_of_orders_is_created(orders: int) -> None:
    assert len(created_by_order(orders, 3)) == orders


def test_every_journey_appears_and_the_channel_mix_is_close() -> None:
    created = created_by_order(2000, 7)
    assert {journey for _, journey in created.values()} == JOURNEYS
    counts = Counter(channel for channel, _ in created.values())
    for channel, share in MIX.items():
        assert abs(counts[channel] / len(created) - share) < 0.035, (channel, counts)


def test_one_orders_messages_are_in_time_order() -> None:
    last: dict[str, object] = {}
    for message, changes in decoded(2000, 7):
        own = next(c for c in changes if c.order_id == message.key.decode())
        assert last.get(own.order_id, own.occurred_at) <= own.occurred_at, own
        last[own.order_id] = own.occurred_at


def test_customer_histories_are_skewed() -> None:
    per_customer = Counter(change.customer.customer_id for _, changes in decoded(2000, 7) for change in changes
                           if change.kind is ChangeKind.CREATED and change.customer and change.customer.customer_id)
    assert max(per_customer.values()) >= 8 * statistics.median(per_customer.values())


def test_phone_formats_vary_and_payment_data_is_masked() -> None:
    phones = {change.customer.phone for _, changes in decoded(2000, 7) for change in changes
              if change.customer and change.customer.phone}
    assert any(p.startswith("(") for p in phones) and any(p.startswith("+1 ") for p in phones)
    assert any(p.isdigit() for p in phones)
    payments = [p for _, changes in decoded(2000, 7) for change in changes for p in change.payments]
    assert payments and all(p.last4 is None or len(p.last4) == 4 for p in payments)
    assert not any(b"4111111111111111" in m.value for m in traffic(2000, 7))


def test_bought_online_returned_in_store_links_the_web_order() -> None:
    messages = traffic(2000, 7)
    orders = expected_orders(messages)
    web_ids = {m.key.decode() for m in messages if m.journey == "bought_online_returned_in_store"
               and m.channel is Channel.WEB}
    linked = [orders[i] for i in web_ids if any(r.channel is Channel.STORE for r in orders[i].returns)]
    assert linked, "no web order carries a store return"
    assert all(r.store_id and r.store_id.startswith("store-") for o in linked for r in o.returns)


def test_replacement_orders_point_back_to_the_original() -> None:
    orders = expected_orders(traffic(2000, 7))
    replacements = [o for o in orders.values() if o.original_order_id]
    assert replacements
    for replacement in replacements:
        original = orders[replacement.original_order_id]
        assert any(r.exchange_order_id == replacement.order_id for r in original.returns)


def test_anonymous_store_sales_are_later_linked_by_loyalty_id() -> None:
    claims = [c for _, changes in decoded(2000, 7) for c in changes if c.kind is ChangeKind.CUSTOMER_LINKED]
    assert claims and all(c.order_id.startswith("pos-") and c.customer.loyalty_id for c in claims)


def test_faults_poison_fails_good_decodes_and_nothing_is_lost() -> None:
    clean = traffic(300, 1)
    faulty = list(inject_faults(clean, seed=5, poison_rate=0.05))
    poison = [f for f in faulty if f.poison_reason is not None]
    good = [f.message for f in faulty if f.poison_reason is None]
    assert len(poison) > 5 and len(good) > len(clean)
    for f in poison:
        with pytest.raises(ChannelDecodeError):
            decode(CHANNEL_FORMATS[f.message.channel], f.message.value)
        assert f.message.key and f.message.channel in CHANNEL_FORMATS
    good_values = {m.value for m in clean}
    assert all(m.value in good_values for m in good)  # good ones are originals, which all decode
    assert set(good) == set(clean)
    assert [m for m in good] != list(clean), "expected some reordering"
    assert list(inject_faults(clean, seed=5, poison_rate=0.05)) == faulty


def test_poison_covers_every_kind_of_fault() -> None:
    faulty = inject_faults(traffic(2000, 7), seed=1, poison_rate=0.2)
    reasons = {f.poison_reason for f in faulty if f.poison_reason}
    for word in ("malformed", "truncated", "quantity", "missing", "timezone", "unknown Shopify topic", "hostile"):
        assert any(word in reason for reason in reasons), word


def test_expected_orders_ignore_message_order() -> None:
    clean = list(traffic(300, 1))
    shuffled = clean[:]
    random.Random(9).shuffle(shuffled)
    first = {k: v.to_document() for k, v in expected_orders(clean).items()}
    assert first == {k: v.to_document() for k, v in expected_orders(shuffled + clean[:50]).items()}


def test_generate_is_lazy_and_validates_arguments() -> None:
    stream = generate(orders=1_000_000, seed=1)
    assert next(iter(stream)).key
    with pytest.raises(ValueError):
        generate(orders=-1, seed=1)


def test_publish_sends_to_the_channel_topic_with_the_order_key() -> None:
    sink, topics, seen = RecordingSink(), TopicMap.build("t"), []
    count = publish_traffic(traffic(300, 1), sink=sink, topics=topics, progress=seen.append)
    assert count == len(traffic(300, 1)) == len(sink.sent) and seen[-1] == count
    assert all(r.topic == f"t.{m.channel.value}" and r.key == m.key and r.value == m.value
               for r, m in zip(sink.sent, traffic(300, 1), strict=True))
