"""`orderrepo reconcile`: compare the store with a channel's own export and print the drift."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from ingest.reconcile import DriftReport, reconcile
from ingest.topics import CHANNEL_FORMATS
from order_domain.model import Channel
from settings import get_settings

console = Console()
MAX_ROWS = 200


def reconcile_command(
    channel: Channel = typer.Option(..., help="the channel whose export this is"),
    export: Path = typer.Option(..., exists=True, dir_okay=False, readable=True,
                                help="NDJSON: one native message per line (a JSON string for XML messages)"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Compare the store with a channel's export: counts and checksums per day, and every
    order that is missing, extra or different (exit code 1 when there is drift)."""
    from orderrepo.bootstrap import connect_engine, index_names

    settings = get_settings()
    engine = connect_engine(settings)
    try:
        report = reconcile(engine, orders_index=index_names(settings).orders, channel=channel.value,
                           source=CHANNEL_FORMATS[channel], export=export)
    finally:
        engine.close()
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2, default=str))
    else:
        _print(report)
    raise typer.Exit(code=0 if report.clean else 1)


def _print(report: DriftReport) -> None:
    days = Table("day", "export orders", "store orders", "export checksum", "store checksum", "agrees",
                 title=f"{report.channel}: {report.messages:,} messages, {report.undecodable:,} not decodable")
    for day in report.days:
        days.add_row(day.day, f"{day.export_count:,}", f"{day.store_count:,}", day.export_checksum,
                     day.store_checksum, "yes" if day.agrees else "[bold red]no[/]")
    console.print(days)
    if report.clean:
        console.print("[bold green]no drift[/]: the store agrees with the export")
        return
    drift = Table("order", "drift", "field", "export", "store", title=f"{len(report.drift):,} orders differ")
    for row in report.drift[:MAX_ROWS]:
        if not row.fields:
            drift.add_row(row.order_id, row.kind, "", "", "")
        for name, (exported, stored) in row.fields.items():
            drift.add_row(row.order_id, row.kind, name, str(exported), str(stored))
    console.print(drift)
    if len(report.drift) > MAX_ROWS:
        console.print(f"… and {len(report.drift) - MAX_ROWS:,} more (use --json for all)")
