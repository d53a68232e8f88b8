"""Dead-letter and ignored records: why a source record was not ingested, and where it is. Pure.

Every source record the worker does not turn into stored changes ends as one such
record on the dead-letter topic, keyed by its source coordinates
(`topic/partition/offset`), so a replay writes the same key again (the topic is
compacted; readers keep the latest record per key) instead of a duplicate.

Value (JSON), bounded whatever the size of the original:
- kind: `dead_letter` (refused: bad input, decoder crash, engine rejection) or
  `ignored` (a well-formed document that carries no order);
- reason (slug), detail (bounded), location (JSON path / XPath) and channel;
- source_topic, partition, offset, timestamp_ms, key_b64: the pointer to the original;
- size_bytes, sha256 and excerpt (the first bytes, as text);
- original_b64: the full original only when it is at most `embed_max_bytes` and the
  record still fits `record_max_bytes`; otherwise null (`original_embedded` false) and
  the source coordinates point to it (`orderrepo dlq replay` fetches it from there).
The same facts travel as headers so tools can filter without parsing the value.
`decode_or_letter` decides, for one source record, between its changes and its letter.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from adapters.bus_records import ConsumedRecord, OutgoingRecord
from ingest.decoders import DEFAULT_OPTIONS, ChannelDecodeError, DecoderOptions, IgnoredPayload, decode
from ingest.topics import TopicMap
from order_domain.model import OrderChange

DEAD_LETTER = "dead_letter"
IGNORED = "ignored"


@dataclass(frozen=True)
class LetterBounds:
    """Size limits of one record; `record_max_bytes` stays below the producer's max request size."""

    embed_max_bytes: int = 512 * 1024
    excerpt_bytes: int = 2048
    detail_chars: int = 2000
    record_max_bytes: int = 1_048_576 - 64 * 1024


@dataclass(frozen=True)
class DeadLetter:
    reason: str
    detail: str
    location: str | None
    source_topic: str
    partition: int
    offset: int
    timestamp_ms: int | None
    key: bytes | None
    original: bytes | None
    kind: str = DEAD_LETTER
    channel: str | None = None

    @classmethod
    def of(cls, record: ConsumedRecord, *, reason: str, detail: str, location: str | None = None,
           kind: str = DEAD_LETTER, channel: str | None = None) -> DeadLetter:
        return cls(reason=reason, detail=detail, location=location, source_topic=record.topic,
                   partition=record.partition, offset=record.offset, timestamp_ms=record.timestamp_ms,
                   key=record.key, original=record.value, kind=kind, channel=channel)

    @property
    def coordinates(self) -> str:
        return f"{self.source_topic}/{self.partition}/{self.offset}"

    def record_key(self) -> bytes:
        """Deterministic: the same source record always has the same dead-letter key."""
        return self.coordinates.encode()

    def value(self, bounds: LetterBounds = LetterBounds()) -> bytes:
        original = self.original or b""
        fields: dict[str, Any] = {
            "kind": self.kind, "reason": self.reason, "detail": self.detail[: bounds.detail_chars],
            "location": self.location, "channel": self.channel, "source_topic": self.source_topic,
            "partition": self.partition, "offset": self.offset, "timestamp_ms": self.timestamp_ms,
            "key_b64": _b64(self.key[:1024] if self.key is not None else None),
            "size_bytes": len(original) if self.original is not None else None,
            "sha256": hashlib.sha256(original).hexdigest() if self.original is not None else None,
            "excerpt": original[: bounds.excerpt_bytes].decode("utf-8", "backslashreplace"),
            "original_embedded": False, "original_b64": None,
        }
        small = self.original is not None and len(original) <= bounds.embed_max_bytes
        if small:
            embedded = orjson.dumps({**fields, "original_embedded": True, "original_b64": _b64(original)})
            if len(embedded) <= bounds.record_max_bytes:
                return embedded
        return orjson.dumps(fields)

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            ("dlq.kind", self.kind.encode()),
            ("dlq.reason", self.reason.encode()),
            ("dlq.source", self.coordinates.encode()),
        ]

    def to_record(self, topic: str, bounds: LetterBounds = LetterBounds()) -> OutgoingRecord:
        return OutgoingRecord(topic=topic, key=self.record_key(), value=self.value(bounds),
                              headers=tuple(self.headers()))

    @staticmethod
    def parse(value: bytes) -> dict[str, Any]:
        record: dict[str, Any] = orjson.loads(value)
        for field in ("key", "original"):
            encoded = record.get(f"{field}_b64")
            record[field] = base64.b64decode(encoded) if encoded is not None else None
        return record


