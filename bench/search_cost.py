"""What each part of the CSR search and the sales aggregation costs the engine, and the search
beside PostgreSQL on the same orders (`python -m bench.search_cost --prefix P`).

Clause costs come from the engine's profile (`"profile": true`): the shard's rewrite, query and
aggregation time, best of `repeats` per input, so queueing on a shared machine does not count;
the fetch phase (loading the 20 answered documents) is not in the profile and is shown apart as
the `took` of the whole request against the same request with `size` 0. A clause's cost is the
full query's time minus the time of the same query without it, over the bench's search inputs
(`query_bench.sample_inputs`: a surname with two letters swapped, a partial phone, a full name).

With `--postgres`, a private PostgreSQL cluster is loaded with the same stored orders and the
engine and PostgreSQL are asked the same inputs interleaved (`bench.paired`), each queried
directly, as `bench.query_phase` does at every data size: the ratio and its verdict are saved.
"""

from __future__ import annotations

import asyncio
import copy
import statistics
from collections.abc import Callable, Iterator
from typing import Any

import typer

from adapters.search_engine import SearchEngine
from bench.ingest_bench import iter_documents
from bench.measure import save_result
from bench.paired import drive_paired, summarize
from bench.query_bench import CSR, random_orders, sample_inputs
from orderrepo.bootstrap import connect_engine, index_names
from query_api.queries import sales_by_channel, search_query
from query_api.read_port import OrderFilter, PageRequest
from settings import Settings, get_settings

Body = dict[str, Any]
FIRST_PAGE = PageRequest(20)


def _without(kind: str, field: str | None = None) -> Callable[[Body], Body]:
    """The body with its `should` clauses of one kind (on one field) left out."""
    def drop(body: Body) -> Body:
        should = body["query"]["bool"]["should"]
        should[:] = [c for c in should if not (kind in c and (field is None or field in c[kind]))]
        return body
    return drop


def _drop(key: str) -> Callable[[Body], Body]:
    def drop(body: Body) -> Body:
        body.pop(key, None)
        return body
    return drop


def _no_fuzzy_prefix(body: Body) -> Body:
    """The fuzzy clause as it was before `FUZZY_PREFIX` (a typo in the first letter tolerated)."""
    for clause in body["query"]["bool"]["should"]:
        clause.get("match", {}).get("search.text", {}).pop("prefix_length", None)
    return body


VARIANTS: dict[str, Callable[[Body], Body]] = {
    "full": lambda body: body,
    "fuzzy_without_prefix": _no_fuzzy_prefix,
    "without_facets": _drop("aggs"),
    "without_refs": _without("term", "search.refs"),
    "without_fuzzy": _without("match", "search.text"),
    "without_partial": _without("match", "search.text.partial"),
    "without_phones": lambda body: _without("match", "search.phones.partial")(_without("term", "search.phones")(body)),
    "without_warm_clause": _without("bool"),
}


def shard_ms(answer: dict[str, Any]) -> float:
    """Rewrite + query + aggregation time of a profiled answer, summed over its shards (ms)."""
    total = 0
    for shard in answer["profile"]["shards"]:
        total += sum(s["rewrite_time"] + sum(q["time_in_nanos"] for q in s["query"]) for s in shard["searches"])
        total += sum(a["time_in_nanos"] for a in shard["aggregations"])
    return total / 1e6


def clause_costs(engine: SearchEngine, index: str, texts: list[str], *, repeats: int) -> dict[str, Any]:
    """Mean shard ms per variant (best of `repeats` per input) and each clause's marginal cost."""
    best: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for text in texts:
        for name, change in VARIANTS.items():
            body = change(search_query(text, CSR, filters=OrderFilter(), page=FIRST_PAGE)) | {"profile": True}
            best[name].append(min(shard_ms(engine.search(index, body)) for _ in range(repeats)))
    mean = {name: round(statistics.mean(values), 3) for name, values in best.items()}
    marginal = {name.removeprefix("without_"): round(mean["full"] - value, 3)
                for name, value in mean.items() if name.startswith("without_")}
    return {"shard_ms_mean": mean, "clause_ms": marginal,
            "fuzzy_prefix_saves_ms": round(mean["fuzzy_without_prefix"] - mean["full"], 3)}


