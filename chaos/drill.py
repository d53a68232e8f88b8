"""A fault drill: a sustained multichannel stream, faults injected on a schedule, then the verdict.

The stream is published at a steady rate by `SteadyPublisher` while two ingest
workers (one consumer group) and the API run as real processes on the drill stack.
Faults fire at fixed fractions of the publishing time; after the last message the
drill waits for the group to catch up (committed offsets reach the end offsets),
stops the workers, and judges every stored copy against the independent ground truth.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from kafka import KafkaAdminClient, KafkaConsumer

from chaos import stack_control
from chaos.ground_truth import GroundTruth, Verdict, ground_truth, judge
from chaos.processes import Child, ChildDied, Fleet
from chaos.publisher import SteadyPublisher
from chaos.skew import skew_channel
from chaos.store_reader import stored_copies
from ingest.topics import TopicMap
from order_domain.model import Channel
from sample_traffic import generate
from settings import Settings

KILL_MEMBER = "SIGKILL worker-1 for good: its partitions move"
FAULTS = ("kill-worker", "kill-member", "engine-restart", "kafka-restart", "disk-full", "clock-skew")


@dataclass
class DrillReport:
    faults_injected: list[str] = field(default_factory=list)
    messages: int = 0
    resent: int = 0
    publisher_restarts: int = 0  # the drill's own producer replaced after a round with no acknowledgement
    verdict: Verdict | None = None
    dead_letters: int = 0
    expected_dead_letters: int = 0
    api_while_engine_down: dict[str, Any] = field(default_factory=dict)
    workers_alive_at_end: int = 0
    worker_kills: int = 0
    catch_up_s: float = 0.0
    seconds: float = 0.0
    memory: dict[str, dict[str, float]] = field(default_factory=dict)
    exits: list[dict[str, Any]] = field(default_factory=list)  # every end of every child, ours or not
    failure: str | None = None  # why the drill stopped before its verdict (a child died on its own, ...)

    @property
    def ok(self) -> bool:
        return (self.failure is None and bool(self.verdict and self.verdict.ok)
                and self.dead_letters == self.expected_dead_letters
                and not any(not end["caused_by_us"] for end in self.exits))


class DrillFailed(RuntimeError):
    """The drill could not reach a verdict (its publisher failed, the group never caught up)."""


@dataclass
class Drill:
    settings: Settings
    workdir: Path
    orders: int = 300
    seed: int = 7
    rate: float = 60.0
    faults: tuple[str, ...] = FAULTS
    api_port: int | None = None  # None: stack_control.api_port (27400 for the default stack)
    outage_s: float = 10.0
    log: Callable[[str], None] = print
    report: DrillReport = field(default_factory=DrillReport)

    def run(self) -> DrillReport:
        """Always returns the report; `report.failure` says why when no verdict was reached."""
        messages = list(generate(orders=self.orders, seed=self.seed))
        if "clock-skew" in self.faults:
            messages = skew_channel(messages, Channel.B2B, minutes=7)
            self.report.faults_injected.append("clock-skew: b2b events stamped 7 minutes in the future")
        truth = ground_truth(messages)
        self.report.messages, self.report.expected_dead_letters = len(messages), truth.refused
        port = self.api_port or stack_control.api_port(self.settings)
        env = stack_control.process_env(self.settings)
        workers = [Child(f"worker-{i}", ["ingest", "run"], env, self.workdir / f"worker-{i}.log") for i in (0, 1)]
        api = Child("api", ["api", "--port", str(port)], env, self.workdir / "api.log")
        fleet = Fleet([*workers, api])
        try:
            fleet.start()
            self._stream(messages, fleet, workers=workers, api=api, port=port)
            self._finish(truth, fleet, workers)
        except (ChildDied, DrillFailed, TimeoutError) as error:
            self.report.failure = f"{type(error).__name__}: {error}"
            self.log(f"drill failed: {self.report.failure}")
        finally:  # a drill that fails half-way leaves no process behind
            fleet.stop()
            self.report.seconds = time.monotonic() - fleet.started
            self.report.memory, self.report.exits = fleet.memory(), fleet.exits()
        return self.report

    def _stream(self, messages: list[Any], fleet: Fleet, *, workers: list[Child], api: Child, port: int) -> None:
        """Publish at the steady rate while the faults fire, then wait for the group to catch up."""
        wait_for_topics(self.settings, fleet)
        wait_ready(port, api)
        publisher = SteadyPublisher(servers=self.settings.resolved_kafka_servers(), topics=self._topics(),
                                    messages=messages, rate=self.rate)
        publisher.start()
        try:
            self._inject_faults(publisher, fleet, workers, port, duration=len(messages) / self.rate)
        finally:
            publisher.stopping.set()
            publisher.join()
        if publisher.error:
            raise DrillFailed(f"the drill's own publisher failed, nothing judged: {publisher.error}")
        self.report.resent = publisher.resent
        self.report.publisher_restarts = publisher.producer_restarts
        self._catch_up(fleet)

    def _topics(self) -> TopicMap:
        return TopicMap.from_settings(self.settings)

    def _inject_faults(self, publisher: SteadyPublisher, fleet: Fleet, workers: list[Child], port: int, *,
                       duration: float) -> None:
        started = time.monotonic()
        for at_fraction, name, action in self._schedule(workers, port):
            while time.monotonic() - started < at_fraction * duration:
                fleet.sample()
                time.sleep(0.5)
            self.log(f"fault: {name}")
            action()
            self.report.faults_injected.append(name)
            fleet.check()
        while publisher.is_alive():
            fleet.sample()
            time.sleep(0.5)

    def _schedule(self, workers: list[Child], port: int) -> list[tuple[float, str, Callable[[], None]]]:
        rng = random.Random(self.seed)
        plan: list[tuple[float, str, Callable[[], None]]] = []
        outage = f"{self.outage_s:.0f} s"
        if "kill-worker" in self.faults:
            for at in sorted(rng.uniform(0.05, 0.3) for _ in range(2)):
                plan.append((at, "SIGKILL worker-0, restarted 2 s later",
                             lambda: self._kill_and_restart(workers[0])))
        if "engine-restart" in self.faults:
            plan.append((0.35, f"search engine stopped for {outage}", lambda: self._engine_outage(port)))
        if "kafka-restart" in self.faults:
            plan.append((0.55, f"Kafka broker stopped for {outage}", self._kafka_outage))
        if "disk-full" in self.faults:  # with the member lost meanwhile, when that fault is asked for
            lose = workers[1] if "kill-member" in self.faults else None
            plan.append((0.7, f"disk flood-stage watermark reached for {outage} or more",
                         lambda: self._disk_full(lose)))
        elif "kill-member" in self.faults:
            plan.append((0.85, KILL_MEMBER, workers[1].kill_hard))
        return sorted(plan, key=lambda step: step[0])

    def _kill_and_restart(self, worker: Child) -> None:
        worker.kill_hard()
        time.sleep(2)
        worker.start()

    def _engine_outage(self, port: int) -> None:
        stack_control.stop_server(self.settings, "opensearch")
        time.sleep(2)
        self.report.api_while_engine_down = probe_api(port)
        time.sleep(max(0.0, self.outage_s - 2))
        stack_control.start_again(self.settings)

    def _kafka_outage(self) -> None:
        stack_control.stop_server(self.settings, "kafka")
        time.sleep(self.outage_s)
        stack_control.start_again(self.settings)

    def _disk_full(self, lose: Child | None) -> None:
        """With a member to lose, it is killed once every index is blocked, and the disk stays full
        until its partitions have moved (twice the session timeout): the group rebalances inside
        the polls of the survivor's back-off, as it does after a broker restart."""
        stack_control.flood_stage(self.settings, reached=True)
        hold = self.outage_s
        if lose is not None:
            lose.kill_hard()
            self.report.faults_injected.append(KILL_MEMBER)
            hold = max(hold, 2 * self.settings.consumer_session_timeout_ms / 1000)
        time.sleep(hold)
        stack_control.flood_stage(self.settings, reached=False)

    def _catch_up(self, fleet: Fleet, timeout_s: float = 300) -> None:
        started = time.monotonic()
        while lag(self.settings, self._topics()) > 0:
            fleet.sample()  # a worker that died on its own fails the drill here, with its exit and log
            if time.monotonic() - started > timeout_s:
                raise TimeoutError(f"the consumer group did not catch up in {timeout_s:.0f}s")
            time.sleep(1)
        self.report.catch_up_s = time.monotonic() - started

    def _finish(self, truth: GroundTruth, fleet: Fleet, workers: list[Child]) -> None:
        fleet.check()
        self.report.workers_alive_at_end = sum(worker.alive() for worker in workers)
        self.report.worker_kills = sum(worker.kills for worker in workers)
        fleet.stop()
        copies, lines = stored_copies(self.settings.resolved_engine_url(), self.settings.index_prefix)
        self.report.verdict = judge(truth, copies, lines)
        self.report.dead_letters = topic_size(self.settings, self._topics().dead_letter)


