"""The cold tier's row value and the port of its Parquet codec (pure types, no I/O).

Kept apart from the store (`adapters.cold_store`) so the codec (`retention.cold_codec`) and the
mover's copies depend on what a cold order *is*, not on how parts are written and cached.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from adapters.deferred_import import deferred

pa = deferred("pyarrow")


class ColdRow:
    """One cold order: its document and its timeline entries.

    The timeline may be given as a function that computes it: it is then computed on first
    access and kept (a lookup or a history page reads only the document, so decoding a row
    need not build its timeline). Either way the row is the same value: equality compares
    the timeline too. Computing it twice from two threads is harmless (a pure function).
    `derivation` is whatever the codec already recomputed from the row (opaque here: the
    codec may reuse it instead of recomputing; never part of the row's value)."""

    __slots__ = ("order_id", "customer_key", "placed_at", "document", "derivation", "_timeline", "_compute")

    def __init__(self, order_id: str, customer_key: str, placed_at: str | None, document: dict[str, Any],
                 timeline: list[dict[str, Any]] | Callable[[], list[dict[str, Any]]], *,
                 derivation: Any = None) -> None:
        self.order_id, self.customer_key, self.placed_at = order_id, customer_key, placed_at
        self.document, self.derivation = document, derivation
        self._timeline = None if callable(timeline) else timeline
        self._compute = timeline if callable(timeline) else None

    @property
    def timeline(self) -> list[dict[str, Any]]:
        if self._timeline is None:
            self._timeline = self._compute()  # type: ignore[misc]
        return self._timeline

    @property
    def timeline_computed(self) -> bool:
        return self._timeline is not None

    def _value(self) -> tuple[Any, ...]:
        return self.order_id, self.customer_key, self.placed_at, self.document, self.timeline

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ColdRow) and self._value() == other._value()

    __hash__ = None  # type: ignore[assignment]  # a row holds dicts: a value, not a key

    def __repr__(self) -> str:
        timeline = self._timeline if self._timeline is not None else "<not computed>"
        return (f"ColdRow(order_id={self.order_id!r}, customer_key={self.customer_key!r}, "
                f"placed_at={self.placed_at!r}, document={self.document!r}, timeline={timeline!r})")


class ColdCodec(Protocol):
    """How rows become Parquet records and back; `order_id` and the `sort_by` columns must exist."""

    schema: pa.Schema
    sort_by: tuple[str, ...]
    dictionary_columns: tuple[str, ...]  # Parquet dictionary pages; zstd packs the rest better without
    read_columns: tuple[str, ...]  # all `decode` reads: a read decodes only these columns

    def encode(self, row: ColdRow) -> dict[str, Any]: ...

    def decode(self, record: dict[str, Any]) -> ColdRow: ...
