"""The targets of the performance work, checked against one run's figures (pure).

Every check compares figures measured side by side in the same run (absolute times on a
shared 2-core machine are noisy; ratios are not), and carries its target, the measured
value, the ratio to the target's reference where there is one, and whether it holds.
A figure the run did not measure (a skipped phase, a size loaded without Kafka) is left out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

QUERIES = ("history_page", "order_by_reference", "csr_search", "order_timeline", "sales_aggregate")


@dataclass(frozen=True)
class Check:
    target: str
    measured: str
    ratio: float | None
    holds: bool


def _overhead(run: dict[str, Any], query: str, clients: str) -> tuple[float, str]:
    """API − engine at p50 and how it was taken: the median of the per-input differences when the
    sides were measured interleaved (`bench.paired`), else the difference of the two phases' medians."""
    paired = ((run.get("paired") or {}).get(query) or {}).get(clients)
    if paired:
        difference = paired["differences"]["api-engine"]
        return difference["p50"], f"paired, p99 of the differences {difference['p99']:+} ms"
    return round(run["api"][query][clients]["p50"] - run["engine"][query][clients]["p50"], 2), "separate phases"


def ingest_checks(run: dict[str, Any]) -> list[Check]:
    if "pipeline" not in run:
        return []
    share, cpu = run["pipeline_vs_raw"], run["pipeline"].get("cpu_us_per_event")
    checks = [Check("pipeline ≥ 75% of the raw bulk limit (same final documents)",
                    f"{run['pipeline']['records_per_s']:,} records/s vs raw {run['raw_bulk']['docs_per_s']:,} docs/s",
                    share, share >= 0.75)]
    if cpu is not None:
        checks.append(Check("worker CPU ≤ 60 µs per event (process CPU time)", f"{cpu} µs", round(cpu / 60, 2),
                            cpu <= 60))
    return checks + freshness_checks(run.get("freshness", []))


def freshness_checks(levels: list[dict[str, Any]]) -> list[Check]:
    """Produce-to-searchable p99 at 50 % and 90 % of the pipeline's measured rate (`bench.freshness_bench`)."""
    checks = []
    for fresh in levels:
        limit = {0.5: 1.5, 0.9: 2.5}.get(fresh["share_of_max"])
        if limit is not None:
            checks.append(Check(f"freshness p99 ≤ {limit} s at {fresh['share_of_max']:.0%} load", f"{fresh['p99']} s",
                                round(fresh["p99"] / limit, 2), fresh["p99"] <= limit))
    return checks


def pure_path_checks(all_formats: dict[str, Any]) -> list[dict[str, Any]]:
    """The worker's CPU path without Kafka and the engine (`bench.decode_bench`, the traffic's mix):
    the whole worker cannot meet the 60 µs aim unless this part does."""
    total = all_formats["total_us_per_message"]
    return [asdict(Check("ingest CPU path (decode, plan, documents, serialise) ≤ 60 µs per event",
                         f"{total} µs", round(total / 60, 2), total <= 60))]


def api_checks(run: dict[str, Any]) -> list[Check]:
    if "api" not in run or "engine" not in run:
        return []
    checks = []
    for clients, limit in (("1", 1.5), ("8", 3.0)):
        for query in QUERIES:
            extra, how = _overhead(run, query, clients)
            checks.append(Check(f"API overhead p50 ≤ {limit} ms at {clients} client(s): {query}",
                                f"{extra:+} ms ({how})", round(extra / limit, 2), extra <= limit))
    for query in QUERIES:
        api, engine = run["api"][query]["8"]["p99"], run["engine"][query]["8"]["p99"]
        ratio = round(api / engine, 2) if engine else None
        checks.append(Check(f"API p99 ≤ 1.3× the engine's at 8 clients: {query}", f"{api} vs {engine} ms",
                            ratio, ratio is not None and ratio <= 1.3))
    return checks


def api_cpu_checks(run: dict[str, Any]) -> list[Check]:
    """The API's own CPU per request (in-process, process CPU time: `bench.api_cpu`), the load-proof
    form of the 1-client overhead target: on an idle machine one client waits for exactly this."""
    cpu = run.get("api_cpu")
    if not cpu:
        return []
    return [Check(f"API CPU overhead ≤ 1.5 ms per request (in-process, process CPU): {query}",
                  f"{cpu[query]['overhead_us']} µs ({cpu[query]['api_us']} API − {cpu[query]['engine_us']} "
                  f"direct)", round(cpu[query]["overhead_us"] / 1500, 2), cpu[query]["overhead_us"] <= 1500)
            for query in QUERIES if query in cpu]