def wait_for_topics(settings: Settings, fleet: Fleet, timeout_s: float = 120) -> None:
    """Until the workers created every topic: a producer would block on the metadata of a missing one."""
    wanted = set(TopicMap.from_settings(settings).all_topics())
    deadline = time.monotonic() + timeout_s
    admin = KafkaAdminClient(bootstrap_servers=settings.resolved_kafka_servers())
    try:
        while not wanted <= set(admin.list_topics()):
            fleet.check()
            if time.monotonic() > deadline:
                raise TimeoutError(f"the workers did not create the topics {sorted(wanted)}")
            time.sleep(0.5)
    finally:
        admin.close()


def wait_ready(port: int, api: Child, timeout_s: float = 120) -> None:
    """The API answers /readyz 200 (or the run stops with the API's exit and its own output)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ended = api.ended()
        if ended is not None:
            raise ChildDied(ended)
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"the API on port {port} did not become ready: {api.log_tail()}")


def probe_api(port: int) -> dict[str, Any]:
    """What the API answers while the engine is down (readiness and a data read)."""
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        ready = client.get("/readyz")
        return {"readyz_status": ready.status_code, "readyz_retry_after": ready.headers.get("retry-after"),
                "readyz_body": ready.text[:300]}


def lag(settings: Settings, topics: TopicMap) -> int:
    """Messages not yet committed by the ingest group, over every channel topic. The reading
    consumer carries the group id only to read its committed offsets: it never subscribes,
    so it never joins the group."""
    consumer = KafkaConsumer(bootstrap_servers=settings.resolved_kafka_servers(), group_id=settings.consumer_group,
                             enable_auto_commit=False)
    try:
        partitions = [tp for topic in topics.source_topics() for tp in _partitions(consumer, topic)]
        ends = consumer.end_offsets(partitions)
        return sum(max(0, end - (consumer.committed(tp) or 0)) for tp, end in ends.items())
    finally:
        consumer.close()


def topic_size(settings: Settings, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=settings.resolved_kafka_servers())
    try:
        partitions = _partitions(consumer, topic)
        return sum(consumer.end_offsets(partitions).values()) - sum(consumer.beginning_offsets(partitions).values())
    finally:
        consumer.close()


def _partitions(consumer: KafkaConsumer, topic: str) -> list[Any]:
    from kafka.structs import TopicPartition

    return [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
