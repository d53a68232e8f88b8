"""Shared query-parameter types: one definition of a valid instant for every endpoint."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator

EARLIEST_YEAR, LATEST_YEAR = 1970, 2200


def _sane_instant(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a timezone offset, e.g. 2026-03-06T18:00:00Z")
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"must be between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value.astimezone(UTC)


Instant = Annotated[datetime, AfterValidator(_sane_instant)]