def _against(ours: dict[str, Any], theirs: dict[str, Any], how: str) -> list[Check]:
    """Reference/history p99 within 2×, search ≥ 20× faster at p95, at 8 clients."""
    checks = []
    for query in ("order_by_reference", "history_page"):
        mine, other = ours[query]["8"]["p99"], theirs[query]["8"]["p99"]
        ratio = round(mine / other, 2) if other else None
        checks.append(Check(f"{query} p99 within 2× of {how} (8 clients)", f"{mine} vs {other} ms", ratio,
                            ratio is not None and ratio <= 2))
    mine, other = ours["csr_search"]["8"]["p95"], theirs["csr_search"]["8"]["p95"]
    speedup = round(other / mine, 1) if mine else None
    checks.append(Check(f"free-text search ≥ 20× faster than {how} at p95 (8 clients)", f"{mine} vs {other} ms",
                        speedup, speedup is not None and speedup >= 20))
    return checks


def baseline_checks(run: dict[str, Any]) -> list[Check]:
    """Both ways: our API against PostgreSQL served through the same API (routes, auth, views,
    JSON), and the engine queried directly against PostgreSQL queried directly."""
    pg = run.get("postgres") or {}
    checks = []
    if pg.get("api") and "api" in run:
        checks += _against(run["api"], pg["api"], "the PostgreSQL-backed API")
    if pg.get("latency") and "engine" in run:
        checks += _against(run["engine"], pg["latency"], "PostgreSQL queried directly (engine queried directly)")
    return checks


