"""The README's main job: local stack, sample multichannel traffic through Kafka, ingest, API."""

from __future__ import annotations

import time
from urllib.parse import quote

from rich.console import Console
from rich.table import Table

from local_stack import stack
from orderrepo.bootstrap import build_worker, connect_engine, index_names, prepare_storage
from settings import Settings
from orderrepo.traffic import publish_sample_traffic

console = Console(stderr=True)


def run_demo(settings: Settings, *, orders: int, seed: int, port: int, serve: bool) -> None:
    stack.up(settings, report=lambda line: console.print(f"[dim]stack[/] {line}"))
    engine = connect_engine(settings)
    prepare_storage(settings, engine)
    sent = publish_sample_traffic(settings, orders=orders, seed=seed)
    console.print(f"published {sent:,} order change messages for {orders:,} orders on 6 channel topics")
    started = time.monotonic()
    worker = build_worker(settings, engine)
    worker.install_signal_handlers()
    with console.status("ingesting") as status:
        worker.run(idle_exit_s=5.0, on_batch=lambda s: status.update(
            f"ingesting: {s.records:,} records, {s.orders_written:,} order writes, {s.dead_lettered} dead letters"))
    names = index_names(settings)
    engine.refresh(names.orders)
    _print_summary(engine, names.orders, names.events, worker.stats, time.monotonic() - started)
    if serve:
        _serve(settings, engine, names.orders, port)


def _print_summary(engine, orders_alias: str, events_alias: str, stats, seconds: float) -> None:  # type: ignore[no-untyped-def]
    table = Table("what", "count", title=f"ingested in {seconds:.1f}s")
    table.add_row("Kafka records", f"{stats.records:,}")
    table.add_row("orders in the store", f"{engine.count(orders_alias):,}")
    table.add_row("timeline entries", f"{engine.count(events_alias):,}")
    table.add_row("dropped (changed nothing)", f"{stats.dropped:,}")
    table.add_row("dead-lettered", f"{stats.dead_lettered:,}")
    console.print(table)


def _serve(settings: Settings, engine, orders_alias: str, port: int) -> None:  # type: ignore[no-untyped-def]
    import uvicorn

    from query_api.auth import Role, issue_token, resolve_secret

    secret = resolve_secret(settings.api_token_secret, settings.stack.home)
    sample = engine.search(orders_alias, {"size": 1, "query": {"exists": {"field": "customer.email"}},
                                          "sort": [{"placed_at": "desc"}]})["hits"]["hits"]
    csr = issue_token(secret, subject="demo-csr", role=Role.CSR)
    base = f"http://127.0.0.1:{port}"
    console.print(f"\n[bold green]API:[/] {base}/docs   (Ctrl-C to stop)")
    console.print(f"CSR token: {csr}", soft_wrap=True)
    if sample:
        order = sample[0]["_source"]
        key = f"email:{order['customer']['email'].lower()}"
        console.print(f"  curl -s {base}/orders/{order['order_id']} -H 'Authorization: Bearer {csr}'", soft_wrap=True)
        console.print(f"  curl -s '{base}/customers/{key}/orders?size=5' -H 'Authorization: Bearer {csr}'", soft_wrap=True)
        # a name that is in the data (a fixed example such as "smith" found nothing in the sample traffic)
        text = ((order["customer"].get("name") or "").split() or [order["customer"]["email"].split("@")[0]])[-1]
        console.print(f"  curl -s '{base}/search?q={quote(text)}' -H 'Authorization: Bearer {csr}'", soft_wrap=True)
    uvicorn.run("query_api.app:create_app", factory=True, host="127.0.0.1", port=port, log_config=None)
