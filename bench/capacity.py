"""`python -m bench.capacity bench/results/<stamp> [--tier-sizes bench/results/cold-size-<stamp>.json]`:
docs/capacity.md from one benchmark run.

Every figure of the plan is computed here from the run's measured per-unit costs (worker CPU
per event, engine CPU per document, bytes per order per tier, reads per second per core), and
the text names the field of results.json it comes from, so the plan is re-derived, not
re-typed, after every run. Assumptions (utilisation targets, node shape, tier split, shard
size) are named constants, listed in the document as assumptions.

Bytes per order per tier come from the run's own tier bench (a few thousand orders) unless a
`bench.cold_size_bench` result is given: then from its largest size, because a cold part's
bytes per order fall as its row groups fill (1/9.9 of hot at 3,000 orders, 1/16 at 100,000), so
a small run would overstate the cold tier's storage several times over.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

ORDER_COUNTS = (10_000_000, 100_000_000, 1_000_000_000)
EVENT_RATES = (5_000, 50_000)
READ_RATES = (1_000, 10_000)
CPU_UTILISATION = 0.6  # plan cores so that the measured load fills 60% of them
NODE_CORES, NODE_HOT_DISK_GB, NODE_WARM_DISK_GB = 8, 1_000, 4_000
TIER_SPLIT = {"hot": 0.10, "warm": 0.30, "cold": 0.60}  # share of all orders per tier (policy-dependent)
SHARD_GB = {"hot": 30, "warm": 50}
REPLICAS = 1
GB = 1024**3


def per_unit(results: dict[str, Any], tier_sizes: tuple[dict[str, Any], str] | None = None
             ) -> dict[str, tuple[float, str]]:
    """(value, where it comes from) for every measured unit cost the plan uses; `tier_sizes` is a
    cold-size bench result and its file name."""
    run = next(r for r in results["runs"] if "pipeline" in r)
    p, raw, cores = run["pipeline"], run["raw_bulk"], results["machine"]["cores"]
    units = {
        "worker_us_per_event": (p["cpu_us_per_event"], "runs[0].pipeline.cpu_us_per_event"),
        "engine_us_per_event": (p["engine_cpu_us_per_event"], "runs[0].pipeline.engine_cpu_us_per_event"),
        "engine_us_per_doc": (raw["engine_cpu_us_per_doc"], "runs[0].raw_bulk.engine_cpu_us_per_doc"),
        "events_per_order": (run["data"]["messages"] / run["data"]["orders"], "runs[0].data.messages / orders"),
        "hot_bytes_per_order": (sum(run["disk"].values()) * 1024 / 1000, "runs[0].disk (KiB per 1,000 orders)"),
        "reads_per_s_per_core": (min(run["api"][q]["32"]["qps"] for q in ("history_page", "order_by_reference"))
                                 / cores, "min(runs[0].api.{history_page,order_by_reference}.32.qps) / cores"),
    }
    tiers = results.get("tiers")
    if tiers:
        for tier in ("hot", "warm", "cold"):
            units[f"{tier}_tier_bytes_per_order"] = (tiers[tier]["bytes_per_order"], f"tiers.{tier}.bytes_per_order")
    if tier_sizes:
        units |= largest_size_bytes(*tier_sizes)
    return units


def largest_size_bytes(result: dict[str, Any], name: str) -> dict[str, tuple[float, str]]:
    """Each tier's bytes per order at the largest size a cold-size bench result measured."""
    index, largest = max(enumerate(result["sizes"]), key=lambda item: item[1]["hot"]["orders"])
    return {f"{tier}_tier_bytes_per_order": (largest[tier]["bytes_per_order"],
                                             f"{name} sizes[{index}].{tier}.bytes_per_order "
                                             f"({largest['hot']['orders']:,} orders)")
            for tier in ("hot", "warm", "cold")}


def _cores(rate: float, us_per_unit: float) -> int:
    return math.ceil(rate * us_per_unit / 1e6 / CPU_UTILISATION)


def ingest_rows(units: dict[str, tuple[float, str]]) -> list[str]:
    worker, engine = units["worker_us_per_event"][0], units["engine_us_per_event"][0]
    rows = ["| events/s | worker cores | worker processes | Kafka partitions (all channel topics) | "
            "engine indexing cores | engine nodes for indexing |", "|---|---|---|---|---|---|"]
    for rate in EVENT_RATES:
        workers, indexing = _cores(rate, worker), _cores(rate, engine)
        rows.append(f"| {rate:,} | {workers} | {workers} | {max(12, 2 * workers)} | {indexing} | "
                    f"{math.ceil(indexing / NODE_CORES)} |")
    return rows


