"""The `orderrepo` command line: local stack, ingest worker, sample traffic, API, demo."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from orderrepo.cli_audit import audit_app
from settings.log_setup import configure_logging
from orderrepo.cli_chaos import chaos_command
from orderrepo.cli_reconcile import reconcile_command
from settings import get_settings
from orderrepo.cli_dlq import dlq_app
from orderrepo.cli_identity import identity_app
from orderrepo.cli_retention import register as register_retention

app = typer.Typer(no_args_is_help=True, help="Omnichannel Order Repository")
stack_app = typer.Typer(no_args_is_help=True,
                        help="Local OpenSearch (or Elasticsearch) + Kafka from Maven Central, on 127.0.0.1")
app.add_typer(stack_app, name="stack")
console = Console(stderr=True)


@app.callback()
def _configure() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)


def _fail(error: Exception) -> None:
    console.print(f"[bold red]error:[/] {error}")
    raise typer.Exit(code=1)


ENGINE_CHOICE = typer.Option("opensearch", "--engine",
                             help="opensearch, elasticsearch (7.10) or elasticsearch8 (8.x core build); each on its own ports")
CLUSTER_CHOICE = typer.Option(None, "--cluster", help="hot-warm: OpenSearch as three nodes (hot-1, hot-2 with "
                              "temp=hot, warm-1 with temp=warm) on their own ports, instead of one node")


@stack_app.command("up")
def stack_up(engine: str = ENGINE_CHOICE, cluster: str | None = CLUSTER_CHOICE) -> None:
    """Start the search engine and Kafka (downloads them on first use); harmless when already up."""
    from local_stack import stack
    from local_stack.java_runtime import NoSuitableJava
    from local_stack.maven import MavenError
    from local_stack.processes import PortInUse
    from local_stack.servers import ServerDidNotStart

    try:
        stack.up(get_settings(), engine=engine, cluster_layout=cluster)
    except (ValueError, NoSuitableJava, MavenError, PortInUse, ServerDidNotStart) as error:
        _fail(error)


@stack_app.command("down")
def stack_down(
    wipe: bool = typer.Option(False, "--wipe", help="also delete the servers' data"),
    only: str | None = typer.Option(None, "--only", help="stop just this server (opensearch, elasticsearch, "
                                    "elasticsearch8, kafka) or the hot-warm cluster's nodes"),
) -> None:
    """Stop the servers this stack started (by pid); other processes are never touched."""
    from local_stack import stack

    if only is not None and only not in (*stack.KINDS, *stack.CLUSTERS):
        _fail(ValueError(f"unknown server {only!r}; choose one of {', '.join((*stack.KINDS, *stack.CLUSTERS))}"))
    stack.down(get_settings(), wipe=wipe, only=only)


@stack_app.command("status")
def stack_status() -> None:
    """Show each server: running, stopped or external (configured by environment)."""
    from local_stack import stack

    table = Table("server", "state", "address", "pid", "detail")
    statuses = stack.status(get_settings())
    for item in statuses:
        table.add_row(item.name, item.state, item.address, str(item.pid or "-"), item.detail)
    Console().print(table)
    if any(item.state == "stopped" for item in statuses):
        raise typer.Exit(code=3)


@stack_app.command("logs")
def stack_logs(
    server: str = typer.Argument(..., help="opensearch, elasticsearch, elasticsearch8, kafka or a cluster node "
                                 "(opensearch-hot-1)"),
    lines: int = typer.Option(50, "--lines", "-n", min=1, max=100_000),
) -> None:
    """Print the last lines of a server's log."""
    from local_stack.cluster import NODES
    from local_stack.servers import managed
    from local_stack.stack import KINDS

    servers = (*KINDS, *(node.server for node in NODES))
    if server not in servers:
        _fail(ValueError(f"unknown server {server!r}; choose one of {', '.join(servers)}"))
    log: Path = managed(get_settings().stack, server).log_file
    if not log.exists():
        _fail(FileNotFoundError(f"no log yet at {log}"))
    sys.stdout.write("\n".join(log.read_text(errors="replace").splitlines()[-lines:]) + "\n")


templates_app = typer.Typer(no_args_is_help=True, help="Index templates, index versions and aliases")
ingest_app = typer.Typer(no_args_is_help=True, help="The Kafka -> engine ingest worker")
traffic_app = typer.Typer(no_args_is_help=True, help="Sample multichannel order traffic")
app.add_typer(templates_app, name="templates")
app.add_typer(ingest_app, name="ingest")
app.add_typer(traffic_app, name="traffic")
app.add_typer(audit_app, name="audit")
app.add_typer(dlq_app, name="dlq")
app.add_typer(identity_app, name="identity")
register_retention(app)


@templates_app.command("install")
def templates_install() -> None:
    """Install the index templates and create the first index versions behind their aliases (idempotent)."""
    from orderrepo.bootstrap import connect_engine, prepare_storage

    settings = get_settings()
    engine = connect_engine(settings)
    prepare_storage(settings, engine)
    console.print(f"templates installed on {engine.info.kind} {engine.info.version} at {engine.info.url}")


