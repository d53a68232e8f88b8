"""Clock skew: one channel's system stamps its events minutes off the true time. Pure.

Only the canonical-event channels carry a plain `occurred_at` to shift; the drill
skews one of them and computes its ground truth from the skewed stream, because the
store can only know the times the channel reported (README: ordering guarantees).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import orjson

from order_domain.model import Channel
from sample_traffic import TrafficMessage


def skew_channel(messages: Iterable[TrafficMessage], channel: Channel, *, minutes: int) -> list[TrafficMessage]:
    shift = timedelta(minutes=minutes)
    return [replace(m, value=_shifted(m.value, shift)) if m.channel is channel else m for m in messages]


def _shifted(value: bytes, shift: timedelta) -> bytes:
    parsed = orjson.loads(value)
    events = parsed if isinstance(parsed, list) else [parsed]
    for event in events:
        _shift_field(event, "occurred_at", shift)
    return orjson.dumps(parsed)


def _shift_field(event: dict[str, Any], name: str, shift: timedelta) -> None:
    if isinstance(event.get(name), str):
        moved = datetime.fromisoformat(event[name].replace("Z", "+00:00")) + shift
        event[name] = moved.isoformat()
