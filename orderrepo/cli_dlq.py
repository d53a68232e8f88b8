"""`orderrepo dlq`: list, show and replay dead-letter and ignored records (operator commands).

Reads the whole dead-letter topic (no consumer group, nothing committed) and keeps the
latest record per source coordinates, so replays and compaction never show one
source record twice. `replay` re-publishes the original message to its channel topic
(embedded in the record, or fetched from its source coordinates and checked against
the recorded sha256), then writes a tombstone for the record, which resolves it.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from settings import Settings, get_settings

dlq_app = typer.Typer(no_args_is_help=True, help="Dead-letter and ignored records: list, show, replay")
console = Console(stderr=True)
KINDS = ("dead_letter", "ignored", "all")
REPLAY_MAX_REQUEST_BYTES = 64 * 1024 * 1024  # originals may exceed the dead-letter bound; the broker has the last word


def _kind(kind: str) -> str | None:
    if kind not in KINDS:
        console.print(f"[bold red]error:[/] unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
        raise typer.Exit(code=2)
    return None if kind == "all" else kind


def _current(settings: Settings) -> list[dict[str, Any]]:
    from adapters.kafka_bus import read_topic
    from ingest.dead_letter import latest_letters
    from orderrepo.bootstrap import topic_map

    return latest_letters(read_topic(settings.resolved_kafka_servers(), topic_map(settings).dead_letter))


def _coordinates(letter: dict[str, Any]) -> str:
    return f"{letter['source_topic']}/{letter['partition']}/{letter['offset']}"


@dlq_app.command("list")
def dlq_list(
    reason: str | None = typer.Option(None, help="only this reason, e.g. malformed_json"),
    channel: str | None = typer.Option(None, help="only this channel, e.g. web"),
    kind: str = typer.Option("dead_letter", help="dead_letter, ignored or all"),
    limit: int = typer.Option(50, min=1, max=10_000, help="at most this many rows"),
) -> None:
    """Current records, newest first, one per source record."""
    from ingest.dead_letter import matching

    found = matching(_current(get_settings()), kind=_kind(kind), reason=reason, channel=channel)
    table = Table("source (topic/partition/offset)", "kind", "reason", "channel", "bytes", "embedded", "detail",
                  title=f"{min(limit, len(found))} of {len(found)} record(s)")
    for letter in found[:limit]:
        table.add_row(_coordinates(letter), letter.get("kind", "dead_letter"), letter["reason"],
                      letter.get("channel") or "-", str(letter.get("size_bytes") or 0),
                      "yes" if letter.get("original_embedded", letter.get("original") is not None) else "no",
                      (letter.get("detail") or "")[:120])
    Console(width=200).print(table)


def _find(coordinates: str) -> dict[str, Any]:
    from adapters.bus_records import parse_coordinates

    try:
        parse_coordinates(coordinates)
    except ValueError as error:
        console.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(code=2) from error
    letter = next((x for x in _current(get_settings()) if _coordinates(x) == coordinates), None)
    if letter is None:
        console.print(f"[bold red]error:[/] no dead-letter or ignored record for {coordinates}")
        raise typer.Exit(code=1)
    return letter


@dlq_app.command("show")
def dlq_show(coordinates: str = typer.Argument(..., help="source topic/partition/offset")) -> None:
    """One record by its source coordinates, with the excerpt of the original."""
    letter = _find(coordinates)
    table = Table("field", "value", show_header=False)
    for field in ("kind", "reason", "detail", "location", "channel", "source_topic", "partition", "offset",
                  "timestamp_ms", "size_bytes", "sha256", "original_embedded"):
        table.add_row(field, str(letter.get(field)))
    table.add_row("key", repr(letter.get("key")))
    out = Console(width=200)
    out.print(table)
    out.print(Panel(letter.get("excerpt") or "", title="excerpt", expand=False), markup=False)


@dlq_app.command("replay")
def dlq_replay(
    coordinates: list[str] = typer.Argument(None, help="source topic/partition/offset of each record"),
    reason: str | None = typer.Option(None, help="every current dead letter with this reason"),
    channel: str | None = typer.Option(None, help="every current dead letter of this channel"),
) -> None:
    """Re-publish originals to their channel topics (e.g. after a decoder fix) and resolve their records."""
    from ingest.dead_letter import matching

    if not coordinates and reason is None and channel is None:
        console.print("[bold red]error:[/] name records by coordinates, or choose --reason and/or --channel")
        raise typer.Exit(code=2)
    chosen = ([_find(c) for c in coordinates] if coordinates
              else matching(_current(get_settings()), reason=reason, channel=channel))
    replayed = _replay(get_settings(), chosen)
    console.print(f"replayed {replayed} of {len(chosen)} record(s)")
    raise typer.Exit(code=0 if replayed == len(chosen) else 1)


def _replay(settings: Settings, letters: list[dict[str, Any]]) -> int:
    from adapters.bus_records import OutgoingRecord
    from adapters.kafka_bus import read_record
    from ingest.dead_letter import original_matches
    from orderrepo.bootstrap import record_sink, topic_map

    sink, replayed = record_sink(settings, max_request_bytes=REPLAY_MAX_REQUEST_BYTES), 0
    try:
        for letter in letters:
            original = letter.get("original")
            if original is None:
                found = read_record(settings.resolved_kafka_servers(), letter["source_topic"],
                                    letter["partition"], letter["offset"])
                original = found.value if found is not None else None
            if original is None or not original_matches(letter, original):
                console.print(f"{_coordinates(letter)}: the original is gone or changed; not replayed")
                continue
            sink.send([OutgoingRecord(topic=letter["source_topic"], key=letter.get("key"), value=original)])
            sink.send([OutgoingRecord(topic=topic_map(settings).dead_letter,
                                      key=_coordinates(letter).encode(), value=None)])
            replayed += 1
    finally:
        sink.close()
    return replayed
