"""The engine adapter's value types and its one error hierarchy (pure: no client, no I/O).

Every engine answer the rest of the code sees is one of these: an `EngineInfo` from
detection, a `BulkItemResult` per bulk item, or an `EngineError` subclass (the two
client libraries' exceptions never leave the adapter).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from adapters.engine.capabilities import Capabilities

_NUMBERS = re.compile(r"(\d+)")


class EngineKind(StrEnum):
    OPENSEARCH = "opensearch"
    ELASTICSEARCH = "elasticsearch"


class EngineError(RuntimeError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"engine answered {status}: {message}")
        self.status = status


class EngineUnavailable(EngineError):
    pass


class NotFound(EngineError):
    pass


class Conflict(EngineError):
    pass


def error_for_status(status: int, message: str) -> EngineError:
    """404 and 409 get their own classes: callers treat them as answers, not failures."""
    cls = {404: NotFound, 409: Conflict}.get(status, EngineError)
    return cls(status, message[:2000])


@dataclass(frozen=True)
class EngineInfo:
    kind: EngineKind
    version: str
    url: str
    capabilities: Capabilities = Capabilities()

    @property
    def release(self) -> tuple[int, int]:
        """(major, minor) of the server's version; (0, 0) when it did not say."""
        major, minor = ([int(number) for number in re.findall(r"\d+", self.version)[:2]] + [0, 0])[:2]
        return major, minor


@dataclass(frozen=True)
class EngineConfig:
    url: str
    username: str | None = None
    password: str | None = None
    verify_certs: bool = True
    timeout_s: float = 30.0
    http_compress: bool = False
    warm_attribute: str | None = None  # `name=value` of warm nodes (allocation.NodeAttribute); None = off

    def auth(self) -> tuple[str, str] | None:
        return (self.username, self.password or "") if self.username else None


@dataclass(frozen=True)
class BulkItemResult:
    ok: bool
    op: str
    index: str
    doc_id: str
    status: int
    error: str | None
    seq_no: int | None = None  # the written version's guard, when the engine says (the writer's cache)
    primary_term: int | None = None


def classify_root_answer(answer: dict[str, Any], url: str) -> EngineInfo:
    """OpenSearch says `version.distribution: opensearch` in its `GET /` answer; Elasticsearch does not."""
    version = answer.get("version") or {}
    kind = EngineKind.OPENSEARCH if version.get("distribution") == "opensearch" else EngineKind.ELASTICSEARCH
    return EngineInfo(kind=kind, version=str(version.get("number", "unknown")), url=url)


def _status(value: Any) -> int:
    """An item's HTTP status; 0 when the engine never answered (the client reports "N/A":
    the engine went away mid-bulk), which the writer retries like any outage."""
    return value if isinstance(value, int) else int(value) if str(value).isdigit() else 0


def bulk_item_result(ok: bool, item: dict[str, Any]) -> BulkItemResult:
    """One bulk helper item (`{op: {...}}`) as our result; the error shape is the same on every engine."""
    op, detail = next(iter(item.items()))
    error = detail.get("error")
    return BulkItemResult(
        ok=ok, op=op, index=str(detail.get("_index", "")), doc_id=str(detail.get("_id", "")),
        status=_status(detail.get("status")), seq_no=detail.get("_seq_no"), primary_term=detail.get("_primary_term"),
        error=None if error is None else (error if isinstance(error, str) else f"{error.get('type')}: {error.get('reason')}"),
    )


def by_number_in_name(names: list[str]) -> list[str]:
    """Names ordered by the numbers in them, not by their characters: `x-v9` before `x-v10`."""
    def key(name: str) -> tuple[Any, ...]:
        return tuple(int(part) if i % 2 else part for i, part in enumerate(_NUMBERS.split(name)))

    return sorted(names, key=key)
