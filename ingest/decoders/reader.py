"""The one error every channel adapter raises, plus the typed field readers that raise it.

Role: pure helpers shared by the adapters. The ingest worker sends anything an
adapter rejects to the dead-letter topic, so an adapter must fail with exactly
one exception type, `ChannelDecodeError`, that says *what* is wrong
(`reason`, a short machine-readable slug) and *where* (`location`, a JSON path
such as ``payload.line_items[2].quantity`` or an XPath). The readers below turn
every wrong type, missing field or bad value into that error, so adapter code
never lets a `KeyError`, `TypeError` or pydantic `ValidationError` escape.

Reasons used: malformed_json, malformed_xml, hostile_xml, bad_encoding,
too_deeply_nested, unsupported_format, payload_too_large, unknown_topic (also
unknown operation), api_error (an SP-API error response), missing_field,
invalid_type, invalid_value, invalid_timestamp, unexpected_error (a decoder
defect, caught by `shielded`). IgnoredPayload reasons: test_notification,
no_money_moved (Shopify); no_orders, no_refund_events (Amazon);
control_transaction, tender_control_transaction, training_transaction,
suspended_transaction, not_a_retail_transaction, no_transaction (POSLog).

Normalisation rules shared by all adapters:
- timestamps are converted to UTC, so equal instants always serialise
  identically whatever offset the channel used; one without an offset is read
  in the time zone the caller passes (POS stores), else rejected;
- money is a `Decimal` parsed from a string or a JSON number (a number is read
  through its shortest decimal text, so 19.99 stays 19.99, never a binary float);
- counts are integers, or strings/numbers holding an integral value ("2", 2.0);
- `version_of(t)` = milliseconds since the Unix epoch, the source version used
  when a channel has no version counter of its own.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]  # the escaper json.dumps uses
from typing import Any, NoReturn, ParamSpec, TypeVar

import orjson
from pydantic import TypeAdapter, ValidationError

from order_domain.model import CustomerIdentity, Money, OrderChange

MAX_PAYLOAD_BYTES = 5_000_000
MAX_QUANTITY = 1_000_000
_MONEY = TypeAdapter(Money)
_NESTING = re.compile(r"depth limit|recursion limit", re.IGNORECASE)
_P = ParamSpec("_P")
_T = TypeVar("_T")


class ChannelDecodeError(ValueError):
    """A payload a channel adapter cannot turn into canonical changes (goes to the dead-letter topic)."""

    def __init__(self, source: str, reason: str, location: str, detail: str) -> None:
        self.source = source
        self.reason = reason
        self.location = location or "$"
        self.detail = detail
        super().__init__(f"{source}: {detail} at {self.location} ({reason})")


class IgnoredPayload(Exception):
    """A well-formed document that carries no order (a POSLog control or tender-only
    transaction, a Shopify test notification). Not an error: the worker counts it and
    records it as ignored, with the reason slug, instead of dead-lettering it."""

    def __init__(self, source: str, reason: str, detail: str) -> None:
        self.source = source
        self.reason = reason
        self.detail = detail
        super().__init__(f"{source}: {detail} ({reason})")


def join(at: str, key: str | int) -> str:
    """Extend a JSON path: ``join("payload", "id")`` -> ``payload.id``; ints become ``[i]``."""
    if isinstance(key, int):
        return f"{at}[{key}]"
    return f"{at}.{key}" if at else key


def version_of(moment: datetime) -> int:
    """Epoch milliseconds: a monotonic version for sources that only carry a timestamp."""
    return int(moment.timestamp() * 1000)


def digest(*parts: object) -> str:
    """A stable short hash used for deterministic event ids (replays hash to the same id).

    The hashed text is `json.dumps([str(part), ...])` (ASCII, ", " between items), written with
    the string escaper `json.dumps` itself uses, without the encoder set-up around it: the same
    bytes, so ids never change (a replay across an upgrade must not duplicate timeline entries).
    """
    text = "[" + ", ".join([encode_basestring_ascii(str(part)) for part in parts]) + "]"
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:32]


def canonical_json(value: Any) -> str:
    """Key-sorted JSON of a decoded document, so equal content hashes equally: the text of
    `json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)`, which event ids
    hash, so it must never change.

    `value` is a document `Reader.load_json` parsed, or part of one (JSON types only, finite
    numbers). For those orjson writes the same text but for two things: it keeps non-ASCII
    characters (and DEL) as they are, where `json.dumps` escapes them (done here afterwards,
    the same way), and it writes a float below 1e-4 in full or with a short exponent
    (`_SHORT_FLOAT` sends those to the reference path). A value orjson cannot write (an integer
    past 64 bits, a non-string key, a lone surrogate, anything that needs `default`) takes the
    reference path too. tests/unit/test_event_id_identity.py checks the equality on generated
    values, the corpora and sample traffic.
    """
    try:
        fast = orjson.dumps(value, default=_refuse, option=_FAST_JSON)
    except TypeError:  # orjson.JSONEncodeError: not a value the fast path is proven for
        fast = None
    if fast is None or ((b"e-" in fast or b"0.0000" in fast) and _SHORT_FLOAT.search(fast) is not None):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    text = fast.decode("utf-8")
    return text if text.isascii() and "\x7f" not in text else _WIDE_CHARACTER.sub(_ascii_escape, text)


_FAST_JSON = (orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
              | orjson.OPT_PASSTHROUGH_SUBCLASS)
_SHORT_FLOAT = re.compile(rb"(?:^|[:,\[])-?\d+(?:\.\d+)?e-\d|0\.0000")  # a number (alone or in a container), not text like a UUID's "de-"
_WIDE_CHARACTER = re.compile(r"[^\x00-\x7e]")


def _ascii_escape(found: re.Match[str]) -> str:
    """What `json.dumps` (ensure_ascii) writes for one character past ASCII or DEL: \\uXXXX, a
    UTF-16 surrogate pair above U+FFFF (only ever inside a JSON string, where orjson left it)."""
    code = ord(found.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}"


def _refuse(value: Any) -> NoReturn:
    raise TypeError(f"{type(value).__name__} is not written by the fast path")


class Reader:
    """Typed access to decoded payload values; every failure names the source, the reason and the path."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._guard = _Guard(self)

    def fail(self, reason: str, location: str, detail: str) -> NoReturn:
        raise ChannelDecodeError(self.source, reason, location, detail)

    def load_json(self, payload: bytes) -> Any:
        """Parse JSON bytes; NaN/Infinity, bad UTF-8 and absurd nesting are rejected, not crashed on."""
        if not isinstance(payload, (bytes, bytearray)):
            self.fail("unsupported_format", "$", f"payload must be bytes, got {type(payload).__name__}")
        if len(payload) > MAX_PAYLOAD_BYTES:
            self.fail("payload_too_large", "$", f"payload exceeds {MAX_PAYLOAD_BYTES} bytes")
        try:  # orjson refuses NaN/Infinity, invalid UTF-8 and nesting deeper than 1024 by itself
            return orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            reason = "too_deeply_nested" if _NESTING.search(str(exc)) else "malformed_json"
            self.fail(reason, "$", f"payload is not valid JSON: {str(exc)[:200]}")

    def mapping(self, value: Any, at: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail("invalid_type", at, f"expected an object, got {_kind(value)}")
        return value

    def field(self, obj: dict[str, Any], key: str, at: str, *, required: bool = False) -> Any:
        """The raw value of `key`; JSON null counts as absent."""
        value = obj.get(key)
        if value is None and required:
            self.fail("missing_field", join(at, key), f"required field {key!r} is missing")
        return value

    def objects(self, obj: dict[str, Any], key: str, at: str) -> list[tuple[str, dict[str, Any]]]:
        """Items of a list of objects, each with its own path; an absent list is empty."""
        value = obj.get(key)
        if not value:
            if value is None or isinstance(value, list):
                return []
        if not isinstance(value, list):
            self.fail("invalid_type", join(at, key), f"expected a list, got {_kind(value)}")
        path = join(at, key)
        found = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                self.fail("invalid_type", f"{path}[{i}]", f"expected an object, got {_kind(item)}")
            found.append((f"{path}[{i}]", item))
        return found

    def text(self, obj: dict[str, Any], key: str, at: str, *, required: bool = False) -> str | None:
        """A string field, stripped; blank strings count as absent (channels send "" for unknown)."""
        value = obj.get(key)  # (`field`, inlined: the readers are the decoders' innermost loop)
        if value is None:
            return self.field(obj, key, at, required=required)
        if not isinstance(value, str):
            self.fail("invalid_type", join(at, key), f"expected a string, got {_kind(value)}")
        value = value.strip()
        if not value and required:
            self.fail("missing_field", join(at, key), f"required field {key!r} is empty")
        return value or None

    def ident(self, obj: dict[str, Any], key: str, at: str, *, required: bool = False) -> str | None:
        """An identifier given as a non-negative integer or a short token string."""
        value = obj.get(key)
        if value is None:
            return self.field(obj, key, at, required=required)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**30:
            return str(value)
        if isinstance(value, str) and 0 < len(stripped := value.strip()) <= 128 and stripped.isprintable():
            return stripped
        self.fail("invalid_value", join(at, key), f"expected an id (integer or short string), got {_kind(value)}")

    def integer(self, obj: dict[str, Any], key: str, at: str, *, required: bool = False) -> int | None:
        """A count between 0 and MAX_QUANTITY, as a JSON integer or an integral string/number ("2", 2.0)."""
        value = obj.get(key)
        if type(value) is int and 0 <= value <= MAX_QUANTITY:  # the usual case: no error path is built
            return value
        if value is None:
            return self.field(obj, key, at, required=required)
        location = join(at, key)
        return self.count_value(self.whole(value, location), location)

    def whole(self, value: Any, location: str) -> int:
        """An integral value (sign kept) from an int, an integral float or a decimal string."""
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            self.fail("invalid_type", location, f"expected an integer, got {_kind(value)}")
        if isinstance(value, int):
            return value
        number = self.money_value(str(value), location)
        if number != number.to_integral_value():
            self.fail("invalid_value", location, f"expected a whole number, got {str(value)[:40]!r}")
        return int(number)

    def count_value(self, value: int, location: str) -> int:
        if value < 0:
            self.fail("invalid_value", location, f"quantity must not be negative, got {value}")
        if value > MAX_QUANTITY:
            self.fail("invalid_value", location, f"quantity {value} exceeds {MAX_QUANTITY}")
        return value

    def money(self, obj: dict[str, Any], key: str, at: str, *, required: bool = False) -> Decimal | None:
        value = obj.get(key)
        if value is None:
            return self.field(obj, key, at, required=required)
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.fail("invalid_type", join(at, key), f"expected a decimal amount, got {_kind(value)}")
        amount = _amount(repr(value) if isinstance(value, float) else str(value))
        if isinstance(amount, str):  # the path is only built for the error
            self.fail("invalid_value", join(at, key), amount)
        return amount

    def money_value(self, raw: str, location: str) -> Decimal:
        """A finite decimal with at most 14 digits and 4 decimal places (the canonical Money)."""
        amount = _amount(raw)
        if isinstance(amount, str):
            self.fail("invalid_value", location, amount)
        return amount

    def timestamp(self, obj: dict[str, Any], key: str, at: str, *, required: bool = False) -> datetime | None:
        value = obj.get(key)
        if value is None:
            return self.field(obj, key, at, required=required)
        if not isinstance(value, str):
            self.fail("invalid_type", join(at, key), f"expected an ISO-8601 timestamp string, got {_kind(value)}")
        moment = _utc_moment(value)
        return moment if moment is not None else self._checked_timestamp(value, join(at, key), None)

    def timestamp_value(self, raw: str, location: str, *, local_tz: tzinfo | None = None) -> datetime:
        """ISO-8601 converted to UTC. Without an offset it is read in `local_tz` (a store's
        configured zone); with neither, or before 1970, it is rejected."""
        if (moment := _utc_moment(raw)) is not None:  # the usual case: no error text prepared
            return moment
        return self._checked_timestamp(raw, location, local_tz)

    def _checked_timestamp(self, raw: str, location: str, local_tz: tzinfo | None) -> datetime:
        """The unusual timestamp (no offset, out of range, malformed): read in `local_tz` or refused
        with the reason; reached only after `_utc_moment` said no, so it is parsed once more, not twice."""
        try:
            moment = datetime.fromisoformat(raw.strip())
        except ValueError:
            self.fail("invalid_timestamp", location, f"not an ISO-8601 timestamp: {raw[:40]!r}")
        if moment.tzinfo is None or moment.utcoffset() is None:
            if local_tz is None:
                self.fail("invalid_timestamp", location,
                          f"timestamp {raw[:40]!r} has no timezone offset and no time zone is configured")
            moment = moment.replace(tzinfo=local_tz)
        try:
            moment = moment.astimezone(UTC)
        except (OverflowError, ValueError):
            self.fail("invalid_timestamp", location, f"timestamp {raw[:40]!r} is out of range")
        if moment.year < 1970:
            self.fail("invalid_timestamp", location, f"timestamp {raw[:40]!r} is before 1970")
        return moment

    def build(self, **fields: Any) -> OrderChange:
        """Construct the canonical change; a model violation becomes a ChannelDecodeError."""
        try:
            return OrderChange(**fields)
        except ValidationError as exc:
            self.rejected(exc)

    def guard(self) -> _Guard:
        """A `with` block in which a canonical-model ValidationError becomes a ChannelDecodeError."""
        return self._guard

    def rejected(self, exc: ValidationError) -> NoReturn:
        """The ChannelDecodeError of a value the canonical model refused (its first error, located)."""
        error = exc.errors()[0]
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"])
        self.fail("invalid_value", f"{exc.title}{path}", f"canonical model rejected the value: {error['msg']}")


class _Guard:
    """`Reader.guard`: a plain context manager (one per reader), as it wraps every message."""

    __slots__ = ("reader",)

    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, _trace: Any) -> None:
        if isinstance(exc, ValidationError):
            self.reader.rejected(exc)


