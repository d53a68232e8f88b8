"""The search cost bench's variants and profile arithmetic: pure, no servers."""

from __future__ import annotations

from bench.search_cost import VARIANTS, cost_lines, shard_ms
from query_api.auth import Caller, Role
from query_api.queries import search_query
from query_api.read_port import OrderFilter, PageRequest

CSR = Caller(subject="c", role=Role.CSR)


def _clauses(variant: str, text: str) -> list[str]:
    body = VARIANTS[variant](search_query(text, CSR, filters=OrderFilter(), page=PageRequest(20)))
    return [f"{kind}:{next(iter(clause[kind]))}" if kind != "bool" else "warm"
            for clause in body["query"]["bool"]["should"] for kind in clause]


def test_each_variant_leaves_out_exactly_its_clause() -> None:
    full = ["term:search.refs", "match:search.text", "match:search.text.partial", "term:search.phones",
            "match:search.phones.partial", "warm"]
    assert _clauses("full", "555-0102") == full
    assert _clauses("without_fuzzy", "555-0102") == [c for c in full if c != "match:search.text"]
    assert _clauses("without_partial", "555-0102") == [c for c in full if c != "match:search.text.partial"]
    assert _clauses("without_phones", "555-0102") == [c for c in full if "phones" not in c]
    assert _clauses("without_refs", "555-0102") == full[1:]
    assert _clauses("without_warm_clause", "555-0102") == full[:-1]
    assert "aggs" not in VARIANTS["without_facets"](search_query("ana", CSR, filters=OrderFilter(),
                                                                 page=PageRequest(20)))
    before = VARIANTS["fuzzy_without_prefix"](search_query("ana", CSR, filters=OrderFilter(), page=PageRequest(20)))
    assert "prefix_length" not in before["query"]["bool"]["should"][1]["match"]["search.text"]


def test_shard_time_adds_rewrite_query_and_aggregations_of_every_shard() -> None:
    shard = {"searches": [{"rewrite_time": 1_000_000, "query": [{"time_in_nanos": 2_500_000}]}],
             "aggregations": [{"time_in_nanos": 500_000}, {"time_in_nanos": 250_000}]}
    assert shard_ms({"profile": {"shards": [shard, shard]}}) == 8.5


def test_the_report_shows_each_part_and_request() -> None:
    cost = {"inputs": 60, "clauses": {"shard_ms_mean": {"full": 1.5}, "clause_ms": {"fuzzy": 1.2, "warm_clause": 0.0},
                                      "fuzzy_prefix_saves_ms": 0.7},
            "requests": {"search_took_ms": {"p50": 9.0, "p95": 20}, "sales_took_ms_cached": {"p50": 2.0, "p95": 5}}}
    lines = cost_lines(cost)
    assert [line for line in lines if line.startswith("| ") and not line.startswith("| part")
            and not line.startswith("| request")] == [
        "| whole query (first page) | 1.5 |", "| fuzzy | 1.2 |", "| warm clause | 0.0 |",
        "| saved by the fuzzy prefix | 0.7 |", "| search | 9.0/20 |", "| sales cached | 2.0/5 |"]
    assert cost_lines(None) == []
