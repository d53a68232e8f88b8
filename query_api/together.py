"""The engine questions of one tiered read, sent in one round trip (adapter side).

A reference lookup or a history page asks the engine three independent things: the hot + warm
order query, the cold entries of the order locator, and where the locator puts the orders found
(so that a stale copy a move leaves behind for a moment is never shown). Sent one by one they
were three round trips, each costing the API more CPU than its own work on the answer; here
they go as one `_msearch`. Guarantees kept from the one-at-a-time reads:
- a hit is kept when the locator has no entry for it or its entry names the hit's index (the
  rule of `TierReader.authoritative`). The batched locator search only ever *confirms* a hit: a
  hit it did not confirm (no entry found, an entry naming another tier — the search sees the
  locator as of its last refresh, so a flip a moment ago may not show yet —, or an order with
  two copies among the hits) is checked by id, realtime, as before; so nothing is dropped, and
  no second copy shown, on a search's word. Once the locator holds every order, the check is skipped;
- one round trip in the common case: the batch also asks whether the locator holds any entry
  outside hot or in the middle of a move (`MOVES`, a size-0 count). When it holds none, a hot hit
  the locator search did not find is answered without the check by id: with no move anywhere, an
  order without an entry, or with a hot one, is answered by hot (the `authoritative` rule).
  Why a refresh-delayed view is safe here: the mover writes a move's intent (`pending`) and
  refreshes the locator before it copies anything (`retention.mover.Mover.move`), so every
  locator view taken after a move began shows it; a view showing no move was taken before any
  copy existed, when hot was the one copy. A search that saw two copies of one order (the move's
  target written before the view, the source not yet deleted) still checks them by id. This is
  the guarantee of a confirmation by the batched locator search itself: every hit shown is the
  copy the locator named as of its view, and never two copies of one order;
- an item error in the batch raises the engine error it is, never an empty answer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import orjson

from adapters.search_engine import AsyncSearchEngine, EngineError
from query_api.queries import reference_spellings
from query_api.read_port import MAX_REFERENCE_MATCHES, PageRequest
from retention.locator import customer_query
from order_domain.tier_policy import Tier
from retention.tier_reader import TierReader, names_index

Hits = list[dict[str, Any]]
WHERE = ["tier", "location"]  # all a screen reads of a locator entry
# whether any entry is outside hot or mid-move: none = every hot hit without an entry is the answer
MOVES = {"size": 0, "track_total_hits": 1, "query": {"bool": {"minimum_should_match": 1, "should": [
    {"bool": {"must_not": [{"term": {"tier": str(Tier.HOT)}}]}}, {"exists": {"field": "pending.phase"}}]}}}
NO_ENTRY = {"tier": str(Tier.HOT), "location": ""}  # how a hit without an entry is judged: hot answers


async def search_together(engine: AsyncSearchEngine, searches: Iterable[tuple[str, dict[str, Any]]]
                          ) -> list[dict[str, Any]]:
    """Each (index, body) search's answer, as `search` would give it, from one `_msearch`."""
    lines = [orjson.dumps(part) for index, body in searches for part in ({"index": index}, body)]
    answer = await engine.request("POST", "/_msearch", body=(b"\n".join(lines) + b"\n").decode())
    for response in answer["responses"]:
        if "error" in response:
            raise EngineError(int(response.get("status") or 500), str(response["error"])[:2000])
    return list(answer["responses"])


def where_by_reference(reference: str) -> dict[str, Any]:
    """The locator entries, any tier, of the orders a reference names (as `reference_query` asks)."""
    should = [{"term": {"order_id": reference}}, {"terms": {"refs": reference_spellings(reference)}}]
    return {"size": MAX_REFERENCE_MATCHES, "_source": WHERE,
            "query": {"bool": {"should": should, "minimum_should_match": 1}}}


def where_by_keys(keys: list[str], page: PageRequest) -> dict[str, Any]:
    """The locator entries, any tier, of a history page (the same sort and cursor)."""
    return {**customer_query(keys, size=page.size, after=page.after), "_source": WHERE}


def settled(moves: dict[str, Any]) -> bool:
    """Whether the `MOVES` answer found no entry outside hot and no move under way."""
    return int(moves["hits"]["total"]["value"]) == 0


class LocatorScreen:
    """`EngineOrderReader`'s screen, from the entries a batched locator search already found
    (`where`; None: none asked) and the batched `MOVES` answer."""

    def __init__(self, tiers: TierReader, where: dict[str, Any] | None, moves: dict[str, Any]) -> None:
        self.tiers = tiers
        self.known = {hit["_id"]: hit["_source"] for hit in where["hits"]["hits"]} if where is not None else {}
        self.settled = settled(moves)

    def _confirms(self, hit: dict[str, Any], copies: Counter[str]) -> bool:
        entry = self.known.get(hit["_id"])
        if entry is None and self.settled:
            entry = NO_ENTRY
        return entry is not None and copies[hit["_id"]] == 1 and names_index(entry, hit["_index"])

    async def __call__(self, hits: Hits) -> Hits:
        copies = Counter(hit["_id"] for hit in hits)
        confirmed = {id(hit) for hit in hits if self._confirms(hit, copies)}
        rest = [hit for hit in hits if id(hit) not in confirmed]
        checked = {id(hit) for hit in await self.tiers.authoritative(rest)} if rest else set()
        return [hit for hit in hits if id(hit) in confirmed or id(hit) in checked]
