"""A soak: mixed ingest at a steady rate with concurrent API traffic from all three roles.

Reports, per minute, the requests, errors, error rate, p50/p99 latency overall and per
role, and the highest consumer lag seen; for every process its peak memory and the
slope of its memory over the run (a leak shows as a slope that does not fall with a
longer run); every end of a child process. A worker or API that dies on its own ends
the soak early with its exit status and log tail (`failure`). Traffic goes to 127.0.0.1
only and every loop is bounded by the run's duration.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from chaos import stack_control
from chaos.drill import lag, wait_for_topics, wait_ready
from chaos.processes import Child, ChildDied, Fleet
from chaos.publisher import SteadyPublisher
from ingest.topics import TopicMap
from query_api.auth import Role, issue_token
from sample_traffic import generate
from settings import Settings

SOAK_SECRET = "soak-only-secret-not-for-production-0123456789"


@dataclass
class Calls:
    """Requests of one role (or all roles) in one minute."""

    requests: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def add(self, latency_ms: float, *, failed: bool) -> None:
        self.requests += 1
        self.errors += failed
        self.latencies_ms.append(latency_ms)

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)
        return {"requests": self.requests, "errors": self.errors,
                "error_rate": round(self.errors / self.requests, 5) if self.requests else 0.0,
                "p50_ms": percentile(ordered, 0.50), "p99_ms": percentile(ordered, 0.99)}


@dataclass
class MinuteStats:
    minute: int
    every: Calls = field(default_factory=Calls)
    by_role: dict[str, Calls] = field(default_factory=dict)
    max_lag: int = 0

    def add(self, role: Role, latency_ms: float, *, failed: bool) -> None:
        self.every.add(latency_ms, failed=failed)
        self.by_role.setdefault(role.value, Calls()).add(latency_ms, failed=failed)

    def summary(self) -> dict[str, Any]:
        return {"minute": self.minute, **self.every.summary(), "max_lag": self.max_lag,
                "roles": {role: calls.summary() for role, calls in sorted(self.by_role.items())}}


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted values (0.0 for none)."""
    if not ordered:
        return 0.0
    return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)], 2)


@dataclass
class _Load:
    """What the concurrent API clients of one soak share."""

    client: httpx.AsyncClient
    tokens: dict[Role, str]
    started: float
    minutes: list[MinuteStats]
    halt: asyncio.Event = field(default_factory=asyncio.Event)  # set when a child died: the clients stop


@dataclass
class SoakReport:
    seconds: float
    messages: int
    minutes: list[dict[str, Any]]
    memory: dict[str, dict[str, float]]
    drained_s: float | None  # seconds the worker needed to catch up once publishing stopped (None: never)
    exits: list[dict[str, Any]] = field(default_factory=list)
    failure: str | None = None

    @property
    def requests(self) -> int:
        return sum(minute["requests"] for minute in self.minutes)

    @property
    def errors(self) -> int:
        return sum(minute["errors"] for minute in self.minutes)

    @property
    def ok(self) -> bool:
        return (self.failure is None and self.errors == 0 and self.drained_s is not None
                and all(end["caused_by_us"] for end in self.exits))


