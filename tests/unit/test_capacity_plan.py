"""The capacity plan (`bench.capacity`): every storage figure comes from the bytes per order it
cites, and a cold-size bench result replaces the small tier bench's figures by its largest size's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench import capacity


def _run(cold_bytes: float) -> dict[str, Any]:
    return {"machine": {"cores": 2},
            "runs": [{"pipeline": {"cpu_us_per_event": 400.0, "engine_cpu_us_per_event": 500.0},
                      "raw_bulk": {"engine_cpu_us_per_doc": 200.0}, "data": {"messages": 390, "orders": 100},
                      "disk": {"orders": 3000, "order-events": 1500},
                      "api": {"history_page": {"32": {"qps": 500.0}}, "order_by_reference": {"32": {"qps": 800.0}}}}],
            "tiers": {"hot": {"bytes_per_order": 4800.0}, "warm": {"bytes_per_order": 2400.0},
                      "cold": {"bytes_per_order": cold_bytes}}}


def _sizes() -> dict[str, Any]:
    def size(orders: int, cold: float) -> dict[str, Any]:
        return {"hot": {"orders": orders, "bytes_per_order": 4400.0}, "warm": {"orders": orders, "bytes_per_order": 1750.0},
                "cold": {"orders": orders, "bytes_per_order": cold}}
    return {"sizes": [size(1_000_000, 260.0), size(100_000, 275.0)]}


def _storage_row(text: str, orders: str, tier: str) -> list[str]:
    return next(line.split(" | ") for line in text.splitlines() if line.startswith(f"| {orders} | {tier} |"))


def test_without_tier_sizes_the_tier_bench_figures_are_used_and_cited() -> None:
    units = capacity.per_unit(_run(cold_bytes=490.0))

    assert units["cold_tier_bytes_per_order"] == (490.0, "tiers.cold.bytes_per_order")


def test_the_largest_size_of_a_cold_size_result_sets_every_tier_and_the_storage_rows() -> None:
    text = capacity.render(_run(cold_bytes=490.0), "bench/results/X", (_sizes(), "cold-size-Y.json"))

    assert "| cold_tier_bytes_per_order | 260.0 | `cold-size-Y.json sizes[0].cold.bytes_per_order (1,000,000 orders)` |" in text
    assert "--tier-sizes cold-size-Y.json" in text
    row = _storage_row(text, "10,000,000", "cold")
    assert row[3] == "260" and float(row[4]) == round(6_000_000 * 260.0 / 1024**3, 1)
    assert _storage_row(text, "10,000,000", "warm")[3] == "1,750"


def test_the_command_writes_the_plan_from_the_files(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "results.json").write_text(json.dumps(_run(cold_bytes=490.0)))
    (tmp_path / "sizes.json").write_text(json.dumps(_sizes()))

    written = capacity.main([str(tmp_path / "run"), str(tmp_path / "plan.md"), "--tier-sizes", str(tmp_path / "sizes.json")])

    assert written == tmp_path / "plan.md" and "(1,000,000 orders)" in written.read_text()