def search_speedup_check(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The search target on its own (`bench.search_cost --postgres`): the engine and PostgreSQL
    asked the same inputs directly, interleaved, at a data size of the caller's choosing."""
    pg = result.get("postgres") or {}
    speedup = pg.get("speedup_p95")
    if speedup is None:
        return []
    mine, other = pg["sides"]["engine"]["p95"], pg["sides"]["pg_direct"]["p95"]
    return [asdict(Check(f"free-text search ≥ 20× faster than PostgreSQL at p95, both directly "
                         f"({result['orders']:,} orders, {pg['clients']} clients)", f"{mine} vs {other} ms",
                         speedup, speedup >= 20))]


def resource_checks(run: dict[str, Any]) -> list[Check]:
    checks = []
    if "api_peak_rss_mb" in run:
        checks.append(Check("API process < 250 MB RSS", f"{run['api_peak_rss_mb']} MB",
                            round(run["api_peak_rss_mb"] / 250, 2), run["api_peak_rss_mb"] < 250))
    if "pipeline" in run:
        rss = run["pipeline"]["peak_rss_mb"]
        checks.append(Check("ingest worker < 300 MB RSS", f"{rss} MB", round(rss / 300, 2), rss < 300))
    return checks


def checks_of(run: dict[str, Any]) -> list[dict[str, Any]]:
    return [asdict(check) for check in (*ingest_checks(run), *api_checks(run), *api_cpu_checks(run),
                                        *baseline_checks(run), *resource_checks(run))]


def tier_checks(tiers: dict[str, Any]) -> list[dict[str, Any]]:
    """The tiering targets (storage per order, cold lookups), from `bench.tier_bench.run`."""
    ratios = tiers["ratios"]
    checks = [Check("warm bytes per order ≤ 1/2 of hot", f"{tiers['warm']['bytes_per_order']} vs "
                    f"{tiers['hot']['bytes_per_order']} B", ratios["warm_over_hot"], ratios["warm_over_hot"] <= 0.5),
              Check("cold bytes per order ≤ 1/30 of hot", f"{tiers['cold']['bytes_per_order']} vs "
                    f"{tiers['hot']['bytes_per_order']} B", ratios["cold_over_hot"], ratios["cold_over_hot"] <= 1 / 30)]
    return [asdict(check) for check in (*checks, *tier_latency_checks(tiers), *tier_workload_checks(tiers))]


def _p99_under(target: str, figures: dict[str, Any] | None, limit: float) -> list[Check]:
    p99 = ((figures or {}).get("ms") or {}).get("p99")
    if p99 is None:
        return []
    return [Check(target, f"{p99:.1f} ms", round(p99 / limit, 2), p99 < limit)]


def cold_size_checks(sizes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Warm ≤ 1/2 (when measured) and cold ≤ 1/30 of hot bytes per order at each size of
    `bench.cold_size_bench`."""
    checks = []
    for size in sizes:
        hot, ratios, orders = size["hot"]["bytes_per_order"], size["ratios"], f"{size['orders_requested']:,} orders"
        if "warm" in size:
            checks.append(Check(f"warm bytes per order ≤ 1/2 of hot ({orders})",
                                f"{size['warm']['bytes_per_order']} vs {hot} B (1/{ratios['hot_over_warm']})",
                                ratios["warm_over_hot"], ratios["warm_over_hot"] <= 0.5))
        checks.append(Check(f"cold bytes per order ≤ 1/30 of hot ({orders})",
                            f"{size['cold']['bytes_per_order']} vs {hot} B (1/{ratios['hot_over_cold']})",
                            ratios["cold_over_hot"], ratios["cold_over_hot"] <= 1 / 30))
    return [asdict(check) for check in checks]


def tier_latency_checks(tiers: dict[str, Any]) -> list[Check]:
    """Cold lookups (fresh process, warm caches), histories mixing tiers, rehydration (`bench.tier_latency`)."""
    lookups, history = tiers.get("cold_lookup_by_reference") or {}, tiers.get("history_mixing_tiers") or {}
    return [*_p99_under("cold lookup by reference p99 < 250 ms (cold start)", lookups.get("cold_start"), 250),
            *_p99_under("cold lookup by reference p99 < 20 ms (warm)", lookups.get("warm"), 20),
            *_p99_under("customer history mixing tiers p99 < 100 ms (first read, caches dropped)",
                        history.get("first_read"), 100),
            *_p99_under("rehydration of one order to hot p99 < 2 s", tiers.get("rehydration"), 2000)]


def _worst_of_seeds(workload: dict[str, Any], figure: str) -> tuple[float, str]:
    """A skewed-workload figure: the worst seed's and a note with the mean when several seeds ran."""
    spread = (workload.get("spread") or {}).get(figure)
    if not spread:
        return workload["measured"][figure], ""
    return spread["worst"], f" (worst of {len(spread['each'])} seeds; mean {spread['mean']:.2%})"


def tier_workload_checks(tiers: dict[str, Any]) -> list[Check]:
    """The skewed read workload after one pass on measured reads (`bench.tier_workload`): checked
    on the worst seed when several ran (`spread`), with the mean beside it."""
    workload = tiers.get("skewed_workload") or {}
    if not workload.get("measured"):
        return []
    hot, hot_note = _worst_of_seeds(workload, "storefront_from_hot")
    cold, cold_note = _worst_of_seeds(workload, "all_reads_touching_cold")
    rest = workload.get("rest_within_1pct")  # bench.tier_rest: the policy model's sweep
    within = f" (model: ≤ 1% from COLD_AFTER_IDLE_DAYS={rest})" if rest else ""
    return [Check("≥ 99% of storefront reads served from hot", f"{hot:.2%}{hot_note}", round(hot / 0.99, 3),
                  hot >= 0.99),
            Check("≤ 1% of all reads touch cold", f"{cold:.2%}{cold_note}{within}", round(cold / 0.01, 2),
                  cold <= 0.01)]


def tier_pass_checks(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One retention pass (`bench.tier_pass_bench`): streamed, so its memory must not grow with
    the orders it examines. Measured as the growth of the pass process's resident memory from
    the first locator page to the last, per 100,000 orders examined."""
    memory = (result.get("pass") or {}).get("memory") or {}
    slope = memory.get("rss_mb_per_100k_examined")
    if slope is None:
        return []
    return [asdict(Check("retention pass memory bound: RSS growth ≤ 5 MB per 100,000 orders examined",
                         f"{slope} MB per 100k (peak {result['pass']['peak_rss_mb']} MB, "
                         f"{result['pass']['examined']:,} orders)", round(slope / 5, 2), slope <= 5))]