@dataclass
class Soak:
    settings: Settings
    workdir: Path
    seconds: float = 60.0
    rate: float = 30.0
    clients: int = 4
    api_port: int | None = None  # None: stack_control.api_port (27400 for the default stack)
    seed: int = 17
    failure: str | None = None

    def run(self) -> SoakReport:
        """Always returns the report; `failure` says why the soak ended early."""
        port = self.api_port or stack_control.api_port(self.settings)
        env = {**stack_control.process_env(self.settings), "ORDERREPO_API_TOKEN_SECRET": SOAK_SECRET}
        worker = Child("worker", ["ingest", "run"], env, self.workdir / "soak-worker.log")
        api = Child("api", ["api", "--port", str(port)], env, self.workdir / "soak-api.log")
        fleet, topics = Fleet([worker, api]), TopicMap.from_settings(self.settings)
        publisher = SteadyPublisher(servers=self.settings.resolved_kafka_servers(), topics=topics,
                                    messages=generate(orders=int(self.seconds * self.rate), seed=self.seed),
                                    rate=self.rate)  # more orders than the run needs, generated lazily
        minutes: list[MinuteStats] = []
        drained = None
        try:
            fleet.start()
            wait_for_topics(self.settings, fleet)
            wait_ready(port, api)
            publisher.start()
            asyncio.run(self._load(fleet, topics, minutes, port))
            publisher.stopping.set()
            publisher.join(60)
            drained = None if self.failure else self._drain(topics, fleet)
        except (ChildDied, TimeoutError) as error:
            self.failure = f"{type(error).__name__}: {error}"
        finally:  # a soak that fails half-way leaves no process behind
            publisher.stopping.set()
            fleet.stop()
        return SoakReport(seconds=time.monotonic() - fleet.started, messages=publisher.sent,
                          minutes=[m.summary() for m in minutes], memory=fleet.memory(), drained_s=drained,
                          exits=fleet.exits(), failure=self.failure)

    def _drain(self, topics: TopicMap, fleet: Fleet, timeout_s: float = 300) -> float | None:
        """Lag is bounded when the worker catches up once the traffic stops."""
        began = time.monotonic()
        while time.monotonic() - began < timeout_s:
            fleet.check()
            if lag(self.settings, topics) == 0:
                return time.monotonic() - began
            time.sleep(1)
        return None

    async def _load(self, fleet: Fleet, topics: TopicMap, minutes: list[MinuteStats], port: int) -> None:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            load = _Load(client=client, tokens=_tokens(), started=fleet.started, minutes=minutes)
            watcher = asyncio.create_task(self._watch(fleet, topics, load))
            await asyncio.gather(*(self._client(load, random.Random(self.seed + i)) for i in range(self.clients)))
            watcher.cancel()

    async def _client(self, load: _Load, rng: random.Random) -> None:
        while (elapsed := time.monotonic() - load.started) < self.seconds and not load.halt.is_set():
            role, path = _pick_request(rng)
            began = time.perf_counter()
            try:
                answer = await load.client.get(path, headers={"Authorization": f"Bearer {load.tokens[role]}"})
                failed = answer.status_code >= 500
            except httpx.HTTPError:
                failed = True
            _minute(load.minutes, int(elapsed // 60)).add(role, (time.perf_counter() - began) * 1000, failed=failed)

    async def _watch(self, fleet: Fleet, topics: TopicMap, load: _Load) -> None:
        """Every 5 s: memory of every process, the consumer lag, and whether a child died on its own."""
        while True:
            try:
                fleet.sample()
            except ChildDied as died:
                self.failure = f"ChildDied: {died}"
                load.halt.set()
                return
            current = await asyncio.to_thread(lag, self.settings, topics)
            stats = _minute(load.minutes, int((time.monotonic() - fleet.started) // 60))
            stats.max_lag = max(stats.max_lag, current)
            await asyncio.sleep(5)


def _minute(minutes: list[MinuteStats], index: int) -> MinuteStats:
    while len(minutes) <= index:
        minutes.append(MinuteStats(minute=len(minutes)))
    return minutes[index]


def _tokens() -> dict[Role, str]:
    return {
        Role.STOREFRONT: issue_token(SOAK_SECRET, subject="soak-shopper", role=Role.STOREFRONT,
                                     customer_keys=("email:soak.shopper@example.org",)),
        Role.CSR: issue_token(SOAK_SECRET, subject="soak-csr", role=Role.CSR),
        Role.ANALYST: issue_token(SOAK_SECRET, subject="soak-analyst", role=Role.ANALYST),
    }


def _pick_request(rng: random.Random) -> tuple[Role, str]:
    roll = rng.random()
    if roll < 0.5:
        return Role.STOREFRONT, "/customers/email:soak.shopper@example.org/orders?size=20"
    if roll < 0.85:
        return Role.CSR, f"/search?q={rng.choice(['jeans', 'candle', 'shirt', 'boise', 'ada'])}"
    return Role.ANALYST, "/analytics/sales?interval=day"
