"""The interleaved query bench: turn order, pairing, statistics, recording and replay (no servers)."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest

from adapters.engine.operations import Call
from bench import replay
from bench.paired import PairedSamples, drive_paired, paired_difference, side_figures, summarize, turn_order
from bench.query_bench import level_total, measure_paired, per_side, requests_needed


def test_turn_order_rotates_the_first_side_with_the_input() -> None:
    sides = ["api", "engine", "pg_api", "pg_direct"]
    assert [turn_order(sides, i) for i in range(5)] == [
        ["api", "engine", "pg_api", "pg_direct"], ["engine", "pg_api", "pg_direct", "api"],
        ["pg_api", "pg_direct", "api", "engine"], ["pg_direct", "api", "engine", "pg_api"],
        ["api", "engine", "pg_api", "pg_direct"]]
    assert [turn_order(["a", "b"], i)[0] for i in range(4)] == ["a", "b", "a", "b"]


def _logging_sides(log: list[tuple[str, int]], names: list[str]) -> dict[str, Any]:
    def side(name: str) -> Any:
        async def call(i: int) -> None:
            log.append((name, i))
            await asyncio.sleep(0)
        return call
    return {name: side(name) for name in names}


def test_one_client_sends_every_input_to_every_side_back_to_back_in_turn_order() -> None:
    log: list[tuple[str, int]] = []
    samples = asyncio.run(drive_paired(_logging_sides(log, ["api", "engine"]), concurrency=1, total=5))
    assert log == [(side, i) for i in range(5) for side in turn_order(["api", "engine"], i)]
    assert set(samples.latencies) == {"api", "engine"}
    assert all(len(values) == 5 and all(v >= 0 and not math.isnan(v) for v in values)
               for values in samples.latencies.values())
    assert samples.concurrency == 1


def test_many_clients_still_send_each_input_once_per_side() -> None:
    log: list[tuple[str, int]] = []
    asyncio.run(drive_paired(_logging_sides(log, ["api", "engine", "pg_api"]), concurrency=8, total=50))
    assert sorted(log) == sorted((side, i) for i in range(50) for side in ("api", "engine", "pg_api"))


def test_a_failing_side_fails_the_measurement() -> None:
    async def broken(i: int) -> None:
        raise RuntimeError(f"side answered 500 for input {i}")

    async def fine(i: int) -> None:
        return None

    with pytest.raises(RuntimeError, match="input 0"):
        asyncio.run(drive_paired({"api": fine, "engine": broken}, concurrency=1, total=3))


def test_paired_difference_takes_percentiles_of_the_per_input_differences() -> None:
    api = [float(10 + i) for i in range(101)]  # 10 .. 110
    engine = [float(i) for i in range(101)]  # 0 .. 100: every difference is exactly 10
    assert paired_difference(api, engine) == {"p50": 10.0, "p95": 10.0, "p99": 10.0, "mean": 10.0}
    # the difference of the percentiles would be 10 too here, but not when the slow inputs differ by side
    api_b = [1.0] * 99 + [100.0, 1.0]
    engine_b = [1.0] * 100 + [100.0]
    assert paired_difference(api_b, engine_b) == {"p50": 0.0, "p95": 0.0, "p99": 0.0, "mean": 0.0}
    differences = [float(d) for d in range(-50, 51)]  # 101 values
    assert paired_difference(differences, [0.0] * 101) == {"p50": 0.0, "p95": 45.0, "p99": 49.0, "mean": 0.0}


def test_paired_difference_refuses_unpaired_samples() -> None:
    with pytest.raises(ValueError, match="3 vs 2"):
        paired_difference([1.0, 2.0, 3.0], [1.0, 2.0])


def test_side_figures_rate_alone_by_littles_law_and_rate_shared() -> None:
    samples = PairedSamples({"api": [4.0, 6.0, 5.0, 5.0], "engine": [1.0, 1.0, 2.0, 4.0]}, seconds=0.5, concurrency=8)
    assert side_figures(samples, "api") == {"p50": 5.0, "p95": 6.0, "p99": 6.0, "qps": 1600.0, "qps_shared": 8.0}
    assert side_figures(samples, "engine") == {"p50": 2.0, "p95": 4.0, "p99": 4.0, "qps": 4000.0, "qps_shared": 8.0}


def test_summarize_pairs_only_sides_that_ran() -> None:
    samples = PairedSamples({"api": [3.0, 5.0], "engine": [1.0, 2.0]}, seconds=1.0, concurrency=1)
    summary = summarize(samples, (("api", "engine"), ("pg_api", "pg_direct")))
    assert list(summary["differences"]) == ["api-engine"]
    assert summary["differences"]["api-engine"] == {"p50": 2.0, "p95": 3.0, "p99": 3.0, "mean": 2.5}
    assert summary["clients"] == 1 and summary["requests_per_side"] == 2
    assert summary["sides"]["engine"]["p99"] == 2.0


def test_measure_paired_keeps_the_one_phase_shape_per_side() -> None:
    log: list[tuple[str, int]] = []
    sides = {"api": {"history_page": _logging_sides(log, ["api"])["api"]},
             "engine": {"history_page": _logging_sides(log, ["engine"])["engine"]}}
    paired = asyncio.run(measure_paired(sides, levels=(1, 2), per_level=12))
    assert set(paired["history_page"]) == {"1", "2"}
    assert paired["history_page"]["2"]["requests_per_side"] == 20  # at least 10 per client
    api = per_side(paired, "api")
    assert set(api["history_page"]["1"]) == {"p50", "p95", "p99", "qps", "qps_shared"}
    assert len(log) == 2 * (40 + 12 + 20)  # warm-up + both levels, each input on both sides


def test_inputs_needed_cover_the_largest_level() -> None:
    assert level_total(32, 50) == 320 and level_total(1, 50) == 50
    assert requests_needed((1, 8, 32), 50) == 320
    assert requests_needed((1,), 10) == 40  # the warm-up's


class _RecordingApp:
    """A minimal ASGI app whose handler hands one store request per path segment to the recorder."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        for part in scope["path"].strip("/").split("/"):
            replay._keep(Call("POST", f"/{part}/_search", body={"q": scope["query_string"].decode()}))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


