"""`orderrepo chaos`: the long fault drill and soak, on a stack of their own, with a saved report."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def _seconds(text: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smh]?)", text.strip())
    if not match:
        raise typer.BadParameter(f"a duration such as 90s, 30m or 1h, not {text!r}")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def chaos_command(
    orders: int = typer.Option(2_000, min=50, help="orders in the drill's stream"),
    rate: float = typer.Option(40.0, min=1, help="messages per second during the drill"),
    soak: str = typer.Option("0", help="also soak for this long after the drill, e.g. 30m (0 = no soak)"),
    out: Path = typer.Option(Path("chaos-results"), help="folder for the JSON report and the process logs"),
    keep_stack: bool = typer.Option(False, help="leave the drill stack running afterwards"),
) -> None:
    """Fault drill (worker SIGKILLs, a group member lost, engine and broker restarts, disk full,
    clock skew) on its own stack (ports 27xxx), judged against an independent ground truth;
    then an optional soak with API traffic from every role. Exit code 1 when anything was lost."""
    from chaos import stack_control
    from chaos.drill import Drill
    from chaos.soak import Soak
    from local_stack import stack

    run_dir = out / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    run_dir.mkdir(parents=True, exist_ok=True)
    home = run_dir / "stack"
    settings = stack_control.drill_settings(home, prefix="chaos")
    console.print(f"starting the drill stack in {home} ...")
    stack_control.start(settings)
    try:
        drill = Drill(settings=settings, workdir=run_dir, orders=orders, rate=rate,
                      log=lambda line: console.print(f"[yellow]{line}[/]")).run()
        soak_seconds = _seconds(soak)
        soaked = Soak(settings=stack_control.drill_settings(home, prefix="soak"), workdir=run_dir,
                      seconds=soak_seconds).run() if soak_seconds else None
    finally:
        if not keep_stack:
            stack.down(settings, wipe=True, report=lambda line: None)
    report = {"drill": {**drill.__dict__, "verdict": drill.verdict.__dict__ if drill.verdict else None},
              "soak": soaked.__dict__ if soaked else None}
    (run_dir / "report.json").write_text(json.dumps(report, indent=2, default=str))
    _print(drill, soaked)
    console.print(f"report: {run_dir / 'report.json'}")
    soak_ok = soaked is None or (soaked.errors == 0 and soaked.drained_s is not None)
    raise typer.Exit(code=0 if drill.ok and soak_ok else 1)


def _print(drill, soaked) -> None:  # type: ignore[no-untyped-def]
    verdict = drill.verdict
    table = Table("measure", "value", title="fault drill")
    table.add_row("messages (resent after broker faults)", f"{drill.messages:,} ({drill.resent:,})")
    table.add_row("faults injected", "\n".join(drill.faults_injected))
    table.add_row("orders checked against ground truth", f"{verdict.checked_orders:,}")
    for name in ("lost", "doubled", "regressed", "unexpected"):
        table.add_row(f"orders {name}", str(len(getattr(verdict, name))))
    table.add_row("dead letters (expected)", f"{drill.dead_letters} ({drill.expected_dead_letters})")
    table.add_row("API while the engine was down", str(drill.api_while_engine_down))
    for name, memory in drill.memory.items():
        table.add_row(f"memory {name}", f"peak {memory['peak_mb']:.0f} MB, slope {memory['slope_mb_per_min']:+.2f} MB/min")
    console.print(table)
    if soaked is not None:
        minutes = Table("minute", "requests", "errors", "p50 ms", "p99 ms", "max lag", title="soak")
        for row in soaked.minutes:
            minutes.add_row(*(str(row[k]) for k in ("minute", "requests", "errors", "p50_ms", "p99_ms", "max_lag")))
        console.print(minutes)
        console.print(f"soak: lag drained {soaked.drained_s:.0f}s after the traffic stopped" if soaked.drained_s
                      is not None else "[bold red]soak: the worker never caught up[/]")
        for name, memory in soaked.memory.items():
            console.print(f"soak memory {name}: peak {memory['peak_mb']:.0f} MB, "
                          f"slope {memory['slope_mb_per_min']:+.2f} MB/min")
