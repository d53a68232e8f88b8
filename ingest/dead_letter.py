"""Dead-letter records: the original bytes, where they came from, and why they were refused.

Value (JSON): reason (slug), detail (message), location (JSON path / XPath),
source_topic, partition, offset, timestamp_ms, key_b64, original_b64.
The same facts travel as headers so tools can filter without parsing the value.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import orjson


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

    def value(self) -> bytes:
        return orjson.dumps({
            "reason": self.reason, "detail": self.detail, "location": self.location,
            "source_topic": self.source_topic, "partition": self.partition, "offset": self.offset,
            "timestamp_ms": self.timestamp_ms,
            "key_b64": base64.b64encode(self.key).decode() if self.key is not None else None,
            "original_b64": base64.b64encode(self.original).decode() if self.original is not None else None,
        })

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            ("dlq.reason", self.reason.encode()),
            ("dlq.source", f"{self.source_topic}/{self.partition}/{self.offset}".encode()),
        ]

    @staticmethod
    def parse(value: bytes) -> dict[str, object]:
        record = orjson.loads(value)
        for field in ("key", "original"):
            encoded = record.get(f"{field}_b64")
            record[field] = base64.b64decode(encoded) if encoded is not None else None
        return record