def decode_or_letter(record: ConsumedRecord, topics: TopicMap,
                     options: DecoderOptions = DEFAULT_OPTIONS) -> list[OrderChange] | DeadLetter:
    """The changes a record carries, or the one letter that says why it carries none.

    Whatever a decoder raises is the message's fault, never the worker's: a
    `ChannelDecodeError` keeps its reason and location, any other exception becomes
    `decoder_crashed` with its type; `IgnoredPayload` and an empty result are `ignored`.
    """
    fmt, channel = topics.format_of(record.topic), topics.channel_of(record.topic)
    name = channel.value if channel is not None else None
    try:
        if fmt is None:
            raise ChannelDecodeError(record.topic, "unknown_topic", "topic", "no channel is mapped to this topic")
        if record.value is None:
            raise ChannelDecodeError(fmt, "empty_message", "value", "message has no value (tombstone)")
        changes = decode(fmt, record.value, options)
    except IgnoredPayload as skip:
        return DeadLetter.of(record, reason=skip.reason, detail=skip.detail, kind=IGNORED, channel=name)
    except ChannelDecodeError as error:
        return DeadLetter.of(record, reason=error.reason, detail=str(error), location=error.location, channel=name)
    except Exception as error:  # noqa: BLE001 - any decoder crash becomes a dead letter, never a worker crash
        return DeadLetter.of(record, reason="decoder_crashed", detail=describe(error), channel=name)
    if not changes:
        return DeadLetter.of(record, reason="no_changes", detail="the document decoded to no order change",
                             kind=IGNORED, channel=name)
    return changes


def describe(error: BaseException) -> str:
    """`Type: message`, bounded; never raises (an exception's own __str__ may)."""
    try:
        message = str(error)[:2000]
    except Exception:  # noqa: BLE001 - a broken __str__ must not turn a dead letter into a crash
        message = "<unprintable>"
    return f"{type(error).__name__}: {message}"


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode() if data is not None else None


def latest_letters(records: Iterable[ConsumedRecord]) -> list[dict[str, Any]]:
    """The current dead-letter records, one per source record, newest first.

    Reading a compacted topic before compaction ran, or after a replay wrote the same
    key again, gives several records per key: the one at the highest offset wins, and
    a tombstone (null value: resolved by `dlq replay`) removes the key.
    """
    latest: dict[bytes, ConsumedRecord | None] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        if record.key is not None:
            latest[record.key] = record if record.value is not None else None
    found = [(record, DeadLetter.parse(record.value)) for record in latest.values()
             if record is not None and record.value is not None]
    found.sort(key=lambda pair: (pair[0].timestamp_ms or 0, pair[0].partition, pair[0].offset), reverse=True)
    return [letter for _, letter in found]


def matching(letters: Iterable[dict[str, Any]], *, kind: str | None = DEAD_LETTER, reason: str | None = None,
             channel: str | None = None) -> list[dict[str, Any]]:
    """The letters of that kind (None: both kinds), reason and channel, in the order given."""
    return [letter for letter in letters
            if (kind is None or letter.get("kind", DEAD_LETTER) == kind)
            and (reason is None or letter.get("reason") == reason)
            and (channel is None or letter.get("channel") == channel)]


def original_matches(letter: dict[str, Any], original: bytes) -> bool:
    """True when `original` is the payload the letter was written for (same sha256)."""
    return letter.get("sha256") == hashlib.sha256(original).hexdigest()