@ingest_app.command("run")
def ingest_run(
    idle_exit: float | None = typer.Option(None, help="stop after this many seconds without records"),
    processes: int | None = typer.Option(
        None, min=1, max=64, help="worker processes in the group [default: ORDERREPO_INGEST_PROCESSES or 1]"
    ),
    worker_index: int | None = typer.Option(None, hidden=True, help="set by the supervisor for its children"),
) -> None:
    """Consume every channel topic and keep the order store current (SIGTERM stops it gracefully)."""
    import sys

    from prometheus_client import start_http_server

    from ingest.supervisor import supervise
    from orderrepo.bootstrap import connect_engine, prepare_storage, start_worker, tune_collector

    settings = get_settings()
    count = processes or settings.ingest_processes
    engine = connect_engine(settings, wait_s=settings.engine_start_wait_s, on_wait=lambda error, left: console.print(
        f"[yellow]waiting for the search engine[/] ({error}); giving up in {left:.0f}s"))
    if count > 1:
        prepare_storage(settings, engine)
        console.print(f"starting {count} ingest workers into {engine.info.kind} {engine.info.version}")
        child = [sys.executable, "-m", "orderrepo.cli", "ingest", "run", "--processes", "1"]
        child += ["--idle-exit", str(idle_exit)] if idle_exit is not None else []
        raise typer.Exit(code=supervise([[*child, "--worker-index", str(i)] for i in range(count)]))
    index = worker_index or 0
    if settings.ingest_metrics_port:
        start_http_server(settings.ingest_metrics_port + index, addr="127.0.0.1")
    worker = start_worker(settings, engine, worker_index=index, prepare=worker_index is None,  # else: the parent did
                          on_wait=lambda error, left: console.print(
                              f"[yellow]waiting for the broker and the engine[/] ({error}); giving up in {left:.0f}s"))
    worker.install_signal_handlers()
    tune_collector(settings.ingest_gc_threshold)
    console.print(f"ingest worker {index} into {engine.info.kind} {engine.info.version} at {engine.info.url}")
    worker.run(idle_exit_s=idle_exit)


@ingest_app.command("rebuild")
def ingest_rebuild(drop_old: bool = typer.Option(False, help="delete the previous index versions afterwards")) -> None:
    """Replay every topic into new index versions and swap the read aliases (no read downtime)."""
    from rich.progress import Progress

    from orderrepo.bootstrap import connect_engine, rebuild_projection

    settings = get_settings()
    with Progress(transient=True) as progress:
        task = progress.add_task("replaying records", total=None)
        report = rebuild_projection(settings, connect_engine(settings), drop_old=drop_old,
                                    progress=lambda n: progress.update(task, completed=n))
    console.print(f"rebuilt {report.old} -> {report.new}: {report.records:,} records in {report.seconds:.1f}s")


@ingest_app.command("health")
def ingest_health(stall_after: float = typer.Option(120.0, min=1)) -> None:
    """Exit 0 when every worker process polls and makes progress; 1 when one is stalled or gone."""
    import time

    import orjson

    from ingest.worker import health_verdict
    from orderrepo.bootstrap import health_files

    healthy = True
    for path in health_files(get_settings()):
        if not path.exists():
            console.print(f"no health file at {path}: is the worker running?")
            healthy = False
            continue
        ok, message = health_verdict(orjson.loads(path.read_bytes()), now=time.time(), stall_after_s=stall_after)
        console.print(f"{path.name}: {message}")
        healthy = healthy and ok
    raise typer.Exit(code=0 if healthy else 1)


@traffic_app.command("publish")
def traffic_publish(
    orders: int = typer.Option(1000, min=1, max=10_000_000, help="number of orders"),
    seed: int = typer.Option(42, help="same seed, same traffic"),
    faults: bool = typer.Option(False, help="inject duplicates, reordering and poison messages"),
) -> None:
    """Publish reproducible multichannel order traffic to the channel topics."""
    from orderrepo.bootstrap import connect_engine, prepare_storage
    from orderrepo.traffic import publish_sample_traffic

    settings = get_settings()
    prepare_storage(settings, connect_engine(settings))
    sent = publish_sample_traffic(settings, orders=orders, seed=seed, faults=faults)
    console.print(f"published {sent:,} messages for {orders:,} orders (seed {seed})")


@app.command("api")
def api(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000, min=1, max=65535),
    workers: int | None = typer.Option(None, min=1, max=64, help="default: ORDERREPO_API_WORKERS"),
) -> None:
    """Serve the query API (uvicorn)."""
    import uvicorn

    uvicorn.run("query_api.app:create_app", factory=True, host=host, port=port,
                workers=workers or get_settings().api_workers,
                log_config=None, access_log=False)


@app.command("token")
def token(
    role: str = typer.Option(..., help="storefront, csr, analyst or admin"),
    subject: str = typer.Option("cli-user", help="who the token is for"),
    customer_key: list[str] = typer.Option([], "--customer-key", help="storefront: e.g. email:ana@example.com"),
    hours: float = typer.Option(8.0, min=0.01, max=24 * 30),
) -> None:
    """Print a signed API bearer token (secret: ORDERREPO_API_TOKEN_SECRET, or the local dev secret)."""
    from datetime import timedelta

    from query_api.auth import Role, issue_token, resolve_secret

    settings = get_settings()
    try:
        chosen = Role(role)
        secret = resolve_secret(settings.api_token_secret, settings.stack.home)
        print(issue_token(secret, subject=subject, role=chosen, customer_keys=tuple(customer_key),
                          ttl=timedelta(hours=hours)))
    except ValueError as error:
        _fail(error)


app.command("reconcile")(reconcile_command)
app.command("chaos")(chaos_command)


@app.command("demo")
def demo(
    orders: int = typer.Option(2000, min=1, max=1_000_000),
    seed: int = typer.Option(7),
    port: int = typer.Option(8000, min=1, max=65535),
    serve: bool = typer.Option(True, help="keep serving the API after ingesting"),
) -> None:
    """Stack up, publish sample traffic through Kafka, ingest it, then serve the API."""
    from orderrepo.demo import run_demo

    run_demo(get_settings(), orders=orders, seed=seed, port=port, serve=serve)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
