"""Canonical adapter: the repository's own change event (`OrderChange` as JSON). Pure decoder.

This is the documented ingest contract for systems without a native format of
their own (call center, B2B/wholesale, the mobile app): the Kafka message is an
`OrderChange` serialised as JSON, or a JSON array of them (a batch). The
producer owns ``event_id`` (stable across retries), ``order_id`` (global id) and
``source_version``; nothing is derived here.

Validation is pydantic's, strict as the model is (unknown fields are rejected,
timestamps must carry an offset). A `ValidationError` becomes a
`ChannelDecodeError` whose location is the JSON path of the first offending
field (``[1].lines[0].quantity`` for a batch). ``occurred_at`` and
``placed_at`` are normalised to UTC so equal instants always serialise alike.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ingest.decoders.options import DEFAULT_OPTIONS, DecoderOptions
from ingest.decoders.reader import MAX_PAYLOAD_BYTES, Reader, shielded
from order_domain.model import OrderChange

SOURCE = "canonical"
_R = Reader(SOURCE)
_PAYLOAD = TypeAdapter(OrderChange | list[OrderChange])
_ONE = TypeAdapter(OrderChange)
_REASONS = {
    "json_invalid": "malformed_json",
    "json_type": "malformed_json",
    "missing": "missing_field",
    "extra_forbidden": "unknown_field",
    "model_type": "invalid_type",
    "model_attributes_type": "invalid_type",
    "list_type": "invalid_type",
    "string_type": "invalid_type",
    "int_type": "invalid_type",
    "decimal_type": "invalid_type",
    "datetime_type": "invalid_type",
    "datetime_parsing": "invalid_timestamp",
    "datetime_from_date_parsing": "invalid_timestamp",
}


@shielded(SOURCE)
def decode(payload: bytes, options: DecoderOptions = DEFAULT_OPTIONS) -> list[OrderChange]:
    """Validate one canonical change (or a batch) and return it with UTC timestamps (no options apply)."""
    if not isinstance(payload, (bytes, bytearray)):
        _R.fail("unsupported_format", "$", f"payload must be bytes, got {type(payload).__name__}")
    if len(payload) > MAX_PAYLOAD_BYTES:
        _R.fail("payload_too_large", "$", f"payload exceeds {MAX_PAYLOAD_BYTES} bytes")
    try:
        parsed = _parse(bytes(payload))
    except ValidationError as exc:
        _R.fail(*_describe(exc))
    changes = parsed if isinstance(parsed, list) else [parsed]
    return [_to_utc(change) for change in changes]


def _parse(payload: bytes) -> OrderChange | list[OrderChange]:
    """A single change (the usual message) is validated as one, without trying the union's
    branches; a batch, or anything that fails, goes through the union, so what is refused is
    refused with the union's own report (its errors name the branch, see `_most_specific`)."""
    if payload.lstrip(b" \t\n\r")[:1] == b"{":
        try:
            return _ONE.validate_json(payload)
        except Exception:  # noqa: BLE001 - said again by the union below, exactly as before
            pass
    return _PAYLOAD.validate_json(payload)


def _describe(exc: ValidationError) -> tuple[str, str, str]:
    """(reason, location, detail) of the most specific error pydantic reported."""
    errors = exc.errors(include_url=False)
    error = _most_specific(errors)
    location = _path(error["loc"])
    reason = _REASONS.get(error["type"], "invalid_value")
    if error["type"] == "json_invalid" and "recursion limit" in str(error["msg"]):
        reason = "too_deeply_nested"
    if error["type"] == "value_error" and "timezone" in str(error["msg"]):
        reason = "invalid_timestamp"
    return reason, location, str(error["msg"])[:300]


def _most_specific(errors: list[Any]) -> Any:
    """A union of object-or-list reports both branches; prefer the branch that matches the input's shape."""
    for error in errors:
        if error["type"] == "json_invalid":
            return error
    object_errors = [e for e in errors if e["loc"][:1] == ("OrderChange",)]
    list_errors = [e for e in errors if e["loc"][:1] == ("list[OrderChange]",)]
    only_shape = [e for e in object_errors if e["type"] in ("model_type", "model_attributes_type")]
    chosen = list_errors if only_shape and list_errors else object_errors or list_errors or errors
    return chosen[0]


def _path(loc: tuple[Any, ...]) -> str:
    """pydantic loc -> JSON path, without the union branch label."""
    parts = [p for p in loc if p not in ("OrderChange", "list[OrderChange]")]
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)
    return path.lstrip(".") or "$"


def _to_utc(change: OrderChange) -> OrderChange:
    if change.occurred_at.tzinfo is UTC and (change.placed_at is None or change.placed_at.tzinfo is UTC):
        return change  # the model normalised both already (no copy of every change)
    update: dict[str, Any] = {"occurred_at": change.occurred_at.astimezone(UTC)}
    if change.placed_at is not None:
        update["placed_at"] = change.placed_at.astimezone(UTC)
    return change.model_copy(update=update)
