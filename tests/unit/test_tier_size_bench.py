"""The storage-per-order bench's own logic (pure or on a local SQLite file): how closed orders are
grouped into cold parts, the per-order arithmetic and verdicts, and the document cache's store
(the engine's write semantics the writer relies on), its paging and its bulk bodies."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import orjson
import pytest

from adapters.engine.dialects import orjson_default
from bench.cold_size_bench import per_order_ratio
from bench.doc_cache import CACHE_PREFIX, bodies
from bench.doc_store import SqliteOrderStore, pages
from bench.direct_load import direct_load
from bench.targets import cold_size_checks
from bench.tier_size_stream import month_parts
from index_templates import IndexNames
from settings import Settings
from tests.fakes.order_store import InMemoryOrderStore


def test_month_parts_are_full_parts_of_one_month_then_each_month_rest_in_month_order() -> None:
    entries = [("2026.02", "a1"), ("2026.01", "b1"), ("2026.02", "a2"), ("2026.02", "a3"), ("2026.01", "b2"),
               ("2026.03", "c1"), ("2026.02", "a4")]
    assert list(month_parts(entries, size=2)) == [
        ("2026.02", ["a1", "a2"]), ("2026.01", ["b1", "b2"]), ("2026.02", ["a3", "a4"]), ("2026.03", ["c1"])]


def test_a_full_part_is_yielded_before_the_next_entry_is_read() -> None:
    read: list[int] = []

    def entries():  # one month: every 3rd entry fills a part
        for n in range(10):
            read.append(n)
            yield "2026.01", f"o{n:02d}"

    parts = month_parts(entries(), size=3)
    assert next(parts) == ("2026.01", ["o00", "o01", "o02"]) and read == [0, 1, 2]
    assert list(islice(parts, 2)) == [("2026.01", ["o03", "o04", "o05"]), ("2026.01", ["o06", "o07", "o08"])]
    assert read == list(range(9))  # at most one part's ids pending per month
    assert list(parts) == [("2026.01", ["o09"])]


def test_month_parts_refuses_an_empty_part_size() -> None:
    with pytest.raises(ValueError):
        list(month_parts([("2026.01", "a")], size=0))


def test_a_tier_ratio_is_given_as_a_fraction_and_as_one_over() -> None:
    assert per_order_ratio({"bytes_per_order": 275.1}, {"bytes_per_order": 4472.0}) == {
        "over_hot": 0.0615, "hot_over": 16.3}


def test_the_checks_give_warm_and_cold_verdicts_per_size() -> None:
    sizes = [{"orders_requested": 100_000, "hot": {"bytes_per_order": 4000.0},
              "warm": {"bytes_per_order": 1900.0}, "cold": {"bytes_per_order": 150.0},
              "ratios": {"warm_over_hot": 0.475, "hot_over_warm": 2.1, "cold_over_hot": 0.0375, "hot_over_cold": 26.7}},
             {"orders_requested": 3000, "hot": {"bytes_per_order": 4000.0}, "cold": {"bytes_per_order": 100.0},
              "ratios": {"cold_over_hot": 0.025, "hot_over_cold": 40.0}}]
    checks = cold_size_checks(sizes)
    assert [(c["target"], c["holds"]) for c in checks] == [
        ("warm bytes per order ≤ 1/2 of hot (100,000 orders)", True),
        ("cold bytes per order ≤ 1/30 of hot (100,000 orders)", False),
        ("cold bytes per order ≤ 1/30 of hot (3,000 orders)", True)]
    assert checks[0]["measured"] == "1900.0 vs 4000.0 B (1/2.1)"


def _action(op: str, doc_id: str, body: dict, **guard: int) -> dict:
    return {"_op_type": op, "_index": "i", "_id": doc_id, "_source": body, **guard}


def test_the_cache_store_answers_conflicts_as_the_engine_does(tmp_path: Path) -> None:
    store = SqliteOrderStore(tmp_path / "c.sqlite")
    first = list(store.bulk([_action("create", "a", {"v": 1}), _action("create", "b", {"v": 1})]))
    assert [r.status for r in first] == [201, 201]
    again = list(store.bulk([_action("create", "a", {"v": 2}),
                             _action("index", "b", {"v": 2}, if_seq_no=first[1].seq_no + 5, if_primary_term=1),
                             _action("index", "x", {"v": 2}, if_seq_no=1, if_primary_term=1)]))
    assert [r.status for r in again] == [409, 409, 409]
    hit = store.mget("i", ["a", "b", "missing"])
    assert set(hit) == {"a", "b"} and hit["b"]["_source"] == {"v": 1} and hit["b"]["_seq_no"] == first[1].seq_no
    rewrite = list(store.bulk([_action("index", "a", {"v": 3}, if_seq_no=first[0].seq_no, if_primary_term=1)]))
    assert rewrite[0].status == 200 and rewrite[0].seq_no > first[1].seq_no  # a rewrite goes to the end
    assert [row[1] for page in pages(store.db, size=1) for row in page] == ["b", "a"]
    assert store.counts() == {"i": 2}


def test_pages_are_bounded_and_cover_every_row_once(tmp_path: Path) -> None:
    store = SqliteOrderStore(tmp_path / "c.sqlite")
    list(store.bulk([_action("index", f"d{n:02d}", {"n": n}) for n in range(7)]))
    sizes = [len(page) for page in pages(store.db, size=3)]
    assert sizes == [3, 3, 1]
    assert [orjson.loads(row[2])["n"] for page in pages(store.db, size=3) for row in page] == list(range(7))


def test_bulk_bodies_map_each_index_and_split_at_the_limit() -> None:
    rows = [("src-a", f"d{n}", b'{"n":%d}' % n) for n in range(5)]
    out = list(bodies(rows, {"src-a": "dst-a"}, limit=60))
    lines = b"".join(out).splitlines()
    assert len(lines) == 10 and orjson.loads(lines[0]) == {"index": {"_index": "dst-a", "_id": "d0"}}
    assert orjson.loads(lines[9]) == {"n": 4}
    assert len(out) > 1 and all(body.endswith(b"\n") for body in out)


def _as_sent(documents: dict[str, dict]) -> dict[str, dict]:
    """Documents as the engine client serialises them, without the one field that depends on the clock."""
    sent = orjson.loads(orjson.dumps(documents, default=orjson_default))
    return {doc_id: {k: v for k, v in doc.items() if k != "indexed_at"} for doc_id, doc in sent.items()}


def test_the_cache_holds_what_the_writer_writes_to_a_store_with_the_engines_semantics(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same traffic through the worker's write path into the cache and into the contract-checked
    in-memory store: the same documents (ids and sources), with two write batches so that orders
    straddling them are read back and rewritten."""
    settings = Settings(index_prefix=CACHE_PREFIX)
    names = IndexNames(CACHE_PREFIX)
    cache, reference = SqliteOrderStore(tmp_path / "c.sqlite"), InMemoryOrderStore()
    monkeypatch.setattr("bench.direct_load.BATCH", 500)
    direct_load(settings, cache, 300, 5)
    direct_load(settings, reference, 300, 5)
    for index in (names.orders_write, names.events_write):
        cached = {doc_id: orjson.loads(source) for page in pages(cache.db) for i, doc_id, source in page if i == index}
        assert _as_sent(cached) == _as_sent(reference.documents(index))
        assert len(cached) >= 300
