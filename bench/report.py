"""Turns the results into a markdown report with the targets checked, and PNG plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bench.search_cost import cost_lines  # noqa: E402

QUERIES = ("history_page", "order_by_reference", "csr_search", "order_timeline", "sales_aggregate")


def _fmt(r: dict[str, Any] | None) -> str:
    return f"{r['p50']}/{r['p95']}/{r['p99']}" if r else "–"


def _latency_table(run: dict[str, Any]) -> list[str]:
    pg = run.get("postgres") or {}
    lines = ["| query | clients | API p50/p95/p99 ms | engine p50/p95/p99 ms | PostgreSQL via API p50/p95/p99 ms | "
             "PostgreSQL direct p50/p95/p99 ms | API qps | "
             "API − engine p50 ms (paired: p50/p99 of the differences) |",
             "|---|---|---|---|---|---|---|---|"]
    for query in QUERIES:
        for level, api in run["api"][query].items():
            engine = run["engine"][query][level]
            via_api = (pg.get("api") or {}).get(query, {}).get(level)
            direct = pg.get("latency", {}).get(query, {}).get(level)
            lines.append(f"| {query} | {level} | {_fmt(api)} | {_fmt(engine)} | {_fmt(via_api)} | {_fmt(direct)} | "
                         f"{api['qps']} | {_api_minus_engine(run, query, level)} |")
    return lines


def _api_minus_engine(run: dict[str, Any], query: str, level: str) -> str:
    paired = ((run.get("paired") or {}).get(query) or {}).get(level)
    if paired:
        difference = paired["differences"]["api-engine"]
        return f"{difference['p50']}/{difference['p99']}"
    return str(round(run["api"][query][level]["p50"] - run["engine"][query][level]["p50"], 2))


def _cpu_table(cpu: dict[str, Any] | None) -> list[str]:
    """The API's own CPU per request kind (bench.api_cpu), robust under load."""
    if not cpu:
        return []
    return ["| query (in-process, process CPU) | API µs/request | same engine queries direct µs | API overhead µs |",
            "|---|---|---|---|", *(f"| {query} | {cpu[query]['api_us']} | {cpu[query]['engine_us']} | "
                                   f"{cpu[query]['overhead_us']} |" for query in QUERIES if query in cpu),
            f"| `/healthz` (client, middleware, routing) | {cpu.get('floor_us', '–')} | – | – |", ""]


def _checks_table(checks: list[dict[str, Any]]) -> list[str]:
    return ["| target | measured | ratio | holds |", "|---|---|---|---|"] + [
        f"| {c['target']} | {c['measured']} | {'–' if c['ratio'] is None else c['ratio']} | "
        f"{'pass' if c['holds'] else '**FAIL**'} |" for c in checks]


def _plot(run: dict[str, Any], out: Path) -> str:
    figure, axes = plt.subplots(1, len(QUERIES), figsize=(4 * len(QUERIES), 3.5), sharey=False)
    for axis, query in zip(axes, QUERIES, strict=True):
        for target in ("api", "engine"):
            levels = list(run[target][query])
            axis.plot([int(x) for x in levels], [run[target][query][x]["p95"] for x in levels], marker="o", label=target)
        if "postgres" in run:
            pg = run["postgres"]["latency"][query]
            axis.plot([int(x) for x in pg], [pg[x]["p95"] for x in pg], marker="o", label="postgres")
        axis.set_title(query)
        axis.set_xlabel("clients")
        axis.set_ylabel("p95 ms")
        axis.set_xscale("log", base=2)
    axes[0].legend()
    figure.tight_layout()
    name = f"latency_p95_{run['orders']}.png"
    figure.savefig(out / name, dpi=90)
    plt.close(figure)
    return name


def _scaling(runs: list[dict[str, Any]]) -> list[str]:
    """How cost grows with the data: the same measurements side by side per size."""
    header = ["measure", *(f"{run['orders']:,} orders" for run in runs)]
    rows = [("pipeline records/s", [run.get("pipeline", {}).get("records_per_s", "–") for run in runs]),
            ("raw bulk docs/s", [run.get("raw_bulk", {}).get("docs_per_s", "–") for run in runs]),
            ("pipeline / raw limit", [f"{run['pipeline_vs_raw']:.0%}" if "pipeline_vs_raw" in run else "–"
                                      for run in runs])]
    rows += [(f"API {query} p50/p99 ms @8", [f"{run['api'][query]['8']['p50']}/{run['api'][query]['8']['p99']}"
                                               for run in runs]) for query in QUERIES]
    rows += [("disk per 1,000 orders KiB (orders + events)",
              [round(sum(run["disk"].values()), 1) for run in runs])]
    return ["## Scaling", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *(f"| {name} | " + " | ".join(str(v) for v in values) + " |" for name, values in rows), ""]


