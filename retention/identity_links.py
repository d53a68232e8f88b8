"""The identity graph as the stores hold it: edges from orders in every tier, severed pairs
from CSR unlinks (adapter; query bodies are plain functions, so the synchronous erasure and
CLI and the asynchronous API walk the graph with the same requests).

Where the graph lives (nothing is copied for it):
- edges: every order joins the keys it carries. Hot and warm orders carry them as
  `identity_keys` (one query over `P-orders` and the warm month indices), cold orders as
  the locator's `customer_keys` (entries with tier cold). A full Kafka replay or rebuild
  recreates the orders and so the edges; tier moves keep them; an erasure deletes them
  with the orders. Ingest writes nothing extra, so the graph costs ingest nothing.
- severed pairs: `P-identity-unlinks`, one document per pair a CSR or admin unlinked
  (`orderrepo identity unlink`), stored as the two keys' one-way hashes (as tombstones
  store erased keys) with who, when and why. This index is not a projection of Kafka: a
  replay or rebuild leaves it alone, so an unlink outlives both.
How one key's component is found: `order_domain.identity_graph.Expansion`, a round per hop;
each round asks, for the frontier keys, which keys share an order with them (a terms
aggregation under a terms aggregation: the adjacency, never the orders themselves) in the
engine tiers and in the locator, and which unlinks touch them: three searches in one
`_msearch` request (one round trip per hop).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from adapters.search_engine import AsyncSearchEngine, EngineError, SearchEngine
from index_templates import load_template
from order_domain.identity_graph import MAX_COMPONENT_KEYS, MAX_ROUNDS, Expansion, Pair, pair
from order_domain.tier_policy import Tier
from retention.storage import TierNames
from retention.tombstones import key_hash

TEMPLATE = "identity-unlinks.json"
MAX_UNLINKS_PER_ROUND = 1000
IGNORE_MISSING = {"ignore_unavailable": "true"}  # no locator or unlinks index yet: no edges or unlinks from it


@dataclass(frozen=True)
class IdentitySources:
    """Where a prefix's graph is read: engine order indices, the locator (named by the tiers'
    own `TierNames`), and the unlinks."""

    prefix: str

    @property
    def orders(self) -> str:
        names = TierNames(self.prefix)
        return f"{names.hot.orders},{names.warm_index('orders', '*')}"

    @property
    def locator(self) -> str:
        return TierNames(self.prefix).locator

    @property
    def unlinks(self) -> str:
        return f"{self.prefix}-identity-unlinks"


def unlink_id(a: str, b: str) -> str:
    first, second = sorted((key_hash(a), key_hash(b)))
    return hashlib.sha256(f"{first}:{second}".encode()).hexdigest()


def adjacency_query(frontier: list[str], field: str, *, max_keys: int, cold_only: bool = False) -> dict[str, Any]:
    """Per frontier key: the keys sharing an order with it (and how many orders carry it)."""
    filters: list[dict[str, Any]] = [{"terms": {field: frontier}}]
    if cold_only:
        filters.append({"term": {"tier": str(Tier.COLD)}})
    near = {"terms": {"field": field, "size": max_keys + 1}}
    return {"size": 0, "query": {"bool": {"filter": filters}}, "aggs": {"keys": {
        "terms": {"field": field, "include": frontier, "size": len(frontier)}, "aggs": {"near": near}}}}


def unlinks_query(frontier: list[str]) -> dict[str, Any]:
    return {"size": MAX_UNLINKS_PER_ROUND, "_source": ["key_hashes", "by", "reason", "at"],
            "query": {"terms": {"key_hashes": sorted(key_hash(k) for k in frontier)}}}


def round_request(sources: IdentitySources, frontier: list[str], *, max_keys: int) -> str:
    """One round as one `_msearch` body: engine tiers, cold locator entries, unlinks (a missing
    locator or unlinks index answers nothing)."""
    searches = [(sources.orders, adjacency_query(frontier, "identity_keys", max_keys=max_keys)),
                (sources.locator, adjacency_query(frontier, "customer_keys", max_keys=max_keys, cold_only=True)),
                (sources.unlinks, unlinks_query(frontier))]
    lines = [line for index, body in searches
             for line in (orjson.dumps({"index": index, "ignore_unavailable": True}), orjson.dumps(body))]
    return b"\n".join(lines).decode() + "\n"


def round_answers(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The three answers of `round_request`; a failed search fails the round (never a partial graph)."""
    responses = answer["responses"]
    for response in responses:
        if "error" in response:
            raise EngineError(int(response.get("status") or 500), f"identity graph search failed: {response['error']}")
    return responses


@dataclass
class RoundAnswer:
    near: dict[str, set[str]]
    orders: dict[str, int]  # orders carrying each frontier key, every tier
    severed: set[Pair]
    unlinks: list[dict[str, Any]]
    cut_short: bool  # a key shares orders with more keys than were asked for


