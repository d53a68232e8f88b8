"""The tier benchmarks' own arithmetic: the skewed workload's shares and where its reads not
served from hot come from, and the retention pass's memory slope (pure; the figures
themselves are measured on the real servers by `bench.tier_bench`)."""

from __future__ import annotations

import random
from collections import Counter

from bench.tier_pass_bench import memory_profile
from bench.tier_workload import MIX, Population, Served, _shares, spread


def test_the_shares_name_the_reads_not_served_from_hot_and_tell_first_reads_from_repeats() -> None:
    served = Counter({Served("storefront", "recent", "hot", False): 90, Served("storefront", "busy", "hot", False): 8,
                      Served("storefront", "tail", "cold", True): 1, Served("storefront", "busy", "warm", False): 1,
                      Served("csr", "tail", "cold", True): 3, Served("csr", "busy", "cold", False): 1,
                      Served("csr", "recent", "hot", True): 21})
    shares = _shares(served)
    assert shares["storefront"] == {"reads": 100, "cold": 0.01, "hot": 0.98, "warm": 0.01}
    assert shares["csr"] == {"reads": 25, "cold": 0.16, "hot": 0.84}
    assert (shares["storefront_from_hot"], shares["all_reads_touching_cold"]) == (0.98, 0.04)
    assert shares["cold_reads_that_were_first_reads"] == 0.8  # 4 of the 5 cold reads
    assert shares["not_from_hot"][0] == {"role": "csr", "bucket": "tail", "tier": "cold", "first_read": True,
                                         "reads": 3}
    assert sum(row["reads"] for row in shares["not_from_hot"]) == 6


def test_the_draw_follows_the_mix_and_names_each_read_bucket() -> None:
    people = Population(recent=[f"r{i}" for i in range(50)], busy=["b0", "b1"],
                        old=[f"o{i}" for i in range(500)], busy_weights=[1.0, 0.5])
    reads = people.draw(random.Random(4), 20_000)
    buckets = Counter((read.role, read.bucket) for read in reads)
    storefront = sum(n for (role, _), n in buckets.items() if role == "storefront")
    assert abs(storefront / 20_000 - MIX["storefront"][0]) < 0.02
    assert abs(buckets[("storefront", "recent")] / storefront - 0.90) < 0.02
    assert {read.order_id for read in reads if read.bucket == "busy"} == {"b0", "b1"}
    assert all(read.order_id.startswith("r") for read in reads if read.bucket == "recent")


def test_steps_of_move_pages_are_not_growth_but_a_climb_while_scanning_is() -> None:
    warm_up = [(170.0 + page, 0) for page in range(5)]  # the first pages size the buffers: not counted
    steady = [*warm_up, (180.0, 0), (180.0, 0), (205.0, 50), (205.5, 0), (205.0, 0), (230.0, 50), (230.0, 0)]
    profile = memory_profile(steady, page=1000)
    assert profile["rss_mb_per_100k_examined"] == 0.0 and profile["rss_mb_step_on_move_pages"] == 50.0
    assert (profile["pages_with_moves"], profile["rss_mb_max"], profile["rss_mb_after_warm_up"]) == (2, 230.0, 180.0)
    climbing = memory_profile([(180.0 + 0.5 * page, 0) for page in range(15)], page=1000)
    assert climbing["rss_mb_per_100k_examined"] == 50.0
    assert memory_profile([(180.0, 0)], page=1000) == {"pages": 1}


def test_the_spread_over_seeds_names_the_worst_seed_and_counts_repeat_cold_reads() -> None:
    def run(cold: float, hot: float, repeats: int) -> dict[str, object]:
        rows = [{"role": "csr", "tier": "cold", "first_read": True, "reads": 20},
                {"role": "storefront", "tier": "warm", "first_read": False, "reads": 4},
                {"role": "csr", "tier": "cold", "first_read": False, "reads": repeats}]
        return {"measured": {"all_reads_touching_cold": cold, "storefront_from_hot": hot, "not_from_hot": rows}}

    summary = spread([run(0.007, 0.993, 0), run(0.011, 0.9895, 2), run(0.006, 0.992, 1)])
    assert summary["seeds"] == 3
    assert summary["all_reads_touching_cold"] == {"mean": 0.008, "worst": 0.011, "each": [0.007, 0.011, 0.006]}
    assert summary["storefront_from_hot"] == {"mean": 0.9915, "worst": 0.9895, "each": [0.993, 0.9895, 0.992]}
    assert summary["repeat_cold_reads"] == {"total": 3, "each": [0, 2, 1]}
    assert summary["storefront_repeat_reads_not_from_hot"] == [4, 4, 4]  # the CSR's repeat cold reads are not
    assert "bytes_per_order_at_end" not in summary  # no storage measured in these runs


def test_the_spread_reports_the_storage_per_order_each_seed_ended_with() -> None:
    runs = [{"measured": {"all_reads_touching_cold": 0.0, "storefront_from_hot": 1.0, "not_from_hot": []},
             "at_end": {"orders": {}, "bytes_per_order": size}} for size in (1000.0, 1100.0)]
    assert spread(runs)["bytes_per_order_at_end"] == {"mean": 1050.0, "each": [1000.0, 1100.0]}