def _profile_section(profile: dict[str, Any] | None) -> list[str]:
    if not profile:
        return []
    if "skipped" in profile:
        return ["### Ingest worker profile", "", f"Skipped: {profile['skipped']}", ""]
    lines = ["### Ingest worker profile", "",
             f"py-spy (idle samples kept), one worker, {profile['orders']:,} orders. Collapsed stacks: "
             f"`{profile['samples_file']}`.", "", "| stage of the worker loop | share of samples | of which waiting |",
             "|---|---|---|"]
    lines += [f"| {name} | {row['share']:.1%} | {row['waiting']:.1%} |" for name, row in profile.get("stages", {}).items()]
    lines += ["", "| function (inclusive) | share |", "|---|---|"]
    return lines + [f"| {row['function']} | {row['share']:.0%} |" for row in profile["top"]] + [""]


def _tier_section(tiers: dict[str, Any] | None) -> list[str]:
    if not tiers:
        return []
    return ["## Tiers", "", f"{tiers['hot']['orders']:,} orders moved hot → warm → cold (bench.tier_bench): "
            f"hot {tiers['hot']['bytes_per_order']} B/order, warm {tiers['warm']['bytes_per_order']} B/order, "
            f"cold {tiers['cold']['bytes_per_order']} B/order.", "", *_checks_table(tiers["checks"]), ""]


def write_report(payload: dict[str, Any], out: Path) -> str:
    m = payload["machine"]
    lines = ["# Benchmark results\n", f"Machine: {m['cores']} cores, {m['memory_gib']} GiB; engine "
             f"{payload['engine'].get('kind')} {payload['engine'].get('version')}; total {payload['seconds']} s.\n"]
    for run in payload["runs"]:
        if "data" not in run:
            continue  # stopped before its data was in
        lines += [f"## {run['orders']:,} orders ({run['data']['messages']:,} change messages)\n", *_ingest_lines(run),
                  f"- Engine disk per 1,000 orders (hot, force-merged): {run.get('disk', '–')}",
                  f"- API peak RSS: {run.get('api_peak_rss_mb', '–')} MB"]
        if "postgres" in run:
            lines.append(f"- PostgreSQL baseline load: {run['postgres']['load_seconds']} s")
        lines += ["", *(_latency_table(run) if "engine" in run else ["(latency not measured)"]), ""]
        lines += _cpu_table(run.get("api_cpu")) + cost_lines(run.get("search_cost"))
        if run.get("freshness"):
            lines += ["| load (share of max) | records/s | markers | p50 s | p95 s | p99 s |", "|---|---|---|---|---|---|"]
            lines += [f"| {f['share_of_max']:.0%} | {f['rate_records_per_s']} | {f['visible']}/{f['markers']} | "
                      f"{f['p50']} | {f['p95']} | {f['p99']} |" for f in run["freshness"]]
            if run.get("freshness_engine_cost"):
                lines += ["", f"Hot indices' own engine time over the freshness run: {run['freshness_engine_cost']}"]
            lines.append("")
        plot = f"![p95 latency]({_plot(run, out)})" if "engine" in run else ""
        lines += ["### Targets", "", *_checks_table(run.get("checks", [])), "", plot, ""]
        lines += _profile_section(run.get("profile"))
    if len([run for run in payload["runs"] if "engine" in run]) > 1:
        lines += _scaling([run for run in payload["runs"] if "engine" in run])
    lines += _tier_section(payload.get("tiers"))
    text = "\n".join(lines)
    (out / "report.md").write_text(text)
    return text


def _ingest_lines(run: dict[str, Any]) -> list[str]:
    if "pipeline" not in run:
        return [f"- Loaded without Kafka ({run['data'].get('loaded_by')}) in {run['data'].get('load_seconds')} s: "
                "read figures only at this size"]
    p, raw = run["pipeline"], run["raw_bulk"]
    return [f"- Ingest pipeline ({p.get('processes', 1)} worker processes): {p['records']:,} records in "
            f"{p['seconds']} s = **{p['records_per_s']:,} records/s** ({p['order_writes']:,} order writes, "
            f"{p['timeline_entries']:,} timeline entries), worker CPU **{p.get('cpu_us_per_event', '–')} µs per "
            f"event**, peak RSS per worker {p['peak_rss_mb']} MB",
            f"- Raw bulk limit (same final {raw['documents']:,} documents, pre-serialised, chunk "
            f"{raw['chunk_size']}): {raw['seconds']} s = {raw['docs_per_s']:,} docs/s",
            f"- Engine CPU: {raw.get('engine_cpu_us_per_doc', '–')} µs per document on the raw bulk load, "
            f"{p.get('engine_cpu_us_per_event', '–')} µs per event through the pipeline (node stats; a shared "
            f"engine's other work is included: upper bounds)",
            f"- Pipeline / limit (raw time ÷ pipeline time): **{run['pipeline_vs_raw']:.0%}**"]


if __name__ == "__main__":  # re-render a saved run: python -m bench.report bench/results/<stamp>
    import json
    import sys

    folder = Path(sys.argv[1])
    print(write_report(json.loads((folder / "results.json").read_text()), folder))