def took_ms(engine: SearchEngine, index: str, bodies: list[Body], *, cache: bool) -> dict[str, float]:
    """The engine's own `took` (ms) over `bodies`: median and p95."""
    took = sorted(engine.request("POST", f"/{index}/_search", body=body,
                                 params={"request_cache": str(cache).lower()})["took"] for body in bodies)
    return {"p50": statistics.median(took), "p95": took[int(0.95 * (len(took) - 1))]}


def request_costs(engine: SearchEngine, index: str, texts: list[str], *, repeats: int) -> dict[str, Any]:
    """Whole requests: the search with and without its fetch phase, the sales aggregation with
    and without the request cache (its answers are cached until the next refresh that changes data)."""
    searches = [search_query(t, CSR, filters=OrderFilter(), page=FIRST_PAGE) for t in texts]
    sales = [sales_by_channel("day", []) for _ in range(max(20, repeats * 10))]
    return {"search_took_ms": took_ms(engine, index, searches, cache=False),
            "search_took_ms_without_fetch": took_ms(engine, index, [s | {"size": 0} for s in searches], cache=False),
            "sales_took_ms_uncached": took_ms(engine, index, copy.deepcopy(sales), cache=False),
            "sales_took_ms_cached": took_ms(engine, index, sales, cache=True)}


def engine_costs(engine: SearchEngine, settings: Settings, texts: list[str], *, repeats: int = 3) -> dict[str, Any]:
    """Clause and request costs over `texts` (the part `python -m bench` runs at every size)."""
    names = index_names(settings)
    index = f"{names.orders},{names.orders}-warm-*"
    return {"inputs": len(texts), "clauses": clause_costs(engine, index, texts, repeats=repeats),
            "requests": request_costs(engine, index, texts, repeats=repeats)}


def cost_lines(cost: dict[str, Any] | None) -> list[str]:
    """The report's table of `engine_costs` (markdown lines; none when not measured)."""
    if not cost:
        return []
    clauses, requests = cost["clauses"], cost["requests"]
    lines = [f"Engine cost of the CSR search ({cost['inputs']} inputs; shard rewrite + query + aggregation time "
             "from the profile API, best of 3 per input, mean ms):", "",
             "| part (whole query − the query without it) | ms |", "|---|---|",
             f"| whole query (first page) | {clauses['shard_ms_mean']['full']} |"]
    lines += [f"| {name.replace('_', ' ')} | {ms} |" for name, ms in clauses["clause_ms"].items()]
    lines += [f"| saved by the fuzzy prefix | {clauses['fuzzy_prefix_saves_ms']} |", "",
              "| request (engine `took`) | p50/p95 ms |", "|---|---|"]
    lines += [f"| {name.replace('_took_ms', '').replace('_', ' ')} | {figures['p50']}/{figures['p95']} |"
              for name, figures in requests.items()]
    return lines + [""]


def _stored_orders(engine: SearchEngine, alias: str) -> Iterator[dict[str, Any]]:
    for page in iter_documents(engine, alias, "order_id"):
        for _, source in page:
            yield source


def against_postgres(settings: Settings, engine: SearchEngine, texts: list[str], *, clients: int,
                     requests: int) -> dict[str, Any]:
    """The same search inputs to the engine and to PostgreSQL (trigram-indexed), both directly."""
    from bench.pg.load import load_orders
    from bench.pg.reader import SEARCH_SQL, PostgresOrderReader
    from bench.pg.queries import csr_params
    from bench.pg.server import PostgresServer, default_data_dir, free_port
    from ingest.planner import order_from_document

    names = index_names(settings)
    data_dir = default_data_dir().with_name(f"search-cost-{settings.index_prefix}")
    with PostgresServer(data_dir, port=free_port(), fresh=True) as server:
        load = load_orders(server.dsn, (order_from_document(o) for o in _stored_orders(engine, names.orders)),
                           [], quiet=True)
        figures = asyncio.run(_paired(settings, server.dsn, texts, clients=clients, requests=requests,
                                      reader_type=PostgresOrderReader, sql=SEARCH_SQL, params=csr_params))
    return {"postgres_load_seconds": round(load.total_seconds, 1), "clients": clients, **figures}


