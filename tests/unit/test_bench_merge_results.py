"""Runs of the full set made one size at a time merge into one results dir the report reads
(`bench.merge_results`)."""

from __future__ import annotations

import pytest

from bench.merge_results import merge


def _payload(seconds: float, *runs: dict, tiers: dict | None = None, cores: int = 2) -> dict:
    payload = {"machine": {"cores": cores}, "engine": {"kind": "opensearch"}, "seconds": seconds, "runs": list(runs)}
    return payload | ({"tiers": tiers} if tiers else {})


def test_sizes_come_out_in_size_order_and_a_size_measured_again_keeps_the_later_run() -> None:
    big, small, again = {"orders": 3_000_000, "disk": 1}, {"orders": 100_000, "disk": 2}, {"orders": 100_000, "disk": 3}
    merged = merge([_payload(10, big, tiers={"hot": 1}), _payload(5.5, small, cores=8), _payload(1, again)])
    assert merged["runs"] == [again, big]
    assert merged["machine"] == {"cores": 2} and merged["seconds"] == 16.5 and merged["tiers"] == {"hot": 1}


def test_nothing_to_merge_is_an_error() -> None:
    with pytest.raises(ValueError):
        merge([])
