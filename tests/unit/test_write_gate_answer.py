"""The write gate's one `_mget` answer: found documents kept, a missing index is an empty read,
any other per-document error fails the batch (so the worker backs off instead of admitting it)."""

from __future__ import annotations

import pytest

from adapters.search_engine import EngineError
from retention.write_gate import found_documents


def test_found_documents_keep_only_what_was_found() -> None:
    docs = [{"_index": "loc", "_id": "o1", "found": True, "_source": {"tier": "warm"}},
            {"_index": "loc", "_id": "o2", "found": False}]

    assert found_documents(docs) == [docs[0]]


def test_a_document_of_a_missing_index_is_not_found_rather_than_an_error() -> None:
    docs = [{"_index": "tombstones", "_id": "order:o1",
             "error": {"type": "index_not_found_exception", "reason": "no such index [tombstones]"}},
            {"_index": "loc", "_id": "o1", "found": True, "_source": {"tier": "cold"}}]

    assert found_documents(docs) == [docs[1]]


def test_any_other_per_document_error_fails_the_batch_with_the_document_named() -> None:
    docs = [{"_index": "loc", "_id": "o1", "found": True, "_source": {"tier": "hot"}},
            {"_index": "tombstones", "_id": "order:o9", "error": {"type": "no_shard_available_action_exception"}}]

    with pytest.raises(EngineError, match="tombstones/order:o9"):
        found_documents(docs)
