"""Every stored copy of every order of a drill, read straight from the engine's indices.

Read with a wildcard over the concrete indices of the orders family (hot, warm and
every version), not through the read alias: a copy left behind in another index is
exactly what the drill must see.
"""

from __future__ import annotations

from typing import Any

import httpx
import polars as pl

PAGE = 2_000


def stored_copies(engine_url: str, index_prefix: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(order_id, status, index) per stored copy; (order_id, line_id, quantity) per line."""
    copies: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    with httpx.Client(base_url=engine_url, timeout=60) as client:
        client.post(f"/{index_prefix}-orders*/_refresh").raise_for_status()
        after: list[Any] | None = None
        while True:
            body: dict[str, Any] = {"size": PAGE, "_source": ["order_id", "status", "lines.line_id", "lines.quantity"],
                                    "sort": [{"order_id": "asc"}, {"_index": "asc"}],  # two copies share an order id
                                    "query": {"match_all": {}}}
            if after is not None:
                body["search_after"] = after
            hits = client.post(f"/{index_prefix}-orders*/_search", json=body).raise_for_status().json()["hits"]["hits"]
            for hit in hits:
                source = hit["_source"]
                copies.append({"order_id": source["order_id"], "status": source.get("status"), "index": hit["_index"]})
                lines.extend({"order_id": source["order_id"], "line_id": str(line["line_id"]),
                              "quantity": line.get("quantity")} for line in source.get("lines") or [])
            if len(hits) < PAGE:
                break
            after = hits[-1]["sort"]
    return (pl.DataFrame(copies, schema={"order_id": pl.Utf8, "status": pl.Utf8, "index": pl.Utf8}),
            pl.DataFrame(lines, schema={"order_id": pl.Utf8, "line_id": pl.Utf8, "quantity": pl.Int64}))