def test_record_keeps_each_inputs_store_requests_and_nothing_from_outside_a_request() -> None:
    async def scenario() -> replay.Recorded:
        stop = asyncio.Event()

        async def background_writer() -> None:  # like the audit writer: started before any request
            while not stop.is_set():
                replay._keep(Call("POST", "/_bulk"))
                await asyncio.sleep(0)

        writer = asyncio.create_task(background_writer())
        requests = {"timeline": lambda i: (f"/orders/o{i}", {"n": i}, {}), "sales": lambda i: ("/sales", {}, {})}
        recorded = await replay.record(_RecordingApp(), requests, {"timeline": 3, "sales": 1})
        stop.set()
        await writer
        return recorded

    recorded = asyncio.run(scenario())
    assert [[(c.path, c.body) for c in calls] for calls in recorded["timeline"]] == [
        [("/orders/_search", {"q": f"n={i}"}), (f"/o{i}/_search", {"q": f"n={i}"})] for i in range(3)]
    assert [[c.path for c in calls] for calls in recorded["sales"]] == [["/sales/_search"]]
    assert replay.describe(recorded) == {"timeline": ["POST /orders/_search", "POST /o0/_search"],
                                         "sales": ["POST /sales/_search"]}


def test_replay_sends_the_recorded_requests_of_input_i_in_order_cycling_over_the_inputs() -> None:
    sent: list[str] = []

    class Client:
        async def send(self, call: Call[Any]) -> None:
            sent.append(call.path)

    recorded = {"timeline": [[Call("POST", "/_msearch"), Call("POST", "/events/_search")], [Call("POST", "/b")]]}
    calls = replay.engine_replay(Client(), recorded)  # type: ignore[arg-type]
    for i in range(3):
        asyncio.run(calls["timeline"](i))
    assert sent == ["/_msearch", "/events/_search", "/b", "/_msearch", "/events/_search"]


def test_the_overhead_target_reads_the_paired_differences_when_the_sides_ran_interleaved() -> None:
    from bench.targets import QUERIES, checks_of

    level = {"p50": 5.0, "p95": 8.0, "p99": 9.0, "qps": 100.0}
    run: dict[str, Any] = {"api": {q: {"1": level, "8": level} for q in QUERIES},
                           "engine": {q: {"1": {**level, "p50": 1.0}, "8": level} for q in QUERIES},
                           "paired": {q: {c: {"differences": {"api-engine": {"p50": 1.2, "p95": 2.0, "p99": 3.5,
                                                                             "mean": 1.4}}} for c in ("1", "8")}
                                      for q in QUERIES}}
    checks = {c["target"]: c for c in checks_of(run)}
    one = checks["API overhead p50 ≤ 1.5 ms at 1 client(s): csr_search"]
    # the paired median (1.2), not the difference of the medians (5.0 − 1.0 = 4.0)
    assert (one["measured"], one["ratio"], one["holds"]) == ("+1.2 ms (paired, p99 of the differences +3.5 ms)",
                                                             0.8, True)


def test_each_side_is_measured_alone_at_its_level() -> None:
    in_flight = {"api": 0, "engine": 0}
    peak = {"api": 0, "engine": 0, "all": 0}

    def side(name: str):
        async def call(i: int) -> None:
            in_flight[name] += 1
            peak[name] = max(peak[name], in_flight[name])
            peak["all"] = max(peak["all"], sum(in_flight.values()))
            await asyncio.sleep(0.002)
            in_flight[name] -= 1
        return call

    asyncio.run(drive_paired({"api": side("api"), "engine": side("engine")}, concurrency=4, total=40))
    assert peak == {"api": 4, "engine": 4, "all": 4}  # each side at its level, alone
    peak.update(api=0, engine=0, all=0)
    asyncio.run(drive_paired({"api": side("api"), "engine": side("engine")}, concurrency=1, total=5))
    assert peak == {"api": 1, "engine": 1, "all": 1}


def test_sides_take_turns_block_by_block_the_first_side_rotating() -> None:
    log: list[tuple[str, int]] = []
    asyncio.run(drive_paired(_logging_sides(log, ["api", "engine"]), concurrency=2, total=40))  # blocks of 16
    sides_in_order = [side for side, _ in log]
    assert sides_in_order == ["api"] * 16 + ["engine"] * 16 + ["engine"] * 16 + ["api"] * 16 + ["api"] * 8 + ["engine"] * 8
    assert sorted(i for side, i in log[:16]) == list(range(16)) == sorted(i for side, i in log[16:32])
