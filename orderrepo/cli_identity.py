"""`orderrepo identity`: show a customer's identity component; unlink (and relink) a wrong join.

A customer is the component of a key in the identity graph (`order_domain.identity_graph`):
keys joined by any order, through any number of orders, in every tier. `unlink A B` records
that the pair A-B joins nothing (`retention.identity_links`): histories follow on the next
request, and the record outlives a Kafka replay and a projection rebuild. When A and B are
still joined through other keys, the command says through which, so the right pair can be
unlinked too. Every command is recorded in the audit (`orderrepo audit list`), under the
pseudonyms of the keys it named.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from settings import Settings, get_settings

identity_app = typer.Typer(no_args_is_help=True, help="Customer identity graph: show a customer's keys, "
                                                      "undo a wrong link")
console = Console(stderr=True)
KEY_HELP = "a customer key, e.g. email:ana@example.com, loyalty:L-1182, card:<token hash>"
BY = typer.Option(None, "--by", help="who asks (recorded in the audit) [default: the OS user]")


def _audit(settings: Settings, engine: Any, *, by: str, route: str, keys: tuple[str, ...]) -> None:
    """One audit entry per key named, as the API records staff reads (synchronous, refreshed)."""
    from index_templates import load_template
    from query_api.audit import AuditEntry, audit_index, bulk_body
    from query_api.pseudonyms import key_from_settings

    pseudonyms = key_from_settings(settings)
    index = audit_index(settings.index_prefix)
    entries = [AuditEntry(who=by, role="admin", route=route, customer=pseudonyms.pseudonym(key)) for key in keys]
    engine.request("PUT", f"/_index_template/{index}", body=load_template("audit.json", settings.index_prefix))
    engine.request("POST", "/_bulk", params={"refresh": "true"}, body=bulk_body(index, entries))


def _links(settings: Settings) -> tuple[Any, Any]:
    from orderrepo.bootstrap import connect_engine
    from retention.identity_links import IdentityLinks

    engine = connect_engine(settings)
    return engine, IdentityLinks(engine, settings.index_prefix)


def component_summary(key: str, found: Any) -> dict[str, Any]:
    """What `show` prints: keys, the links between them, unlinks touching them, order counts."""
    from retention.identity_links import severed_pairs

    walk = found.walk
    severed = sorted(severed_pairs(found.unlinks, walk.keys))
    return {"key": key, "keys": walk.keys, "links": [list(edge) for edge in sorted(walk.edges)],
            "unlinked": [list(p) for p in severed],
            "unlinks_elsewhere": len({tuple(u["key_hashes"]) for u in found.unlinks}) - len(severed),
            "orders": {k: found.orders.get(k, 0) for k in walk.keys}, "truncated": walk.truncated}


def _print_component(summary: dict[str, Any]) -> None:
    near: dict[str, list[str]] = {k: [] for k in summary["keys"]}
    for a, b in summary["links"]:
        near[a].append(b)
        near[b].append(a)
    table = Table("key", "orders", "linked to", title=f"customer of {summary['key']}: {len(summary['keys'])} key(s)")
    for key in summary["keys"]:
        table.add_row(key, str(summary["orders"][key]), ", ".join(sorted(near[key])) or "-")
    Console().print(table)
    for a, b in summary["unlinked"]:
        console.print(f"unlinked: {a} / {b}")
    if summary["unlinks_elsewhere"]:
        console.print(f"{summary['unlinks_elsewhere']} unlink(s) separate these keys from keys of other customers")
    if summary["truncated"]:
        console.print("[yellow]truncated:[/] the component is larger than a history query follows")


@identity_app.command("show")
def identity_show(key: str = typer.Argument(..., help=KEY_HELP),
                  as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
                  by: str | None = BY) -> None:
    """The customer `key` belongs to: every linked key, how they are linked, and the unlinks."""
    settings = get_settings()
    engine, links = _links(settings)
    summary = component_summary(key, links.component(key))
    _audit(settings, engine, by=by or getpass.getuser(), route="orderrepo identity show", keys=(key,))
    if as_json:
        print(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode())
    else:
        _print_component(summary)


@identity_app.command("unlink")
def identity_unlink(key_a: str = typer.Argument(..., help=KEY_HELP), key_b: str = typer.Argument(..., help=KEY_HELP),
                    reason: str = typer.Option("", "--reason", help="why (kept with the unlink)"),
                    by: str | None = BY) -> None:
    """Undo a wrong link: orders carrying both keys no longer join them (durable; survives replay)."""
    if key_a == key_b:
        console.print("[bold red]error:[/] name two different keys")
        raise typer.Exit(code=2)
    settings = get_settings()
    engine, links = _links(settings)
    who = by or getpass.getuser()
    links.unlink(key_a, key_b, by=who, reason=reason, at=datetime.now(UTC))
    _audit(settings, engine, by=who, route="orderrepo identity unlink", keys=(key_a, key_b))
    found = links.component(key_a)
    if key_b in found.walk.keys:
        from order_domain.identity_graph import adjacency, shortest_path

        chain = shortest_path(adjacency(found.walk.edges), key_a, key_b) or []
        console.print(f"unlinked, but still one customer through: {' - '.join(chain)}; unlink a pair on that chain")
        raise typer.Exit(code=3)
    console.print(f"unlinked: {key_a} and {key_b} are now separate customers "
                  f"({len(found.walk.keys)} key(s) with {key_a})")


@identity_app.command("relink")
def identity_relink(key_a: str = typer.Argument(..., help=KEY_HELP), key_b: str = typer.Argument(..., help=KEY_HELP),
                    by: str | None = BY) -> None:
    """Withdraw an unlink: orders carrying both keys join them again."""
    settings = get_settings()
    engine, links = _links(settings)
    if not links.relink(key_a, key_b):
        console.print(f"[bold red]error:[/] no unlink of {key_a} and {key_b}")
        raise typer.Exit(code=1)
    _audit(settings, engine, by=by or getpass.getuser(), route="orderrepo identity relink", keys=(key_a, key_b))
    console.print(f"relinked: orders carrying both {key_a} and {key_b} join them again")
