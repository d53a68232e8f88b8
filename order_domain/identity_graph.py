"""The customer identity graph: which identity keys are one customer. Pure.

Nodes are identity keys (`order_domain.identity.identity_keys`); every order joins the
keys it carries (an edge between each pair of its linking keys). One customer is one
connected component, however many hops apart its keys are: an anonymous card purchase,
an order that ties the card to a loyalty id and one that ties the loyalty id to an e-mail
are one customer. A CSR's unlink *severs* one pair: that pair joins nothing, whichever
orders carry it (the orders themselves are untouched).

Guarantees:
- the components are a function of the *set* of order key sets and the *set* of severed
  pairs: any arrival order, any duplication, gives the same components;
- severing a pair removes exactly that edge: a bridge splits its component in two (one
  side with each key), anything else stays joined (`path` names what still joins them);
- only linking kinds join (`LINKING_KINDS`); a card joins only as a token fingerprint
  (`card:<hash of the payment system's token>`), never as a masked number or last four;
- `Expansion` walks the graph from one key a hop at a time for stores that are asked
  round by round (the API and the erasure ask their indices for the orders carrying the
  frontier keys): it reaches exactly the component, bounded by `max_keys` and `max_rounds`.
The graph holds keys only, never contact details: an order's own name, address or e-mail
is never copied onto another order or a profile.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations

Pair = tuple[str, str]
LINKING_KINDS = frozenset({"customer", "loyalty", "email", "phone", "card"})
MAX_COMPONENT_KEYS = 200  # a "customer" larger than this is a shared key (a store's walk-in card), not a person
MAX_ROUNDS = 12


def kind_of(key: str) -> str:
    return key.split(":", 1)[0] if ":" in key else ""


def links(key: str) -> bool:
    """Whether a key may join others: a linking kind with a value (`card:` only from a token)."""
    kind, _, value = key.partition(":")
    return kind in LINKING_KINDS and bool(value)


def pair(a: str, b: str) -> Pair:
    """The one spelling of an unordered pair of keys."""
    if a == b:
        raise ValueError("a key is not linked to itself")
    return (a, b) if a < b else (b, a)


def order_edges(keys: Iterable[str]) -> set[Pair]:
    """The pairs one order joins: every two of its linking keys."""
    return {pair(a, b) for a, b in combinations(sorted({k for k in keys if links(k)}), 2)}


@dataclass
class IdentityGraph:
    """Edges from order key sets minus severed pairs; components by union-find."""

    edges: set[Pair] = field(default_factory=set)
    severed: set[Pair] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)

    def add_order(self, keys: Iterable[str]) -> None:
        kept = [k for k in keys if links(k)]
        self.keys.update(kept)
        self.edges |= order_edges(kept)

    def sever(self, a: str, b: str) -> None:
        self.severed.add(pair(a, b))

    def live_edges(self) -> set[Pair]:
        return self.edges - self.severed

    def components(self) -> list[frozenset[str]]:
        """Every component, each once, in a stable order (by smallest key)."""
        parent = {key: key for key in self.keys}

        def root(key: str) -> str:
            while parent[key] != key:
                parent[key] = parent[parent[key]]  # path halving
                key = parent[key]
            return key

        for a, b in sorted(self.live_edges()):
            ra, rb = root(a), root(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
        groups: dict[str, set[str]] = {}
        for key in self.keys:
            groups.setdefault(root(key), set()).add(key)
        return sorted((frozenset(g) for g in groups.values()), key=min)

    def component(self, key: str) -> frozenset[str]:
        return next((c for c in self.components() if key in c), frozenset({key}))

    def path(self, a: str, b: str) -> list[str] | None:
        """A shortest chain of keys joining `a` to `b` over live edges (None: not joined)."""
        return shortest_path(adjacency(self.live_edges()), a, b)


def adjacency(edges: Iterable[Pair]) -> dict[str, set[str]]:
    near: dict[str, set[str]] = {}
    for a, b in edges:
        near.setdefault(a, set()).add(b)
        near.setdefault(b, set()).add(a)
    return near


def shortest_path(near: Mapping[str, Iterable[str]], a: str, b: str) -> list[str] | None:
    came_from: dict[str, str | None] = {a: None}
    queue = deque([a])
    while queue:
        key = queue.popleft()
        if key == b:
            chain = [key]
            while (previous := came_from[chain[-1]]) is not None:
                chain.append(previous)
            return chain[::-1]
        for other in sorted(near.get(key, ())):
            if other not in came_from:
                came_from[other] = key
                queue.append(other)
    return None


@dataclass
class Expansion:
    """Breadth-first walk from `start`, fed round by round with what the stores answer.

    Each round the caller asks for `frontier` (keys not yet asked about) and feeds back
    `absorb(near, severed)`: for every order carrying a frontier key, the keys it carries
    (as adjacency: key -> keys sharing an order with it) and the severed pairs that touch
    the frontier. Only edges at an asked key are followed, so a severed pair is always
    known before its edge could be walked: the walk reaches exactly the component.
    """

    start: str
    max_keys: int = MAX_COMPONENT_KEYS
    max_rounds: int = MAX_ROUNDS
    reached: set[str] = field(default_factory=set)
    asked: set[str] = field(default_factory=set)
    edges: set[Pair] = field(default_factory=set)
    severed: set[Pair] = field(default_factory=set)
    rounds: int = 0
    truncated: bool = False

    def __post_init__(self) -> None:
        self.reached.add(self.start)

    @property
    def frontier(self) -> list[str]:
        if self.rounds >= self.max_rounds:
            self.truncated = self.truncated or bool(self.reached - self.asked)
            return []
        return sorted(k for k in self.reached - self.asked if links(k))

    def absorb(self, near: Mapping[str, Iterable[str]], severed: Iterable[Pair]) -> None:
        asking = set(self.frontier)
        self.asked |= asking
        self.rounds += 1
        self.severed.update(severed)
        for key in sorted(asking):
            for other in sorted(near.get(key, ())):
                if other == key or not links(other) or pair(key, other) in self.severed:
                    continue
                self.edges.add(pair(key, other))
                if other not in self.reached:
                    if len(self.reached) >= self.max_keys:
                        self.truncated = True
                        continue
                    self.reached.add(other)

    @property
    def keys(self) -> list[str]:
        return sorted(self.reached)
