"""A soak: mixed ingest at a steady rate with concurrent API traffic from all three roles.

Reports, per minute, the API's p50/p99 and error count, the consumer lag, and for
every process its peak memory and the slope of its memory over the run (a leak shows
as a slope that does not fall with a longer run). Traffic goes to 127.0.0.1 only and
every loop is bounded by the run's duration.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from chaos import stack_control
from chaos.drill import lag, wait_ready
from chaos.processes import Child, slope_mb_per_min
from chaos.publisher import SteadyPublisher
from ingest.topics import TopicMap
from query_api.auth import Role, issue_token
from sample_traffic import generate
from settings import Settings

SOAK_SECRET = "soak-only-secret-not-for-production-0123456789"


@dataclass
class MinuteStats:
    minute: int
    requests: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    max_lag: int = 0

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms) or [0.0]
        return {"minute": self.minute, "requests": self.requests, "errors": self.errors, "max_lag": self.max_lag,
                "p50_ms": round(statistics.median(ordered), 2),
                "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2)}


@dataclass
class SoakReport:
    seconds: float
    messages: int
    minutes: list[dict[str, Any]]
    memory: dict[str, dict[str, float]]
    drained_s: float | None  # seconds the worker needed to catch up once publishing stopped (None: never)

    @property
    def errors(self) -> int:
        return sum(minute["errors"] for minute in self.minutes)


@dataclass
class Soak:
    settings: Settings
    workdir: Path
    seconds: float = 60.0
    rate: float = 30.0
    clients: int = 4
    api_port: int = 28100
    seed: int = 17

    def run(self) -> SoakReport:
        env = {**stack_control.process_env(self.settings), "ORDERREPO_API_TOKEN_SECRET": SOAK_SECRET}
        worker = Child("worker", ["ingest", "run"], env, self.workdir / "soak-worker.log")
        api = Child("api", ["api", "--port", str(self.api_port)], env, self.workdir / "soak-api.log")
        topics = TopicMap.build(self.settings.topic_prefix, self.settings.channel_topics,
                                self.settings.dead_letter_topic)
        messages = generate(orders=int(self.seconds * self.rate), seed=self.seed)  # more than the run needs
        publisher = SteadyPublisher(servers=self.settings.resolved_kafka_servers(), topics=topics,
                                    messages=messages, rate=self.rate)
        try:
            worker.start()
            api.start()
            wait_ready(self.api_port, api)
            publisher.start()
            started = time.monotonic()
            minutes = asyncio.run(self._load(started, worker, api, topics))
            publisher.stopping.set()
            publisher.join(30)
            sent = publisher.sent
            drained = self._drain(topics, worker)
        finally:  # a soak that fails half-way leaves no process behind
            publisher.stopping.set()
            for child in (worker, api):
                child.stop()
        memory = {child.name: {"peak_mb": max((m for _, m in child.rss_samples), default=0) / 1e6,
                               "slope_mb_per_min": slope_mb_per_min(child.rss_samples)} for child in (worker, api)}
        return SoakReport(seconds=time.monotonic() - started, messages=sent,
                          minutes=[m.summary() for m in minutes], memory=memory, drained_s=drained)

    def _drain(self, topics: TopicMap, worker: Child, timeout_s: float = 300) -> float | None:
        """Lag is bounded when the worker catches up once the traffic stops."""
        began = time.monotonic()
        while time.monotonic() - began < timeout_s and worker.alive():
            if lag(self.settings, topics) == 0:
                return time.monotonic() - began
            time.sleep(1)
        return None

    async def _load(self, started: float, worker: Child, api: Child, topics: TopicMap) -> list[MinuteStats]:
        minutes: list[MinuteStats] = []
        tokens = _tokens()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.api_port}", timeout=10) as client:
            watcher = asyncio.create_task(self._watch(started, worker, api, topics, minutes))
            await asyncio.gather(*(self._client(client, tokens, started, minutes, i) for i in range(self.clients)))
            watcher.cancel()
        return minutes

    async def _client(self, client: httpx.AsyncClient, tokens: dict[Role, str], started: float,
                      minutes: list[MinuteStats], index: int) -> None:
        rng = random.Random(self.seed + index)
        while (elapsed := time.monotonic() - started) < self.seconds:
            role, path = _pick_request(rng)
            began = time.perf_counter()
            try:
                answer = await client.get(path, headers={"Authorization": f"Bearer {tokens[role]}"})
                failed = answer.status_code >= 500
            except httpx.HTTPError:
                failed = True
            stats = _minute(minutes, int(elapsed // 60))
            stats.requests += 1
            stats.errors += failed
            stats.latencies_ms.append((time.perf_counter() - began) * 1000)

    async def _watch(self, started: float, worker: Child, api: Child, topics: TopicMap,
                     minutes: list[MinuteStats]) -> None:
        while True:
            worker.sample_rss(started)
            api.sample_rss(started)
            current = await asyncio.to_thread(lag, self.settings, topics)
            stats = _minute(minutes, int((time.monotonic() - started) // 60))
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