async def _paired(settings: Settings, dsn: str, texts: list[str], *, clients: int, requests: int,
                  reader_type: Any, sql: str, params: Callable[[str, int], dict[str, Any]]) -> dict[str, Any]:
    from adapters.engine import operations as ops
    from bench.replay import engine_client

    names = index_names(settings)
    engine, reader = engine_client(settings), reader_type(dsn)
    index = f"{names.orders},{names.orders}-warm-*"

    async def ask_engine(i: int) -> None:
        body = search_query(texts[i % len(texts)], CSR, filters=OrderFilter(), page=FIRST_PAGE)
        await engine.send(ops.search(index, body, None))

    async def ask_postgres(i: int) -> None:
        await reader.rows(sql, params(texts[i % len(texts)], FIRST_PAGE.size))

    try:
        sides = {"engine": ask_engine, "pg_direct": ask_postgres}
        await drive_paired(sides, concurrency=min(clients, 4), total=40)  # warm-up
        figures = summarize(await drive_paired(sides, concurrency=clients, total=requests), (("engine", "pg_direct"),))
    finally:
        await engine.close()
        await reader.close()
    engine_p95, pg_p95 = figures["sides"]["engine"]["p95"], figures["sides"]["pg_direct"]["p95"]
    return {**figures, "speedup_p95": round(pg_p95 / engine_p95, 1) if engine_p95 else None}


def load(settings: Settings, engine: SearchEngine, orders: int, seed: int) -> dict[str, Any]:
    """`orders` orders of the sample traffic under the settings' prefix, without Kafka (`bench.direct_load`)."""
    from bench.direct_load import direct_load
    from index_templates import install
    from retention.storage import TierNames, install_tier_storage

    install(engine, index_names(settings))
    install_tier_storage(engine, TierNames(settings.index_prefix))
    loaded = direct_load(settings, engine, orders, seed)
    engine.request("POST", f"/{index_names(settings).orders}/_refresh")
    return loaded


def drop(settings: Settings, engine: SearchEngine) -> None:
    """Every index and template of the prefix (a loaded run leaves nothing behind)."""
    prefix = settings.index_prefix
    for index in engine.request("GET", f"/{prefix}-*"):
        engine.delete_index(index)
    for kind, key in (("_index_template", "index_templates"), ("_component_template", "component_templates")):
        for template in engine.request("GET", f"/{kind}/{prefix}-*")[key]:
            engine.request("DELETE", f"/{kind}/{template['name']}")


def main(prefix: str = typer.Option(..., help="index prefix of the orders (loaded already, or by --load)"),
         load_orders: int = typer.Option(0, "--load", help="first load this many orders without Kafka, "
                                         "and drop them afterwards (0: use what the prefix holds)"),
         seed: int = typer.Option(42),
         texts: int = typer.Option(150, help="search inputs to profile (0: no profile)"),
         repeats: int = typer.Option(3, help="profiled runs per input and variant (the best counts)"),
         postgres: bool = typer.Option(False, help="also the search beside PostgreSQL on the same orders"),
         clients: int = typer.Option(8), requests: int = typer.Option(400)) -> None:
    settings = get_settings().model_copy(update={"index_prefix": prefix})
    engine = connect_engine(settings)
    if load_orders:
        load(settings, engine, load_orders, seed)
    try:
        _measure(settings, engine, texts=texts, repeats=repeats, postgres=postgres, clients=clients, requests=requests)
    finally:
        if load_orders:
            drop(settings, engine)


def _measure(settings: Settings, engine: SearchEngine, *, texts: int, repeats: int, postgres: bool, clients: int,
             requests: int) -> None:
    names = index_names(settings)
    inputs = sample_inputs(random_orders(engine, names.orders)).search_texts
    orders = engine.request("GET", f"/{names.orders}/_count")["count"]
    result: dict[str, Any] = {"orders": orders}
    if texts:
        result |= engine_costs(engine, settings, inputs[:texts], repeats=repeats)
    if postgres:
        result["postgres"] = against_postgres(settings, engine, inputs, clients=clients, requests=requests)
        from bench.targets import search_speedup_check

        result["checks"] = search_speedup_check(result)
    save_result(f"search-cost-{orders}", result)


if __name__ == "__main__":
    typer.run(main)