def customer_identity(**fields: str | None) -> CustomerIdentity | None:
    """The customer the fields name, or None when every one is absent (the model is then not built)."""
    for value in fields.values():
        if value is not None:
            return CustomerIdentity(**fields)
    return None


def shielded(source: str) -> Callable[[Callable[_P, _T]], Callable[_P, _T]]:
    """Make a decoder total: whatever goes wrong inside becomes a ChannelDecodeError.

    The two outcomes a decoder may raise (ChannelDecodeError, IgnoredPayload) pass
    through; deep nesting, bad encodings and any defect are turned into a reason
    slug, so one message can never stop the worker.
    """

    def wrap(decoder: Callable[_P, _T]) -> Callable[_P, _T]:
        @functools.wraps(decoder)
        def decode(*args: _P.args, **kwargs: _P.kwargs) -> _T:
            try:
                return decoder(*args, **kwargs)
            except (ChannelDecodeError, IgnoredPayload):
                raise
            except RecursionError:
                raise ChannelDecodeError(source, "too_deeply_nested", "$", "document nesting is too deep") from None
            except UnicodeError as exc:
                raise ChannelDecodeError(source, "bad_encoding", "$", f"cannot decode text: {str(exc)[:200]}") from None
            except ValidationError as exc:
                detail = f"canonical model rejected: {str(exc)[:200]}"
                raise ChannelDecodeError(source, "invalid_value", "$", detail) from None
            except Exception as exc:  # noqa: BLE001 - the whole point: no message may crash ingest
                detail = f"decoder failed: {type(exc).__name__}: {str(exc)[:200]}"
                raise ChannelDecodeError(source, "unexpected_error", "$", detail) from None

        return decode

    return wrap


