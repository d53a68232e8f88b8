"""Shared by the channel adapter tests: fixtures, arbitrary JSON, and the clean-rejection check."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hypothesis import strategies as st

from ingest.decoders import ChannelDecodeError, IgnoredPayload
from order_domain.model import OrderChange

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "decoders"
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def decodes_or_rejects(decode: Callable[[bytes], list[OrderChange]], payload: bytes) -> None:
    """Bad input may only raise ChannelDecodeError (saying what and where) or IgnoredPayload (with a reason)."""
    try:
        result = decode(payload)
    except ChannelDecodeError as error:
        assert error.reason and error.location
    except IgnoredPayload as ignored:
        assert ignored.reason
    else:
        assert all(isinstance(change, OrderChange) for change in result)
