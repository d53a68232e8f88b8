"""The README's main job: local stack, sample multichannel traffic through Kafka, ingest, API + console.

A first run should read like a product, not a log: progress bars for publishing and ingest,
a summary, then the console's URL with a ready login link per role and three things to try.
Known-harmless library chatter is filtered by exact message (see `_HARMLESS`); anything else
the libraries log still shows.
"""

from __future__ import annotations

import logging
import signal
import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from adapters.search_engine import SearchEngine
from index_templates import IndexNames
from ingest.worker import IngestWorker
from local_stack import stack
from orderrepo.bootstrap import build_worker, connect_engine, index_names, prepare_storage
from orderrepo.traffic import publish_sample_traffic
from query_api.auth import Role, issue_token, resolve_secret
from settings import Settings

console = Console(stderr=True)

# logger -> message fragments that are expected on a fresh start and change nothing:
_HARMLESS: dict[str, tuple[str, ...]] = {
    # the template installer asks whether an alias exists; "404" is the answer "not yet", which
    # the engine client logs as a failed request before our adapter turns it into an empty list
    "opensearch": ("/_alias/", "status:404"),
    # topics were created a moment ago and their leaders are still being elected: the producer
    # retries (acks=all) and fails loudly if a retry budget runs out, so the first retries are noise
    "kafka.producer.sender": ("NotLeaderForPartitionError", "retrying"),
    "kafka.cluster": ("No node available for metadata refresh",),
    # kafka-python's I/O loop timing note when this process is busy decoding: a hint, not a fault
    "kafka.net.selector": ("It is blocking the event loop",),
}


class _DropHarmless(logging.Filter):
    def __init__(self, fragments: tuple[str, ...]) -> None:
        super().__init__()
        self.fragments = fragments

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not all(fragment in message for fragment in self.fragments)


def _quiet_known_noise() -> None:
    for name, fragments in _HARMLESS.items():
        logging.getLogger(name).addFilter(_DropHarmless(fragments))
    # the progress bar and the summary table say what these lines say
    logging.getLogger("ingest.worker").setLevel(logging.WARNING)


def run_demo(settings: Settings, *, orders: int, seed: int, port: int, serve: bool) -> None:
    _quiet_known_noise()
    stack.up(settings, report=lambda line: console.print(f"[dim]stack[/] {line}"))
    engine = connect_engine(settings)
    prepare_storage(settings, engine)
    sent = publish_sample_traffic(settings, orders=orders, seed=seed)
    console.print(f"published {sent:,} order change messages for {orders:,} orders on 6 channel topics")
    started = time.monotonic()
    worker = build_worker(settings, engine)
    _ingest(worker, expected=sent)
    names = index_names(settings)
    engine.refresh(names.orders)
    engine.refresh(names.events)
    _print_summary(engine, names, worker, time.monotonic() - started)
    if serve:
        _serve(settings, engine, names, port)


def _ingest(worker: IngestWorker, *, expected: int) -> None:
    """Consume until idle, with a bar over the records published by this run."""
    worker.install_signal_handlers()  # Ctrl-C finishes the batch in hand and commits it
    columns = (TextColumn("[bold]ingesting "), BarColumn(), MofNCompleteColumn(), TextColumn("records"),
               TextColumn("{task.fields[detail]}"), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("ingest", total=expected, detail="")
        worker.run(idle_exit_s=5.0, on_batch=lambda s: progress.update(
            task, completed=min(s.records, expected),
            detail=f"{s.orders_written:,} order writes, {s.dead_lettered} dead letters"))
    for sig in (signal.SIGINT, signal.SIGTERM):  # serving: the web server handles Ctrl-C itself
        signal.signal(sig, signal.SIG_DFL if sig is signal.SIGTERM else signal.default_int_handler)


def _print_summary(engine: SearchEngine, names: IndexNames, worker: IngestWorker, seconds: float) -> None:
    stats = worker.stats
    table = Table("what", "count", title=f"ingested in {seconds:.1f}s")
    table.add_row("Kafka records", f"{stats.records:,}")
    table.add_row("orders in the store", f"{engine.count(names.orders):,}")
    table.add_row("timeline entries", f"{engine.count(names.events):,}")
    table.add_row("dropped (changed nothing)", f"{stats.dropped:,}")
    table.add_row("dead-lettered", f"{stats.dead_lettered:,}")
    console.print(table)


def _first(engine: SearchEngine, alias: str, *filters: dict[str, Any]) -> dict[str, Any] | None:
    hits = engine.search(alias, {"size": 1, "query": {"bool": {"filter": list(filters)}},
                                 "sort": [{"placed_at": "desc"}], "_source": ["order_id", "customer"]})["hits"]["hits"]
    return hits[0]["_source"] if hits else None


def _end_screen(settings: Settings, engine: SearchEngine, names: IndexNames, base: str) -> None:
    secret = resolve_secret(settings.api_token_secret, settings.stack.home)
    caller = _first(engine, names.orders, {"exists": {"field": "customer.phone"}},
                    {"exists": {"field": "customer.email"}})
    crossed = _first(engine, names.orders, {"term": {"facts.cross_channel": True}})
    links = {role: issue_token(secret, subject=f"demo-{role.value}", role=role)
             for role in (Role.CSR, Role.ANALYST, Role.ADMIN)}
    email = f"email:{caller['customer']['email'].lower()}" if caller else None
    if email:
        links[Role.STOREFRONT] = issue_token(secret, subject="demo-shopper", role=Role.STOREFRONT,
                                             customer_keys=(email,))
    screens = {Role.CSR: "csr", Role.STOREFRONT: "my-orders", Role.ANALYST: "analyst", Role.ADMIN: "operator"}
    console.rule("[bold green]the console is up")
    console.print(f"Console: [link={base}/console/]{base}/console/[/link]    API docs: {base}/docs    (Ctrl-C to stop)\n")
    console.print("[bold]Sign in as[/] (each link carries a fresh 8-hour token, kept in the browser tab only):")
    for role, token in links.items():
        console.print(f"  {role.value:<11} {base}/console/{screens[role]}#token={token}", soft_wrap=True)
    console.print("\n[bold]Three things to try[/]")
    if caller:
        digits = "".join(ch for ch in caller["customer"]["phone"] if ch.isdigit())
        console.print(f"  1. As csr, type part of a caller's phone number, [cyan]{digits[-7:-4]} {digits[-4:]}[/], "
                      f"and pick {caller['customer'].get('name') or 'the customer'} for their history on every channel.")
    if crossed:
        console.print(f"  2. As csr, open order [cyan]{crossed['order_id']}[/]: bought on one channel, returned on "
                      "another, with its tracking and timeline.")
    console.print("  3. As analyst, compare return rates by channel, then export the view as Parquet or CSV.")
    if email:
        console.print(f"  (As storefront you are {email}: \"my orders\" shows that customer's orders only.)")


def _serve(settings: Settings, engine: SearchEngine, names: IndexNames, port: int) -> None:
    import uvicorn

    base = f"http://127.0.0.1:{port}"
    _end_screen(settings, engine, names, base)
    uvicorn.run("query_api.app:create_app", factory=True, host="127.0.0.1", port=port, log_config=None,
                log_level="warning", access_log=False)
