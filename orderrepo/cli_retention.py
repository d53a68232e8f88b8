"""`orderrepo retention plan|run|report` and `orderrepo erase --customer KEY` (entry points).

Registered on the main CLI by `register(app)`.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from settings import get_settings

if TYPE_CHECKING:
    from retention.mover import Mover

retention_app = typer.Typer(no_args_is_help=True, help="Tiering by read frequency: hot, warm, cold Parquet, deleted")
console = Console(stderr=True)
# Used by `plan` while a tier is still empty: the storage targets (warm <= 1/2, cold <= 1/30 of hot).
ASSUMED_RATIO = {"hot": 1.0, "warm": 0.5, "cold": 1 / 30, "deleted": 0.0}


def _mover() -> Mover:
    from orderrepo.bootstrap import connect_engine, prepare_storage
    from retention.config import build_mover
    from retention.storage import install_tier_storage

    settings = get_settings()
    engine = connect_engine(settings)
    prepare_storage(settings, engine)
    mover = build_mover(settings, engine)
    install_tier_storage(engine, mover.names)
    return mover


def _per_order_bytes(mover: Mover) -> dict[str, float]:
    from retention.report import bytes_per_order, tier_report

    measured = bytes_per_order(tier_report(mover.engine, mover.names, mover.copies.cold))
    hot = measured.get("hot") or 0.0
    return {tier: measured.get(tier, hot * ratio) for tier, ratio in ASSUMED_RATIO.items()}


@retention_app.command("plan")
def plan() -> None:
    """Dry run: what would move where, and the storage it would save. Moves nothing (it only
    brings the locator up to date with recent hot writes first, as every pass does)."""
    mover = _mover()
    mover.locator.sync_from_hot(since=mover.locator.sync_watermark())
    moves: Counter[tuple[str, str]] = Counter()
    for decisions in mover.plan():
        moves.update((d.entry["tier"], str(d.target)) for d in decisions)
    sizes = _per_order_bytes(mover)
    table = Table("from", "to", "orders", "storage saved (est.)")
    saved = 0.0
    for (source, target), count in sorted(moves.items()):
        delta = count * (sizes[source] - sizes[target])
        saved += delta
        table.add_row(source, target, f"{count:,}", _human(delta))
    Console().print(table)
    console.print(f"{sum(moves.values()):,} orders would move; storage saved about {_human(saved)}")


@retention_app.command("run")
def run(
    loop: float | None = typer.Option(None, "--loop", min=1, help="run a pass every INTERVAL seconds, forever"),
) -> None:
    """Move orders between tiers by the policy (resumable: an interrupted pass is finished first)."""
    from prometheus_client import start_http_server

    settings = get_settings()
    mover = _mover()
    if settings.tier.mover_metrics_port:
        start_http_server(settings.tier.mover_metrics_port, addr="127.0.0.1")
    while True:
        total = mover.engine.count(mover.names.locator)
        columns = (TextColumn("retention pass"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("pass", total=total or None)
            report = mover.run_pass(progress=lambda n: progress.advance(task, n))
        moved = ", ".join(f"{a}->{b}: {n:,}" for (a, b), n in sorted(report.moved.items())) or "nothing moved"
        console.print(f"examined {report.examined:,} orders in {report.seconds:.1f}s; {moved}; "
                      f"resumed {report.resumed}, conflicts {report.conflicts}")
        if loop is None:
            return
        time.sleep(loop)


@retention_app.command("report")
def report() -> None:
    """Orders and bytes per tier per creation month."""
    from retention.report import tier_report

    mover = _mover()
    table = Table("tier", "month", "orders", "bytes", "bytes/order")
    for row in tier_report(mover.engine, mover.names, mover.copies.cold):
        per = row.bytes / row.orders if row.orders else 0
        table.add_row(row.tier, row.month, f"{row.orders:,}", _human(row.bytes), f"{per:,.0f}")
    Console().print(table)


def erase(customer: str = typer.Option(..., "--customer", help="any key of the customer, e.g. email:a@b.com")) -> None:
    """Erase one customer from every tier; leaves tombstones and an audit entry (counts only)."""
    from retention.erasure import Eraser

    result = Eraser(_mover()).erase(customer)
    counts = ", ".join(f"{name} {n:,}" for name, n in sorted(result.counts.items()))
    console.print(f"erased (audit {result.audit_id}): {counts}")


def register(app: typer.Typer) -> None:
    app.add_typer(retention_app, name="retention")
    app.command("erase")(erase)


def _human(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(size) < 1024:
            return f"{size:,.1f} {unit}"
        size /= 1024
    return f"{size:,.1f} TB"
