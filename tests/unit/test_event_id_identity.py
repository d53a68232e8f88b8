"""Event ids never change across the faster serialisation: `canonical_json` and `digest` give the
exact text of the reference `json.dumps` forms they replaced, on generated JSON values (what
`Reader.load_json` returns: any text, keys and nesting, 64-bit and larger integers, every finite
float), on values only the reference path can write, on the corpora and on sample traffic.
A changed id would make a replay after an upgrade duplicate timeline entries."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.decoders.reader import _FAST_JSON, _SHORT_FLOAT, canonical_json, digest
from sample_traffic import generate

CORPORA = Path(__file__).resolve().parents[1] / "corpora"


def reference_canonical_json(value: Any) -> str:
    """The form event ids were hashed from before the fast path (kept verbatim)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def reference_digest(*parts: object) -> str:
    text = json.dumps([str(part) for part in parts], ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:32]


SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text()
           | st.sampled_from(["\x7f", "\u2028", "é", "\U0001f600", "\x00\x1f", '"\\/', "1e-05", "0.00001"]))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
                    max_leaves=40)


@settings(max_examples=3000, deadline=None)
@given(JSON)
def test_canonical_json_is_the_reference_text_for_any_json_value(value: Any) -> None:
    assert canonical_json(value) == reference_canonical_json(value)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), max_size=8))
def test_every_float_is_written_as_the_reference_writes_it(values: list[float]) -> None:
    assert canonical_json({"x": values}) == reference_canonical_json({"x": values})


@pytest.mark.parametrize("value", [1.192092896e-07, -3e-09, 1e-07, -2.5e-05, 0.0001, 1e22, -0.0])
def test_a_float_alone_is_written_as_the_reference_writes_it(value: float) -> None:
    """A bare number has no delimiter before it (found by the generated test once)."""
    assert canonical_json(value) == reference_canonical_json(value)


@settings(max_examples=1000, deadline=None)
@given(st.lists(JSON | st.datetimes(timezones=st.just(UTC)) | st.decimals(allow_nan=False), max_size=4))
def test_digest_is_the_reference_hash_for_any_parts(parts: list[Any]) -> None:
    assert digest(*parts) == reference_digest(*parts)


@pytest.mark.parametrize("value", [
    {"at": datetime(2026, 3, 1, 12, tzinfo=UTC), "amount": Decimal("19.99")},  # through `default`
    {"big": 2**64, "small": -(2**64)}, {"tiny": 1.5e-05, "exp": 1e-07, "huge": 1e22},
    {"b": "x\u00e9", "a": "\x7f"}, {"k": "line\nbreak\ttab\x01"}, {1: "int key"},
])
def test_values_the_fast_path_leaves_alone_keep_the_reference_text(value: Any) -> None:
    assert canonical_json(value) == reference_canonical_json(value)


def _json_corpus() -> list[Any]:
    documents = [orjson.loads(path.read_bytes()) for channel in ("shopify", "amazon_sp")
                 for path in sorted((CORPORA / channel).iterdir()) if path.name != "EXPECTED.json"
                 if _parses(path.read_bytes())]
    documents += [orjson.loads(message.value) for message in generate(orders=300, seed=5)
                  if message.value[:1] == b"{"]
    return documents


def _parses(payload: bytes) -> bool:
    try:
        orjson.loads(payload)
    except orjson.JSONDecodeError:
        return False
    return True


def test_corpora_and_sample_traffic_hash_to_the_reference_ids() -> None:
    documents = _json_corpus()
    assert len(documents) > 500
    fast = [d for d in documents if _SHORT_FLOAT.search(orjson.dumps(d, option=_FAST_JSON)) is None]
    assert len(fast) > 0.95 * len(documents)  # the comparison below is mostly of the fast path
    assert sum(1 for d in fast if not orjson.dumps(d).isascii()) > 50  # with escaped characters too
    for document in documents:
        text = canonical_json(document)
        assert text == reference_canonical_json(document)
        assert digest("orders/updated", 42, datetime(2026, 1, 1, tzinfo=UTC), text) == reference_digest(
            "orders/updated", 42, datetime(2026, 1, 1, tzinfo=UTC), text)
