"""The `orderrepo` command line: local stack, ingest worker, sample traffic, API, demo."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from orderrepo.logging_setup import configure_logging
from orderrepo.settings import get_settings

app = typer.Typer(no_args_is_help=True, help="Omnichannel Order Repository")
stack_app = typer.Typer(no_args_is_help=True, help="Local OpenSearch + Kafka from Maven Central, on 127.0.0.1")
app.add_typer(stack_app, name="stack")
console = Console(stderr=True)


@app.callback()
def _configure() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)


def _fail(error: Exception) -> None:
    console.print(f"[bold red]error:[/] {error}")
    raise typer.Exit(code=1)


@stack_app.command("up")
def stack_up() -> None:
    """Start OpenSearch and Kafka (downloads them on first use); harmless when already up."""
    from local_stack import stack
    from local_stack.java_runtime import NoSuitableJava
    from local_stack.maven import MavenError
    from local_stack.processes import PortInUse
    from local_stack.servers import ServerDidNotStart

    try:
        stack.up(get_settings())
    except (NoSuitableJava, MavenError, PortInUse, ServerDidNotStart) as error:
        _fail(error)


@stack_app.command("down")
def stack_down(wipe: bool = typer.Option(False, "--wipe", help="also delete the servers' data")) -> None:
    """Stop the servers this stack started (by pid); other processes are never touched."""
    from local_stack import stack

    stack.down(get_settings(), wipe=wipe)


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
    server: str = typer.Argument(..., help="opensearch or kafka"),
    lines: int = typer.Option(50, "--lines", "-n", min=1, max=100_000),
) -> None:
    """Print the last lines of a server's log."""
    from local_stack.servers import managed

    if server not in ("opensearch", "kafka"):
        _fail(ValueError(f"unknown server {server!r}; choose opensearch or kafka"))
    log: Path = managed(get_settings().stack, server).log_file
    if not log.exists():
        _fail(FileNotFoundError(f"no log yet at {log}"))
    sys.stdout.write("\n".join(log.read_text(errors="replace").splitlines()[-lines:]) + "\n")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
