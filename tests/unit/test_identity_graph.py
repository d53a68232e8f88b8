"""The identity graph (pure): components are a function of the sets of orders and unlinks,
an unlink removes exactly one edge, and the round-by-round walk reaches exactly the component.

The reference the properties compare with is a plain fixpoint written here (keep adding the
keys of any order that shares a live pair with the set), not the union-find under test.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.decoders import ChannelDecodeError, IgnoredPayload, decode
from order_domain.identity import hash_card_token, identity_keys
from order_domain.identity_graph import Expansion, IdentityGraph, Pair, links, order_edges, pair
from order_domain.model import CustomerIdentity
from tests.unit.test_decoder_corpora import CORPORA, OPTIONS

KEYS = ["card:c1", "card:c2", "loyalty:L1", "loyalty:L2", "email:a@x.org", "email:b@x.org", "phone:+15550100",
        "customer:7"]
key_sets = st.lists(st.lists(st.sampled_from(KEYS), min_size=1, max_size=4, unique=True), max_size=12)
severed_pairs = st.lists(st.tuples(st.sampled_from(KEYS), st.sampled_from(KEYS)).filter(lambda p: p[0] != p[1])
                         .map(lambda p: pair(*p)), max_size=5)


def graph_of(orders: Iterable[Iterable[str]], severed: Iterable[Pair] = ()) -> IdentityGraph:
    graph = IdentityGraph()
    for keys in orders:
        graph.add_order(keys)
    for a, b in severed:
        graph.sever(a, b)
    return graph


def reachable(orders: list[list[str]], severed: set[Pair], start: str) -> frozenset[str]:
    """Reference: grow the set by any live pair of any order that touches it, until nothing changes."""
    found = {start}
    changed = True
    while changed:
        changed = False
        for keys in orders:
            for a in keys:
                for b in keys:
                    if a != b and (a in found) != (b in found) and pair(a, b) not in severed:
                        found |= {a, b}
                        changed = True
    return frozenset(found)


def test_three_hops_are_one_customer() -> None:
    """Anonymous card purchase; an order ties the card to a loyalty id; another the loyalty id to an e-mail."""
    graph = graph_of([["card:c1"], ["card:c1", "loyalty:L1"], ["loyalty:L1", "email:a@x.org"], ["email:b@x.org"]])
    assert graph.components() == [frozenset({"card:c1", "email:a@x.org", "loyalty:L1"}), frozenset({"email:b@x.org"})]
    assert graph.path("card:c1", "email:a@x.org") == ["card:c1", "loyalty:L1", "email:a@x.org"]


@settings(max_examples=300, deadline=None)
@given(orders=key_sets, severed=severed_pairs, data=st.data())
def test_any_arrival_order_and_duplication_gives_the_same_components(
        orders: list[list[str]], severed: list[Pair], data: st.DataObject) -> None:
    arrival = data.draw(st.permutations(orders + data.draw(st.lists(st.sampled_from(orders), max_size=4))
                                        if orders else []))
    cuts = data.draw(st.permutations(severed + severed[:1]))
    assert graph_of(arrival, cuts).components() == graph_of(orders, severed).components()


@settings(max_examples=300, deadline=None)
@given(orders=key_sets, severed=severed_pairs)
def test_components_are_exactly_the_reachable_sets(orders: list[list[str]], severed: list[Pair]) -> None:
    graph = graph_of(orders, severed)
    for component in graph.components():
        for key in component:
            assert component == reachable(orders, set(severed), key)
    assert set().union(*graph.components()) == {k for keys in orders for k in keys}


@settings(max_examples=300, deadline=None)
@given(orders=key_sets.filter(lambda o: any(len(keys) > 1 for keys in o)), data=st.data())
def test_an_unlink_removes_exactly_one_edge(orders: list[list[str]], data: st.DataObject) -> None:
    before = graph_of(orders)
    a, b = data.draw(st.sampled_from(sorted(before.edges)))
    after = graph_of(orders, [(a, b)])
    joined = before.component(a)
    untouched = [c for c in before.components() if c != joined]
    assert [c for c in after.components() if not c & joined] == untouched  # nothing else moves
    if after.path(a, b) is None:  # a bridge: the component splits in two, one side with each key
        assert after.component(a) | after.component(b) == joined
        assert not after.component(a) & after.component(b)
        assert after.component(a) == reachable(orders, {(a, b)}, a)
    else:  # still joined through other keys: the path says through which, avoiding the cut pair
        path = after.path(a, b)
        assert path is not None and len(path) > 2 and after.component(a) == joined
        assert all(pair(x, y) in after.live_edges() for x, y in zip(path, path[1:]))


def walk(orders: list[list[str]], severed: set[Pair], start: str, **bounds: int) -> Expansion:
    """Drive the walk as the stores do: per round, the keys sharing an order with each frontier
    key, and the unlinks that touch the frontier."""
    found = Expansion(start, **bounds)
    while frontier := found.frontier:
        near = {key: {k for keys in orders if key in keys for k in keys} for key in frontier}
        found.absorb(near, {p for p in severed if set(p) & set(frontier)})
    return found


@settings(max_examples=300, deadline=None)
@given(orders=key_sets, severed=severed_pairs, start=st.sampled_from(KEYS))
def test_the_round_by_round_walk_reaches_exactly_the_component(
        orders: list[list[str]], severed: list[Pair], start: str) -> None:
    found = walk(orders, set(severed), start)
    assert set(found.keys) == reachable(orders, set(severed), start) and not found.truncated
    assert found.edges <= graph_of(orders, severed).live_edges()


def test_the_walk_takes_one_round_per_hop_plus_the_one_that_finds_nothing_new() -> None:
    chain = [["card:c1", "loyalty:L1"], ["loyalty:L1", "email:a@x.org"], ["email:a@x.org", "phone:+15550100"]]
    found = walk(chain, set(), "card:c1")
    assert found.keys == ["card:c1", "email:a@x.org", "loyalty:L1", "phone:+15550100"] and found.rounds == 4
    assert walk(chain, {pair("loyalty:L1", "email:a@x.org")}, "card:c1").keys == ["card:c1", "loyalty:L1"]


def test_the_walk_is_bounded_and_says_so() -> None:
    star = [["loyalty:shared", f"email:{n}@x.org"] for n in range(10)]
    wide = walk(star, set(), "loyalty:shared", max_keys=5)
    assert len(wide.keys) == 5 and wide.truncated
    chain = [[f"email:{n}@x.org", f"email:{n + 1}@x.org"] for n in range(10)]
    long = walk(chain, set(), "email:0@x.org", max_rounds=3)
    assert long.keys == ["email:0@x.org", "email:1@x.org", "email:2@x.org", "email:3@x.org"] and long.truncated


def test_a_masked_card_never_joins_only_a_payment_token_does() -> None:
    """Two strangers paying with cards that end alike share no key; a token is a key of its own."""
    ana = CustomerIdentity(email="ana@x.org")
    bob = CustomerIdentity(email="bob@x.org")
    assert order_edges(identity_keys(ana)) == order_edges(identity_keys(bob)) == set()
    assert not links("card:") and not links("last4:1111") and not links("pan:************1111")
    tokenised = identity_keys(CustomerIdentity(email="ana@x.org", card_token="tok_9f8e"))
    card = next(k for k in tokenised if k.startswith("card:"))
    assert "tok_9f8e" not in card and len(card) == len("card:") + 32  # a fingerprint, never the token
    graph = graph_of([identity_keys(ana) + ["last4:1111"], identity_keys(bob) + ["last4:1111"]])
    assert graph.components() == [frozenset({"email:ana@x.org"}), frozenset({"email:bob@x.org"})]


def test_decoders_emit_card_keys_only_from_payment_tokens() -> None:
    """Over every corpus message of every channel: a `card:` key is the fingerprint of a token the
    payment system issued, never of a card number, masked or not; tenders with a PAN only give none."""
    seen = {"token": 0, "pan_only": 0}
    for channel in ("shopify", "amazon_sp", "poslog"):
        for path in sorted((CORPORA / channel).iterdir()):
            if path.name == "EXPECTED.json":
                continue
            try:
                changes = decode(channel, path.read_bytes(), OPTIONS)
            except (ChannelDecodeError, IgnoredPayload):
                continue
            for change in changes:
                token = change.customer.card_token if change.customer else None
                cards = [k for k in identity_keys(change.customer) if k.startswith("card:")]
                assert cards == ([f"card:{hash_card_token(token)}"] if token else []), path.name
                assert token is None or not re.fullmatch(r"[\d*Xx\s-]{12,23}", token), path.name
                seen["token"] += bool(token)
                seen["pan_only"] += not token and any(p.last4 for p in change.payments)
    assert seen["token"] >= 1 and seen["pan_only"] >= 5