def storage_rows(units: dict[str, tuple[float, str]]) -> list[str]:
    per_order = {tier: units.get(f"{tier}_tier_bytes_per_order", (None, ""))[0] for tier in TIER_SPLIT}
    per_order["hot"] = per_order["hot"] or units["hot_bytes_per_order"][0]
    rows = ["| orders | tier | orders in tier | bytes/order | primary GB | with replicas GB | shards | nodes |",
            "|---|---|---|---|---|---|---|---|"]
    for total in ORDER_COUNTS:
        for tier, share in TIER_SPLIT.items():
            if per_order[tier] is None:
                continue
            count = int(total * share)
            primary = count * per_order[tier] / GB
            stored = primary * (1 + REPLICAS) if tier != "cold" else primary
            shards = math.ceil(primary / SHARD_GB[tier]) if tier in SHARD_GB else 0
            disk = {"hot": NODE_HOT_DISK_GB, "warm": NODE_WARM_DISK_GB}.get(tier)
            nodes = max(1 + REPLICAS, math.ceil(stored / disk)) if disk else 0
            rows.append(f"| {total:,} | {tier} | {count:,} | {per_order[tier]:,.0f} | {primary:,.1f} | "
                        f"{stored:,.1f} | {shards or '–'} | {nodes or '– (object storage)'} |")
    return rows


def read_rows(units: dict[str, tuple[float, str]]) -> list[str]:
    per_core = units["reads_per_s_per_core"][0]
    return ["| reads/s (history + reference) | cores (API + engine, as measured together) |", "|---|---|",
            *(f"| {rate:,} | {math.ceil(rate / per_core / CPU_UTILISATION)} |" for rate in READ_RATES)]


def render(results: dict[str, Any], source: str, tier_sizes: tuple[dict[str, Any], str] | None = None) -> str:
    units = per_unit(results, tier_sizes)
    command = source + (f" --tier-sizes {tier_sizes[1]}" if tier_sizes else "")
    measured = ["| unit cost | value | bench figure |", "|---|---|---|",
                *(f"| {name} | {value:,.1f} | `{where}` |" for name, (value, where) in units.items())]
    return "\n".join([
        "# Capacity plan", "",
        f"Derived by `python -m bench.capacity {command}` from that benchmark run (machine: "
        f"{results['machine']['cores']} cores shared by the load generator, the workers, the API, the engine "
        "and the broker; every per-unit cost is therefore an upper bound, and a loud one when other work "
        "shared the machine and the engine during the run: re-measure on a quiet machine before buying "
        "hardware). Re-run the bench and this command to refresh every number below.", "",
        "## Measured unit costs", "", *measured, "",
        "## Assumptions (not measured: the retailer's policy and hardware)", "",
        f"- cores are planned at {CPU_UTILISATION:.0%} utilisation of the measured load;",
        f"- engine nodes: {NODE_CORES} cores, hot nodes {NODE_HOT_DISK_GB:,} GB SSD, warm nodes "
        f"{NODE_WARM_DISK_GB:,} GB; {REPLICAS} replica for hot and warm; cold is Parquet on object storage;",
        f"- tier split of all orders: " + ", ".join(f"{t} {s:.0%}" for t, s in TIER_SPLIT.items()) +
        " (open and recent orders hot; the retention policy sets this);",
        f"- target shard size: " + ", ".join(f"{t} {g} GB" for t, g in SHARD_GB.items()) + ";",
        "- Kafka: at least 12 partitions in all (2 per channel topic) and twice the worker processes, so the "
        "group can double without repartitioning (ordering is per order id, so partitions can only grow).", "",
        "## Ingest (worker and engine cores per event rate)", "",
        "worker cores = events/s × `worker_us_per_event` ÷ 10⁶ ÷ utilisation; engine indexing cores = "
        "events/s × `engine_us_per_event` ÷ 10⁶ ÷ utilisation (one worker process uses one core).", "",
        *ingest_rows(units), "",
        "## Storage, shards and nodes per tier", "",
        "bytes per order per tier as cited in the unit costs above (the cold-size bench's largest size where "
        "given, else the run's tier bench; hot falls back to `runs[0].disk`); shards = primary GB ÷ target shard size; nodes = stored GB ÷ node disk (at least "
        "one per copy).", "", *storage_rows(units), "",
        "## Reads", "",
        "cores = reads/s ÷ `reads_per_s_per_core` ÷ utilisation; the measured rate includes the API, the "
        "engine and the load generator on the same cores.", "", *read_rows(units), "",
    ])


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="a bench/results/<stamp> directory")
    parser.add_argument("target", type=Path, nargs="?",
                        default=Path(__file__).resolve().parents[1] / "docs" / "capacity.md")
    parser.add_argument("--tier-sizes", type=Path, help="a bench.cold_size_bench result (its largest size is used)")
    args = parser.parse_args(argv)
    sizes = (json.loads(args.tier_sizes.read_text()), str(args.tier_sizes)) if args.tier_sizes else None
    args.target.parent.mkdir(parents=True, exist_ok=True)
    args.target.write_text(render(json.loads((args.results / "results.json").read_text()), str(args.results), sizes))
    print(args.target.read_text())
    return args.target


if __name__ == "__main__":
    main()
