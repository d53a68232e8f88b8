"""An in-memory `OrderStore` with the engine's write semantics, for unit tests without servers.

What it honours (and `tests/contract/test_order_store_contract.py` checks on the fake
and the real engines alike):
- `create` of an existing id fails with 409 `version_conflict_engine_exception`;
- `index` with `if_seq_no`/`if_primary_term` fails with 409 unless they match the
  stored document (a missing document never matches);
- every write takes the index's next `_seq_no` (one shard: one counter), `_primary_term` is 1;
- `delete` of a missing id answers 404 `not_found` without an error body;
- `mget` answers only found documents, with `_source`, `_seq_no` and `_primary_term`;
- `bulk` yields one `BulkItemResult` per action; like the client's bulk helper, items
  refused with 429 (retried there, still refused) come after the others.
Faults are injected with `refuse(...)`: matching actions get the given status.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from adapters.search_engine import BulkItemResult

PRIMARY_TERM = 1


def _stored_form(source: dict[str, Any]) -> dict[str, Any]:
    """A copy of the document; a pre-encoded JSON value (`orjson.Fragment`) is stored decoded, as the
    engine stores the text it was sent."""
    return copy.deepcopy({key: orjson.loads(orjson.dumps(value)) if isinstance(value, orjson.Fragment) else value
                          for key, value in source.items()})


@dataclass
class _Stored:
    source: dict[str, Any]
    seq_no: int
    version: int


@dataclass
class _Refusal:
    where: Callable[[dict[str, Any]], bool]
    status: int
    error_type: str
    reason: str
    times: int | None


class InMemoryOrderStore:
    """Documents per index; index names are taken literally (an alias is just a name here)."""

    def __init__(self) -> None:
        self._docs: dict[str, dict[str, _Stored]] = {}
        self._next_seq_no: dict[str, int] = {}
        self._refusals: list[_Refusal] = []

    def refuse(self, where: Callable[[dict[str, Any]], bool], *, status: int, error_type: str, reason: str,
               times: int | None = None) -> None:
        """Bulk actions for which `where(action)` holds fail with `status` (`times` times; None = always)."""
        self._refusals.append(_Refusal(where, status, error_type, reason, times))

    def documents(self, index: str) -> dict[str, dict[str, Any]]:
        """The stored sources of `index` by id (copies), for assertions."""
        return {doc_id: copy.deepcopy(doc.source) for doc_id, doc in self._docs.get(index, {}).items()}

    def mget(self, index: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        stored = self._docs.get(index, {})
        return {doc_id: self._hit(index, doc_id, stored[doc_id]) for doc_id in ids if doc_id in stored}

    def aliases_of(self, alias: str) -> list[str]:
        return [alias]

    def bulk(
        self, actions: Iterable[dict[str, Any]], *, chunk_size: int = 1000, max_retries: int = 5,
        refresh: bool | str = False,
    ) -> Iterator[BulkItemResult]:
        results = [self._apply(action) for action in actions]
        yield from [r for r in results if r.status != 429] + [r for r in results if r.status == 429]

    @staticmethod
    def _hit(index: str, doc_id: str, doc: _Stored) -> dict[str, Any]:
        return {"_index": index, "_id": doc_id, "_version": doc.version, "_seq_no": doc.seq_no,
                "_primary_term": PRIMARY_TERM, "found": True, "_source": copy.deepcopy(doc.source)}

    def _apply(self, action: dict[str, Any]) -> BulkItemResult:
        op, index, doc_id = action.get("_op_type", "index"), action["_index"], str(action["_id"])
        if (refusal := self._refusal_for(action)) is not None:
            return _failed(op, index, doc_id, refusal.status, refusal.error_type, refusal.reason)
        docs = self._docs.setdefault(index, {})
        current = docs.get(doc_id)
        if op == "delete":
            if current is None:
                return BulkItemResult(ok=False, op=op, index=index, doc_id=doc_id, status=404, error=None)
            del docs[doc_id]
            self._take_seq_no(index)
            return BulkItemResult(ok=True, op=op, index=index, doc_id=doc_id, status=200, error=None)
        if op not in ("index", "create"):
            raise ValueError(f"the fake order store does not do {op!r} actions")
        if (conflict := _conflict(op, doc_id, current, action)) is not None:
            return _failed(op, index, doc_id, 409, "version_conflict_engine_exception", conflict)
        version = 1 if current is None else current.version + 1
        docs[doc_id] = _Stored(_stored_form(action["_source"]), self._take_seq_no(index), version)
        return BulkItemResult(ok=True, op=op, index=index, doc_id=doc_id, status=201 if current is None else 200,
                              error=None, seq_no=docs[doc_id].seq_no, primary_term=PRIMARY_TERM)

    def _refusal_for(self, action: dict[str, Any]) -> _Refusal | None:
        for refusal in self._refusals:
            if refusal.times != 0 and refusal.where(action):
                if refusal.times is not None:
                    refusal.times -= 1
                return refusal
        return None

    def _take_seq_no(self, index: str) -> int:
        seq_no = self._next_seq_no.get(index, 0)
        self._next_seq_no[index] = seq_no + 1
        return seq_no


def _conflict(op: str, doc_id: str, current: _Stored | None, action: dict[str, Any]) -> str | None:
    """The engine's reason for a 409, or None when the write may go ahead."""
    if op == "create" and current is not None:
        return f"[{doc_id}]: version conflict, document already exists (current version [{current.version}])"
    if "if_seq_no" not in action and "if_primary_term" not in action:
        return None
    wanted = (action.get("if_seq_no"), action.get("if_primary_term"))
    if current is None:
        return f"[{doc_id}]: version conflict, required seqNo [{wanted[0]}], primary term [{wanted[1]}]. but no document was found"
    if wanted != (current.seq_no, PRIMARY_TERM):
        return (f"[{doc_id}]: version conflict, required seqNo [{wanted[0]}], primary term [{wanted[1]}]. "
                f"current document has seqNo [{current.seq_no}] and primary term [{PRIMARY_TERM}]")
    return None


def _failed(op: str, index: str, doc_id: str, status: int, error_type: str, reason: str) -> BulkItemResult:
    return BulkItemResult(ok=False, op=op, index=index, doc_id=doc_id, status=status, error=f"{error_type}: {reason}")
