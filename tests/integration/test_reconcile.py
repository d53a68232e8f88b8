"""`orderrepo reconcile` on the real engine: a store written from a channel's messages agrees
with that channel's export, and injected drift (a missing order, a stale status, an extra
order) is reported order by order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import orjson

from adapters.search_engine import SearchEngine
from index_templates import IndexNames
from ingest.decoders import decode
from ingest.reconcile import reconcile
from ingest.writer import OrderStoreWriter
from order_domain.model import Channel
from sample_traffic import generate
from settings import Settings


def _web_export(tmp_path: Path) -> tuple[Path, list[bytes]]:
    values = [m.value for m in generate(orders=60, seed=5) if m.channel is Channel.WEB]
    export = tmp_path / "shopify-export.ndjson"
    export.write_bytes(b"\n".join(orjson.dumps(orjson.loads(v)) for v in values) + b"\n")
    return export, values


def _store(engine: SearchEngine, names: IndexNames, values: list[bytes]) -> None:
    changes = [change for value in values for change in decode("shopify", value)]
    OrderStoreWriter(engine, names).write(changes)
    engine.refresh(names.orders)


def _inject_drift(engine: SearchEngine, names: IndexNames, order_ids: list[str]) -> tuple[str, str, str]:
    missing, stale, template = order_ids[0], order_ids[1], order_ids[2]
    index_of = {hit["_id"]: hit["_index"] for hit in engine.search(
        names.orders, {"size": 3, "query": {"ids": {"values": [missing, stale, template]}}})["hits"]["hits"]}
    engine.request("DELETE", f"/{index_of[missing]}/_doc/{missing}")
    engine.request("POST", f"/{index_of[stale]}/_update/{stale}", body={"doc": {"status": "cancelled"}})
    extra = f"{template}-phantom"
    source = engine.get(index_of[template], template)["_source"]
    engine.request("PUT", f"/{index_of[template]}/_doc/{extra}", body={**source, "order_id": extra})
    engine.refresh(names.orders)
    return missing, stale, extra


def test_a_faithful_store_is_clean_and_each_injected_drift_is_reported(
    isolated: Settings, engine: SearchEngine, tmp_path: Path
) -> None:
    names = IndexNames(isolated.index_prefix)
    export, values = _web_export(tmp_path)
    _store(engine, names, values)
    clean = reconcile(engine, orders_index=names.orders, channel="web", source="shopify", export=export)
    assert clean.clean, clean.drift
    assert clean.messages == len(values) and clean.undecodable == 0
    order_ids = sorted(hit["_id"] for hit in engine.search(names.orders, {"size": 100})["hits"]["hits"])
    missing, stale, extra = _inject_drift(engine, names, order_ids)

    report = reconcile(engine, orders_index=names.orders, channel="web", source="shopify", export=export)
    kinds = {d.order_id: d.kind for d in report.drift}
    assert kinds == {missing: "missing", stale: "differs", extra: "extra"}
    stale_row = next(d for d in report.drift if d.order_id == stale)
    assert stale_row.fields["status"][1] == "cancelled"
    assert sum(day.export_count for day in report.days) == sum(day.store_count for day in report.days)
    assert not all(day.agrees for day in report.days)


def test_the_command_prints_json_and_exits_1_on_drift(isolated: Settings, engine: SearchEngine, tmp_path: Path) -> None:
    names = IndexNames(isolated.index_prefix)
    export, values = _web_export(tmp_path)
    _store(engine, names, values[:-3])  # the store has not seen the export's last messages
    env = {**os.environ, "ORDERREPO_INDEX_PREFIX": isolated.index_prefix,
           "ORDERREPO_ENGINE_URL": isolated.resolved_engine_url(),
           "ORDERREPO_KAFKA_BOOTSTRAP_SERVERS": isolated.resolved_kafka_servers()}
    run = subprocess.run([sys.executable, "-m", "orderrepo.cli", "reconcile", "--channel", "web", "--export",
                          str(export), "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    report = json.loads(run.stdout)
    assert report["clean"] is False and report["messages"] == len(values)
    assert report["drift"], "the last messages' changes are missing from the store"
    assert {row["kind"] for row in report["drift"]} <= {"missing", "differs"}