@functools.lru_cache(maxsize=8192)
def _amount(raw: str) -> Decimal | str:
    """`raw` as a canonical Money, or what is wrong with it (prices and totals repeat: cached)."""
    if len(raw) > 64:
        return "amount is longer than 64 characters"
    try:
        amount = Decimal(raw.strip())
    except InvalidOperation:
        return f"not a decimal amount: {raw[:40]!r}"
    if not amount.is_finite():
        return f"amount must be finite, got {raw[:40]!r}"
    try:
        return _MONEY.validate_python(amount)
    except ValidationError:
        return f"amount {raw[:40]!r} exceeds 14 digits / 4 decimals"


@functools.lru_cache(maxsize=8192)
def _utc_moment(raw: str) -> datetime | None:
    """The usual timestamp (ISO-8601 with an offset, 1970 or later) in UTC, with no error text
    prepared; None sends it to `Reader.timestamp_value`, which says what is wrong. Cached: an
    order's events repeat its timestamps (created_at, updated_at), and a datetime is immutable."""
    try:
        moment = datetime.fromisoformat(raw.strip())
        if moment.utcoffset() is None:
            return None
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return moment if moment.year >= 1970 else None


def _kind(value: Any) -> str:
    """JSON-ish name of a value's type for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number" if not isinstance(value, float) or math.isfinite(value) else "non-finite number"
    return {dict: "object", list: "array", str: "string"}.get(type(value), type(value).__name__)
