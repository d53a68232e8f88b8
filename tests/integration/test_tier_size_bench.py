"""The storage-per-order bench end to end at a tiny size on the real engine: the document cache is
built by the worker's write path and bulk-loaded into hot, every closed order reaches warm and
cold, and the scratch prefix is gone afterwards."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pytest

from adapters.search_engine import SearchEngine
from bench.cold_size_bench import run
from bench import doc_cache
from bench.doc_cache import CACHE_PREFIX
from index_templates import IndexNames
from retention.locator import order_fields
from settings import Settings


def test_every_closed_order_reaches_warm_and_cold_and_the_prefix_is_removed(
        settings: Settings, engine: SearchEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERREPO_BENCH_CACHE", str(tmp_path / "cache"))
    result = run(settings.model_copy(update={"engine_timeout_s": 300.0}), orders=150, seed=7,
                 cold_root=tmp_path / "cold", workers=2)  # the writer processes path

    cache = result["data"]["cache"]
    assert result["data"]["built"] and Path(cache).parent == tmp_path / "cache"
    rows = [(idx, source) for idx, _, source in doc_cache.rows(cache)]
    orders = [orjson.loads(source) for idx, source in rows if idx == IndexNames(CACHE_PREFIX).orders_write]
    closed_months = Counter(f["created_month"] for f in map(order_fields, orders) if f["closed"])
    assert result["data"]["documents"] == len(rows)
    assert result["hot"]["orders"] == len(orders) >= 150
    assert result["warm"]["orders"] == result["cold"]["orders"] == sum(closed_months.values()) > 0
    assert result["cold"]["parts"] == len(closed_months)  # one part per month below COMPACT_ROWS rows
    for tier in ("hot", "warm", "cold"):
        assert result[tier]["bytes_per_order"] == round(result[tier]["bytes"] / result[tier]["orders"], 1)
    assert result["ratios"]["warm_over_hot"] == round(
        result["warm"]["bytes_per_order"] / result["hot"]["bytes_per_order"], 4)
    assert set(result["steps"]) == {"documents", "hot_bulk", "hot_force_merge", "warm_and_cold_write", "warm_seal"}
    assert engine.request("GET", f"/_cat/indices/{result['prefix']}-*", params={"format": "json"}) == []
