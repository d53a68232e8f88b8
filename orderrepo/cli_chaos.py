"""`orderrepo chaos`: the long fault drill and soak, on a stack of their own, with a saved report.

The report (`<out>/<time>/report.json`) is written after each stage, also when a stage
fails, so a run that ends badly still says how: every child's exit status and log tail.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from chaos.drill import DrillReport
    from chaos.soak import SoakReport
    from settings import Settings

console = Console()


def _seconds(text: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smh]?)", text.strip())
    if not match:
        raise typer.BadParameter(f"a duration such as 90s, 30m or 1h, not {text!r}")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def chaos_command(
    orders: int = typer.Option(2_000, min=50, help="orders in the drill's stream"),
    rate: float = typer.Option(40.0, min=1, help="messages per second during the drill"),
    drill: bool = typer.Option(True, "--drill/--no-drill", help="run the fault drill (before the soak)"),
    soak: str = typer.Option("0", help="also soak for this long after the drill, e.g. 30m (0 = no soak)"),
    soak_rate: float = typer.Option(30.0, min=1, help="messages per second during the soak"),
    out: Path = typer.Option(Path("chaos-results"), help="folder for the JSON report and the process logs"),
    keep_stack: bool = typer.Option(False, help="leave the drill stack running afterwards"),
) -> None:
    """Fault drill (worker SIGKILLs, a group member lost, engine and broker restarts, disk full,
    clock skew) on its own stack (ports 27xxx, ORDERREPO_DRILL_* to move them), judged against an
    independent ground truth; then an optional soak with API traffic from every role.
    Exit code 1 when anything was lost, doubled or regressed, or any process died on its own."""
    from chaos import stack_control
    from chaos.drill import Drill
    from chaos.soak import Soak

    soak_seconds = _seconds(soak)
    run_dir = out / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    run_dir.mkdir(parents=True, exist_ok=True)
    report_file = run_dir / "report.json"
    drilled: DrillReport | None = None
    soaked: SoakReport | None = None
    with _own_stack(run_dir / "stack", keep=keep_stack) as settings:
        try:
            if drill:
                drilled = Drill(settings=settings, workdir=run_dir, orders=orders, rate=rate,
                                log=lambda line: console.print(f"[yellow]{line}[/]")).run()
                _save(report_file, drilled, soaked)
            if soak_seconds:
                console.print(f"soaking for {soak_seconds:.0f}s ...")
                soaked = Soak(settings=stack_control.drill_settings(settings.stack.home, prefix="soak"),
                              workdir=run_dir, seconds=soak_seconds, rate=soak_rate).run()
        finally:
            _save(report_file, drilled, soaked)
    _print(drilled, soaked)
    console.print(f"report: {report_file}")
    ok = (drilled is None or drilled.ok) and (soaked is None or soaked.ok)
    raise typer.Exit(code=0 if ok else 1)


@contextmanager
def _own_stack(home: Path, *, keep: bool) -> Iterator[Settings]:
    """The drill stack (ports 27xxx), started, then stopped and wiped unless kept."""
    from chaos import stack_control
    from local_stack import stack

    settings = stack_control.drill_settings(home, prefix="chaos")
    console.print(f"starting the drill stack in {home} ({settings.resolved_engine_url()}, "
                  f"Kafka {settings.resolved_kafka_servers()}) ...")
    stack_control.start(settings)
    try:
        yield settings
    finally:
        if not keep:
            stack.down(settings, wipe=True, report=lambda line: None)


def _save(path: Path, drilled: DrillReport | None, soaked: SoakReport | None) -> None:
    report: dict[str, Any] = {
        "drill": None if drilled is None else {**asdict(drilled), "ok": drilled.ok},
        "soak": None if soaked is None else {**asdict(soaked), "ok": soaked.ok, "requests": soaked.requests,
                                             "errors": soaked.errors}}
    path.write_text(json.dumps(report, indent=2, default=str))


def _print(drilled: DrillReport | None, soaked: SoakReport | None) -> None:
    if drilled is not None:
        _print_drill(drilled)
    if soaked is not None:
        _print_soak(soaked)


def _print_drill(drill: DrillReport) -> None:
    table = Table("measure", "value", title="fault drill")
    table.add_row("messages (resent after broker faults)", f"{drill.messages:,} ({drill.resent:,})")
    table.add_row("faults injected", "\n".join(drill.faults_injected))
    table.add_row("duration (catch-up after the stream)", f"{drill.seconds:.0f}s ({drill.catch_up_s:.0f}s)")
    if drill.verdict is not None:
        table.add_row("orders checked against ground truth", f"{drill.verdict.checked_orders:,}")
        for name in ("lost", "doubled", "regressed", "unexpected"):
            table.add_row(f"orders {name}", str(len(getattr(drill.verdict, name))))
    table.add_row("dead letters (expected)", f"{drill.dead_letters} ({drill.expected_dead_letters})")
    table.add_row("API while the engine was down", str(drill.api_while_engine_down))
    table.add_row("process ends", "\n".join(f"{e['name']} at {e['at_s']:.0f}s: {e['how']}"
                                            f"{'' if e['caused_by_us'] else ' ON ITS OWN'}" for e in drill.exits))
    _memory_rows(table, drill.memory)
    console.print(table)
    if drill.failure:
        console.print(f"[bold red]drill failed:[/] {drill.failure}")


def _print_soak(soaked: SoakReport) -> None:
    roles = sorted({role for row in soaked.minutes for role in row["roles"]})
    minutes = Table("minute", "requests", "errors", "p50 ms", "p99 ms", *(f"p99 {r} ms" for r in roles), "max lag",
                    title=f"soak: {soaked.seconds:.0f}s, {soaked.messages:,} messages, "
                          f"{soaked.errors} errors in {soaked.requests:,} requests")
    for row in soaked.minutes:
        minutes.add_row(*(str(row[k]) for k in ("minute", "requests", "errors", "p50_ms", "p99_ms")),
                        *(str(row["roles"].get(r, {}).get("p99_ms", "-")) for r in roles), str(row["max_lag"]))
    console.print(minutes)
    table = Table("measure", "value", title="soak")
    table.add_row("lag drained after the traffic stopped",
                  "never" if soaked.drained_s is None else f"{soaked.drained_s:.0f}s")
    _memory_rows(table, soaked.memory)
    console.print(table)
    if soaked.failure:
        console.print(f"[bold red]soak failed:[/] {soaked.failure}")


def _memory_rows(table: Table, memory: dict[str, dict[str, float]]) -> None:
    for name, figures in memory.items():
        table.add_row(f"memory {name}", f"peak {figures['peak_mb']:.0f} MB, "
                                        f"slope {figures['slope_mb_per_min']:+.2f} MB/min")
