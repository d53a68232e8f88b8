"""Ports: what the ingest core needs from the outside world, as small structural Protocols.

The real adapters (`adapters.search_engine`, `adapters.kafka_bus`) and the in-memory
fakes used by unit tests both satisfy these without inheriting from them, so the
worker and writer can be exercised without servers and the fakes are checked by
the same contract suite as the real adapters (`tests/contract/`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from adapters.search_engine import BulkItemResult


class OrderStore(Protocol):
    """The current-state and timeline documents, with optimistic concurrency.

    `mget` answers found documents by id, each with `_source`, `_seq_no` and
    `_primary_term`; `bulk` applies index/create/delete actions in the engine's bulk
    action shape (`_op_type`, `_index`, `_id`, `_source`, `if_seq_no`,
    `if_primary_term`) and yields one result per item, matched by `doc_id`.
    """

    def mget(self, index: str, ids: list[str]) -> dict[str, dict[str, Any]]: ...

    def bulk(
        self, actions: Iterable[dict[str, Any]], *, chunk_size: int = 1000, max_retries: int = 5,
        refresh: bool | str = False,
    ) -> Iterator[BulkItemResult]: ...
