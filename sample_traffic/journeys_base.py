"""Shared machinery for journeys: the generator context and a per-journey timeline. Pure.

A journey records what happens as (time, message) pairs; canonical events are
collected per producer and numbered only at the end, in time order, so every
producer's `source_version` grows with time as the contract demands.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sample_traffic.canonical_out import Source, change
from sample_traffic.customers import Customer, company, customer, pick_index
from sample_traffic.messages import Step, TrafficMessage
from order_domain.model import Channel


@dataclass
class Ctx:
    """One generator run: its random stream, pool sizes and the id sequence (ids, not the order budget)."""

    rng: random.Random
    seed: int
    pool: int
    companies: int
    seq: int = 0

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def person(self) -> Customer:
        return customer(self.seed, pick_index(self.rng, self.pool))

    def account(self) -> Customer:
        return company(self.seed, pick_index(self.rng, self.companies))


@dataclass
class Timeline:
    """The messages of one journey, returned sorted by the instant each one happens."""

    journey: str
    steps: list[Step] = field(default_factory=list)
    pending: dict[tuple[Source, Channel], list[tuple[datetime, str, dict[str, Any]]]] = field(default_factory=dict)

    def native(self, at: datetime, channel: Channel, key: str, value: bytes, *, creates: bool = False) -> None:
        self.steps.append(Step(at, TrafficMessage(channel, key.encode(), value, self.journey), creates))

    def canonical(self, src: Source, topic: Channel, at: datetime, kind: str, **fields: Any) -> None:
        self.pending.setdefault((src, topic), []).append((at, kind, fields))

    def finish(self) -> list[Step]:
        for (src, topic), events in self.pending.items():
            events.sort(key=lambda event: event[0])
            for version, (at, kind, fields) in enumerate(events, start=1):
                self.native(at, topic, src.order_id, change(src, version, at, kind, **fields),
                            creates=kind == "created")
        self.pending.clear()
        return sorted(self.steps, key=lambda step: step.at)