def read_round(frontier: list[str], answers: list[dict[str, Any]]) -> RoundAnswer:
    """What the three answers of `round_requests` say, severed pairs spelled as keys."""
    near: dict[str, set[str]] = {}
    orders: dict[str, int] = {}
    cut_short = False
    for answer in answers[:2]:
        for bucket in ((answer.get("aggregations") or {}).get("keys") or {}).get("buckets", []):
            near.setdefault(bucket["key"], set()).update(b["key"] for b in bucket["near"]["buckets"])
            orders[bucket["key"]] = orders.get(bucket["key"], 0) + int(bucket["doc_count"])
            cut_short = cut_short or int(bucket["near"].get("sum_other_doc_count") or 0) > 0
    unlinks = [hit["_source"] for hit in answers[2]["hits"]["hits"]]
    known = {*frontier, *(k for ks in near.values() for k in ks)}
    return RoundAnswer(near, orders, severed_pairs(unlinks, known), unlinks, cut_short)


def severed_pairs(unlinks: Iterable[Mapping[str, Any]], keys: Iterable[str]) -> set[Pair]:
    """The unlinked pairs among `keys` (an unlink names hashes; the walk knows the keys)."""
    by_hash = {key_hash(k): k for k in keys}
    found = set()
    for unlink in unlinks:
        first, second = (by_hash.get(h) for h in unlink["key_hashes"])
        if first is not None and second is not None and first != second:
            found.add(pair(first, second))
    return found


@dataclass
class Component:
    """One key's customer: the walk, and what the rounds said on the way (for `identity show`)."""

    walk: Expansion
    orders: dict[str, int]
    unlinks: list[dict[str, Any]]

    def absorb(self, frontier: list[str], answers: list[dict[str, Any]]) -> None:
        answer = read_round(frontier, answers)
        self.walk.absorb(answer.near, answer.severed)
        self.walk.truncated = self.walk.truncated or answer.cut_short
        self.orders.update(answer.orders)
        self.unlinks += answer.unlinks


def new_component(key: str, *, max_keys: int = MAX_COMPONENT_KEYS, max_rounds: int = MAX_ROUNDS) -> Component:
    return Component(Expansion(key, max_keys=max_keys, max_rounds=max_rounds), {}, [])


async def component_of(engine: AsyncSearchEngine, sources: IdentitySources, key: str) -> Component:
    """`IdentityLinks.component` for the API."""
    found = new_component(key)
    while frontier := found.walk.frontier:
        body = round_request(sources, frontier, max_keys=found.walk.max_keys)
        found.absorb(frontier, round_answers(await engine.request("POST", "/_msearch", body=body)))
    return found


class IdentityLinks:
    """Synchronous graph access for the CLI and the erasure."""

    def __init__(self, engine: SearchEngine, prefix: str) -> None:
        self.engine = engine
        self.sources = IdentitySources(prefix)

    def component(self, key: str, *, max_keys: int = MAX_COMPONENT_KEYS, max_rounds: int = MAX_ROUNDS) -> Component:
        found = new_component(key, max_keys=max_keys, max_rounds=max_rounds)
        while frontier := found.walk.frontier:
            body = round_request(self.sources, frontier, max_keys=max_keys)
            found.absorb(frontier, round_answers(self.engine.request("POST", "/_msearch", body=body)))
        return found

    def install(self) -> None:
        self.engine.put_index_template(self.sources.unlinks, load_template(TEMPLATE, self.sources.prefix))

    def unlink(self, a: str, b: str, *, by: str, reason: str, at: datetime) -> str:
        """Record that `a` and `b` are not one customer through a shared order; returns the record id."""
        pair(a, b)  # refuses a key paired with itself
        self.install()
        record = {"key_hashes": sorted((key_hash(a), key_hash(b))), "by": by, "reason": reason, "at": at.isoformat()}
        self.engine.request("PUT", f"/{self.sources.unlinks}/_doc/{unlink_id(a, b)}", params={"refresh": "true"},
                            body=record)
        return unlink_id(a, b)

    def relink(self, a: str, b: str) -> bool:
        """Withdraw an unlink; False when there was none."""
        results = list(self.engine.bulk([{"_op_type": "delete", "_index": self.sources.unlinks,
                                          "_id": unlink_id(a, b)}], refresh=True))
        return bool(results) and results[0].ok

    def forget(self, keys: Iterable[str]) -> int:
        """Delete every unlink touching `keys` (an erasure); returns how many went."""
        hashes = sorted({key_hash(k) for k in keys})
        if not hashes:
            return 0
        answer = self.engine.request("POST", f"/{self.sources.unlinks}/_delete_by_query",
                                     params={"refresh": "true", "conflicts": "proceed", **IGNORE_MISSING},
                                     body={"query": {"terms": {"key_hashes": hashes}}})
        return int(answer.get("deleted", 0))
