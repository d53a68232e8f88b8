"""Bulk requests as bytes: the action shape the ports speak, encoded once into `_bulk` bodies (pure).

The write path sends every document it makes through `_bulk`, and the client libraries' bulk
helpers spent more CPU on each item than the item's own serialisation: a copy of each action,
each line encoded to text, then back to bytes twice (to measure it, and again for the request),
the whole body joined as text and encoded once more. Here each action becomes its two NDJSON lines
as bytes in one pass (the document written by orjson with the same `default` as the clients'
serialisers, so the engine receives the same document bytes), bodies are cut by item count and
by size, and the answer is asked only for what the results need (`ANSWER_FIELDS`). Both engines'
shells send them as one request each (`shells.SearchEngine.bulk`).

Accepted actions (the bulk helpers' shape): `_op_type` (index, create, update, delete; index by
default), `_index`, `_id`, guards and options with or without a leading underscore (`if_seq_no`,
`if_primary_term`, `routing`, `retry_on_conflict`, `version`, `version_type`, `pipeline`), and the
document as `_source` or as the remaining keys (an update's `doc`, `script`, `upsert`...).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from adapters.engine.dialects import orjson_default

# what a bulk answer needs to hold for `model.bulk_item_result` (and a refused request's error): the
# engine writes, and the worker reads, half the bytes (no `_version`, `result`, `_shards` per item)
ANSWER_FIELDS = ",".join([*(f"items.*.{key}" for key in ("_index", "_id", "status", "error", "_seq_no",
                                                          "_primary_term")), "error", "status"])

# action metadata: the key in an action -> its name in the bulk action line
_META = {
    "_id": "_id", "_index": "_index", "_if_seq_no": "if_seq_no", "_if_primary_term": "if_primary_term",
    "_routing": "routing", "_retry_on_conflict": "retry_on_conflict", "_version": "version",
    "_version_type": "version_type", "if_seq_no": "if_seq_no", "if_primary_term": "if_primary_term",
    "routing": "routing", "retry_on_conflict": "retry_on_conflict", "version": "version",
    "version_type": "version_type", "pipeline": "pipeline",
}


@dataclass
class BulkChunk:
    """One request's body and, per item, its action line and document line (None for a delete), so
    items the engine asks to retry (429) can be sent again without encoding them again."""

    lines: list[tuple[bytes, bytes | None]] = field(default_factory=list)
    size: int = 0

    def body(self) -> bytes:
        return b"".join(action + document if document is not None else action for action, document in self.lines)


def encoded(action: dict[str, Any]) -> tuple[bytes, bytes | None]:
    """The action's two NDJSON lines (newline included); the second is None for a delete."""
    op = action.get("_op_type", "index")
    meta: dict[str, Any] = {}
    rest: dict[str, Any] = {}
    for key, value in action.items():
        name = _META.get(key)
        if name is not None:
            meta[name] = value
        elif key != "_op_type":
            rest[key] = value
    head = orjson.dumps({op: meta}, default=orjson_default) + b"\n"
    if op == "delete":
        return head, None
    document = rest["_source"] if "_source" in rest else rest
    return head, orjson.dumps(document, default=orjson_default) + b"\n"


def chunks(actions: Iterable[dict[str, Any]], *, chunk_size: int, max_bytes: int) -> Iterator[BulkChunk]:
    """Bodies of at most `chunk_size` items and about `max_bytes` (an item larger than that goes alone)."""
    chunk = BulkChunk()
    for action in actions:
        lines = encoded(action)
        size = len(lines[0]) + (len(lines[1]) if lines[1] is not None else 0)
        if chunk.lines and (len(chunk.lines) >= chunk_size or chunk.size + size > max_bytes):
            yield chunk
            chunk = BulkChunk()
        chunk.lines.append(lines)
        chunk.size += size
    if chunk.lines:
        yield chunk


def failed_items(chunk: BulkChunk, *, status: int, error: str) -> list[dict[str, Any]]:
    """The items of a request that got no per-item answer (the engine refused or never answered the
    whole request), each failed with that status, in the answer's item shape."""
    items = []
    for head, _ in chunk.lines:
        op, meta = next(iter(orjson.loads(head).items()))
        items.append({op: {"_index": meta.get("_index"), "_id": meta.get("_id"), "status": status, "error": error}})
    return items


def succeeded(item: dict[str, Any]) -> bool:
    """Whether one answer item (`{op: {...}}`) says written (2xx); no status counts as a failure."""
    status = next(iter(item.values())).get("status", 500)
    return isinstance(status, int) and 200 <= status < 300
