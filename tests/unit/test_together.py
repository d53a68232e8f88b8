"""The batched tiered reads: the locator screen from found entries, and the one `_msearch`."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from adapters.search_engine import EngineError
from query_api.read_port import PageRequest
from query_api.together import MOVES, LocatorScreen, search_together, settled, where_by_keys, where_by_reference
from retention.tier_reader import names_index


MOVED = {"hits": {"total": {"value": 1}, "hits": []}}  # the MOVES answer: some entry outside hot or mid-move
SETTLED = {"hits": {"total": {"value": 0}, "hits": []}}


def _hit(order_id: str, index: str) -> dict[str, Any]:
    return {"_id": order_id, "_index": index, "_source": {"order_id": order_id}}


class _Tiers:
    """Stands in for `TierReader.authoritative`: records what it was asked and keeps hot hits."""

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    async def authoritative(self, hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self.asked.append([hit["_id"] for hit in hits])
        return [hit for hit in hits if "-warm-" not in hit["_index"]]


class _Engine:
    def __init__(self, responses: list[dict[str, Any]]) -> None:
        self.responses, self.sent = responses, []

    async def request(self, method: str, path: str, *, body: str) -> dict[str, Any]:
        self.sent.append((method, path, body))
        return {"responses": self.responses}


def test_an_entry_names_the_index_of_its_tier_only() -> None:
    warm = {"tier": "warm", "location": "p-orders-warm-2025-01"}
    assert names_index(warm, "p-orders-warm-2025-01") is True
    assert names_index(warm, "p-orders-v1") is False
    assert names_index({"tier": "hot", "location": "p-orders"}, "p-orders-v1") is True
    assert names_index({"tier": "hot", "location": "p-orders"}, "p-orders-warm-2025-01") is False
    assert names_index({"tier": "cold", "location": "f.parquet"}, "p-orders-v1") is False


def test_the_screen_keeps_what_found_entries_confirm_and_checks_every_other_hit_by_id() -> None:
    tiers = _Tiers()  # by id: hot hits are authoritative, warm ones are not
    located = {"hits": {"hits": [{"_id": "a", "_source": {"tier": "warm", "location": "p-orders-warm-2025-01"}},
                                 {"_id": "b", "_source": {"tier": "cold", "location": "f.parquet"}},
                                 {"_id": "e", "_source": {"tier": "warm", "location": "p-orders-warm-2025-03"}}]}}
    hits = [_hit("a", "p-orders-v1"), _hit("a", "p-orders-warm-2025-01"), _hit("b", "p-orders-v1"),
            _hit("c", "p-orders-v1"), _hit("d", "p-orders-warm-2025-02"), _hit("e", "p-orders-warm-2025-03")]
    kept = asyncio.run(LocatorScreen(tiers, located, MOVED)(hits))  # type: ignore[arg-type]
    # "a" has two copies and "b" an entry that may trail a flip: both are decided by id, never dropped on
    # the search's word; "e" alone is confirmed by its entry
    assert [(hit["_id"], hit["_index"]) for hit in kept] == [("a", "p-orders-v1"), ("b", "p-orders-v1"),
                                                             ("c", "p-orders-v1"), ("e", "p-orders-warm-2025-03")]
    assert tiers.asked == [["a", "a", "b", "c", "d"]]


def test_the_screen_asks_nothing_when_the_locator_answered_every_hit() -> None:
    tiers = _Tiers()
    located = {"hits": {"hits": [{"_id": "a", "_source": {"tier": "hot", "location": "p-orders"}}]}}
    kept = asyncio.run(LocatorScreen(tiers, located, MOVED)([_hit("a", "p-orders-v1")]))  # type: ignore[arg-type]
    assert [hit["_id"] for hit in kept] == ["a"] and tiers.asked == []


def test_searches_go_as_one_msearch_and_answer_in_order() -> None:
    engine = _Engine([{"hits": {"hits": [1]}}, {"hits": {"hits": [2]}}])
    searches = [("p-orders", {"size": 1}), ("p-locator", {"size": 2})]
    answers = asyncio.run(search_together(engine, searches))  # type: ignore[arg-type]
    assert [answer["hits"]["hits"] for answer in answers] == [[1], [2]]
    method, path, body = engine.sent[0]
    assert (method, path, len(engine.sent)) == ("POST", "/_msearch", 1)
    assert [orjson.loads(line) for line in body.splitlines()] == [{"index": "p-orders"}, {"size": 1},
                                                                  {"index": "p-locator"}, {"size": 2}]
    assert body.endswith("\n")


def test_an_item_error_in_the_batch_is_raised_with_its_status() -> None:
    engine = _Engine([{"hits": {"hits": []}}, {"status": 400, "error": {"type": "parsing_exception"}}])
    with pytest.raises(EngineError) as raised:
        asyncio.run(search_together(engine, [("a", {}), ("b", {})]))  # type: ignore[arg-type]
    assert raised.value.status == 400 and "parsing_exception" in str(raised.value)


def test_the_locator_questions_cover_every_tier_and_the_same_page() -> None:
    by_reference = where_by_reference("#1042")
    assert by_reference["query"]["bool"]["should"][1] == {"terms": {"refs": ["#1042", "1042"]}}
    assert "tier" not in orjson.dumps(by_reference["query"]).decode()
    by_keys = where_by_keys(["email:a@x.io"], PageRequest(20, after=[5, "web-1"]))
    assert (by_keys["size"], by_keys["search_after"], by_keys["_source"]) == (20, [5, "web-1"], ["tier", "location"])


def test_with_no_move_anywhere_hot_hits_without_an_entry_need_no_check_by_id() -> None:
    tiers = _Tiers()
    hits = [_hit("a", "p-orders-v1"), _hit("b", "p-orders-v1")]
    kept = asyncio.run(LocatorScreen(tiers, None, SETTLED)(hits))  # type: ignore[arg-type]
    assert [hit["_id"] for hit in kept] == ["a", "b"] and tiers.asked == []


def test_with_no_move_anywhere_two_copies_and_warm_hits_are_still_checked_by_id() -> None:
    tiers = _Tiers()  # a warm copy with the locator settled is a leftover: decided by id, realtime
    hits = [_hit("a", "p-orders-v1"), _hit("a", "p-orders-warm-2025-01"), _hit("d", "p-orders-warm-2025-02"),
            _hit("c", "p-orders-v1")]
    kept = asyncio.run(LocatorScreen(tiers, None, SETTLED)(hits))  # type: ignore[arg-type]
    assert [(hit["_id"], hit["_index"]) for hit in kept] == [("a", "p-orders-v1"), ("c", "p-orders-v1")]
    assert tiers.asked == [["a", "a", "d"]]


def test_an_entry_found_still_decides_when_the_locator_is_settled() -> None:
    tiers = _Tiers()
    located = {"hits": {"hits": [{"_id": "a", "_source": {"tier": "hot", "location": "p-orders"}}]}}
    kept = asyncio.run(LocatorScreen(tiers, located, SETTLED)([_hit("a", "p-orders-warm-2025-01")]))  # type: ignore[arg-type]
    assert kept == [] and tiers.asked == [["a"]]  # the entry names hot, the hit is warm: decided by id


def test_the_moves_question_counts_entries_outside_hot_or_mid_move() -> None:
    should = MOVES["query"]["bool"]["should"]
    assert should == [{"bool": {"must_not": [{"term": {"tier": "hot"}}]}}, {"exists": {"field": "pending.phase"}}]
    assert (MOVES["size"], MOVES["track_total_hits"]) == (0, 1)
    assert settled(SETTLED) is True and settled(MOVED) is False
