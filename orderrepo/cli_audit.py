"""`orderrepo audit`: list and purge the CSR read audit (query_api/audit.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import typer
from rich.console import Console
from rich.table import Table

from settings import get_settings

audit_app = typer.Typer(no_args_is_help=True, help="CSR read audit: who read which customer's data, and when")


@audit_app.command("list")
def audit_list(
    who: str | None = typer.Option(None, help="token subject of the reader"),
    customer: str | None = typer.Option(None, help="customer key, e.g. email:ana@example.com (pseudonymised "
                                                   "with the current key before the lookup)"),
    pseudonym: str | None = typer.Option(None, help="customer pseudonym as stored (p<version>_...)"),
    order: str | None = typer.Option(None, help="global order id"),
    days: float | None = typer.Option(None, min=0, help="only the last N days"),
    limit: int = typer.Option(100, min=1, max=10_000),
) -> None:
    """Audit entries, newest first."""
    from orderrepo.bootstrap import connect_engine
    from query_api.audit import list_audit
    from query_api.pseudonyms import key_from_settings

    settings = get_settings()
    customers = tuple(value for value in (pseudonym,) if value)
    if customer:
        customers += (key_from_settings(settings).pseudonym(customer),)
    since = datetime.now(UTC) - timedelta(days=days) if days is not None else None
    rows = list_audit(connect_engine(settings), settings.index_prefix, who=who, customers=customers,
                      order_id=order, since=since, limit=limit)
    table = Table("at", "who", "role", "route", "customer", "order", title=f"{len(rows)} audit entries")
    for row in rows:
        table.add_row(row["at"], row["who"], row["role"], row["route"], row.get("customer") or "-",
                      row.get("order_id") or "-")
    Console().print(table)


@audit_app.command("purge")
def audit_purge(
    days: int | None = typer.Option(None, min=1, help="keep this many days [default: "
                                                       "ORDERREPO_API_AUDIT_RETENTION_DAYS]"),
) -> None:
    """Delete the entries older than the audit retention."""
    from orderrepo.bootstrap import connect_engine
    from query_api.audit import purge_audit

    settings = get_settings()
    keep = days or settings.api_audit_retention_days
    deleted = purge_audit(connect_engine(settings), settings.index_prefix, retention_days=keep)
    Console(stderr=True).print(f"deleted {deleted:,} audit entries older than {keep} days")
